"""Trigger one run on a running orchestrator, follow it and print its summary: the operator's client.

It needs only the orchestrator's HTTP API (`POST /run`, `GET /runs/{id}`), so it works the same on the
embedded local stack, on compose and on a deployed orchestrator (`ORCHESTRATOR_URL`). URLs and errors are
printed without their credentials (`etl_common.urls`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from etl_common.job_cli import EXIT_FAILED, EXIT_OK, EXIT_TRANSIENT
from etl_common.urls import redact, redact_text


def say(message: str) -> None:
    print(message, flush=True)


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
        time.sleep(0.2)
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
    if run["state"] in ("succeeded", "already_loaded"):
        return EXIT_OK
    return EXIT_TRANSIENT if run.get("transient") else EXIT_FAILED
