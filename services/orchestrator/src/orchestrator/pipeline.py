"""`make pipeline`: trigger one run on an orchestrator, follow it, print a summary, exit 0 only on success.

With ORCHESTRATOR_URL set it only triggers and follows a running stack (docker compose, say);
otherwise it starts the embedded local stack (`stack.py`) and stops it afterwards. Environment:
CURSOR_SIM_URL, DUCKDB_PATH (default data/warehouse.duckdb), PIPELINE_DEVELOPERS (default 2),
PIPELINE_SEED_DEVELOPERS (unset; e.g. 2 with 50 developers serves the upstream's default replicated deployment),
WAREHOUSE (duckdb, the default, or snowflake: the SNOWFLAKE_* environment, else a fakesnow emulator),
PIPELINE_TIMEOUT_S (default 1800). URLs are printed without their credentials (`etl_common.urls.redact`).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from etl_common.processes import ProcessStartError
from etl_common.urls import redact, redact_text
from orchestrator.stack import StackOptions, local_stack


def say(message: str) -> None:
    print(message, flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def trigger(url: str) -> str:
    response = httpx.post(url.rstrip("/") + "/run", timeout=30)
    if response.status_code == 409:
        run_id = str(response.json()["detail"]["run_id"])
        say(f"a run is already in progress ({run_id}); following it instead of starting another")
        return run_id
    response.raise_for_status()
    return str(response.json()["run_id"])


def _progress(name: str, step: dict[str, Any]) -> str:
    if name == "extract" and step.get("pages"):
        parts = [
            f"{e} {p} pages, {step['rows'].get(e, 0):,} rows" for e, p in step["pages"].items()
        ]
        return "  extract: " + "; ".join(parts)
    return f"  {name}: {step['state']}" + (
        f" ({step['remote_id']})" if step.get("remote_id") else ""
    )


def follow(url: str, run_id: str, timeout_s: float) -> dict[str, Any]:
    """Poll the run, printing a line whenever something visible changes; bounded by `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    shown: set[str] = set()
    while time.monotonic() < deadline:
        run: dict[str, Any] = httpx.get(f"{url.rstrip('/')}/runs/{run_id}", timeout=10).json()
        for name, step in run["steps"].items():
            line = _progress(name, step)
            if step["state"] != "pending" and line not in shown:
                shown.add(line)
                say(line)
        if run["state"] != "running":
            return run
        time.sleep(0.5)
    raise TimeoutError(f"run {run_id} still running after {timeout_s:.0f} s")


def summarize(run: dict[str, Any], duckdb_path: Path | None) -> None:
    warnings = run.get("warnings") or []
    state = run["state"].upper() + (" WITH WARNINGS" if warnings else "")
    say(f"\npipeline run {run['run_id']}: {state} in {run['seconds_total']:.1f}s")
    if warnings:
        say(f"  warnings: {redact_text('; '.join(warnings))}")
    extract, build = run["steps"].get("extract"), run["steps"]["build"]
    if extract:
        rows = ", ".join(f"{e} {n:,}" for e, n in extract["rows"].items())
        say(
            f"  extract  {extract['state']:<10} {extract['seconds'] or 0:6.1f}s  rows: {rows}; "
            f"{extract['requests']} requests"
        )
    counts: dict[str, int] = build.get("counts") or {}
    tests = sum(n for k, n in counts.items() if k.startswith(("test:", "unit_test:")))
    passed = sum(n for k, n in counts.items() if k in ("test:pass", "unit_test:pass"))
    nodes = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
    say(
        f"  build    {build['state']:<10} {build['seconds'] or 0:6.1f}s  raw load + dbt build"
        + (f" ({nodes})" if nodes else "")
    )
    if counts:
        say(f"  tests passed: {passed}/{tests}")
    for step in (extract, build):
        if step and step.get("error"):
            say(f"  error: {redact_text(step['error'])}")
    for name, link in run["links"].items():
        if name in ("manifest", "build_result", "record"):
            say(f"  {name}: {link}")
    if duckdb_path is not None:
        db = duckdb_path.resolve()
        say(f"warehouse: {db}")
        say(
            f"query it:  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{db}', "
            "read_only=True).sql('select * from mart.velocity order by week desc limit 10'))\""
        )


def run_once(url: str, duckdb_path: Path | None, timeout_s: float) -> int:
    t0 = time.monotonic()
    run_id = trigger(url)
    say(f"run {run_id} started on {redact(url)}")
    run = follow(url, run_id, timeout_s)
    summarize(run, duckdb_path)
    say(f"wall time: {time.monotonic() - t0:.1f}s from trigger")
    return 0 if run["state"] in ("succeeded", "already_loaded") else 1


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    t0 = time.monotonic()
    timeout_s = float(os.environ.get("PIPELINE_TIMEOUT_S", "1800"))
    duckdb_path = Path(os.environ.get("DUCKDB_PATH", "data/warehouse.duckdb"))
    warehouse = os.environ.get("WAREHOUSE", "duckdb").lower()
    if warehouse not in ("duckdb", "snowflake"):
        say(f"WAREHOUSE must be duckdb or snowflake, not {warehouse!r}")
        return 2
    try:
        if url := os.environ.get("ORCHESTRATOR_URL"):
            say(
                f"ORCHESTRATOR_URL is set: triggering and following {redact(url)} "
                "(nothing is started)"
            )
            return run_once(url, None, timeout_s)
        opts = StackOptions(
            duckdb_path=duckdb_path,
            work_dir=Path("data/.pipeline"),
            developers=int(os.environ.get("PIPELINE_DEVELOPERS", "2")),
            seed_developers=int(seed)
            if (seed := os.environ.get("PIPELINE_SEED_DEVELOPERS"))
            else None,
            warehouse=warehouse,
        )
        with local_stack(opts, say) as url:
            say(f"stack ready in {time.monotonic() - t0:.1f}s")
            code = run_once(url, duckdb_path if warehouse == "duckdb" else None, timeout_s)
        say(f"stopped every process this command started; total {time.monotonic() - t0:.1f}s")
        return code
    except KeyboardInterrupt:
        say("interrupted; every process this command started was stopped")
        return 130
    except (ProcessStartError, RuntimeError, TimeoutError, httpx.HTTPError) as exc:
        say(f"pipeline failed: {type(exc).__name__}: {redact_text(str(exc))}")
        say("every process this command started was stopped; logs: data/.pipeline/logs/")
        return 1
