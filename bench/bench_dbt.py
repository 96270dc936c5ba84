"""The dbt step four ways, on the same manifest, beside the plain `dbt build` CLI from the same run.

At each scale (default 2 and 50 developers, 90 days, seed 42) one load is written as the loader writes it,
then timed, each on its own copy of the warehouse:
- baseline: `dbt build` from the CLI with a fresh target dir (what the dbt-runner used to do every time:
  import dbt, parse from scratch, every node, unit tests included), over raw already loaded;
- job, first ever: `python -m dbt_runner run` in a fresh work dir, nothing parsed beforehand;
- job, cold from the image: the same in a fresh work dir seeded by `python -m dbt_runner parse` (as the
  image does at build time, DBT_RUNNER_SHIPPED_STATE);
- service, first and second run: `python -m dbt_runner serve`, once warm (its "dbt warm" log line), then
  `POST /runs` twice (the second with force, as the next load would be).
The job and service times include verifying the manifest and loading raw; the baseline's does not.

    .venv/bin/python bench/bench_dbt.py [--developers 2,50] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

# the repository root, for tests.local_load and tests.service_harness (what the tests use)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl_common.layout import new_load_id
from etl_common.records import to_arrow
from etl_common.schemas import ENTITIES
from fake_cursor_sim.data import generate
from tests.local_load import write_local_load
from tests.service_harness import run_service, wait_for, wait_for_log

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt"
DBT = Path(sys.executable).with_name("dbt")
GOALS = {"service, second run": 0.4, "job, cold from the image": 0.7}


def write_load(bucket: Path, developers: int) -> tuple[Path, int]:
    dataset = generate(developers, 90, 42)
    tables = {
        e: to_arrow(e, getattr(dataset, e), load_id="bench", extracted_at_ns=0) for e in ENTITIES
    }
    manifest = write_local_load(
        bucket,
        new_load_id(),
        tables,
        extracted_at=datetime.now(UTC),
        source_url="bench",
        compression="zstd",
    )
    return manifest, sum(t.num_rows for t in tables.values())


THREADS = {"DBT_RUNNER_THREADS": "2"}


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "DUCKDB_"))}
    return {**clean, **THREADS, **extra}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return seconds, proc.stdout


def job(manifest: Path, work: Path, **extra: str) -> tuple[float, dict[str, Any]]:
    env = _env(
        DUCKDB_PATH=str(work / "warehouse.duckdb"), DBT_RUNNER_WORK_DIR=str(work / "dbt"), **extra
    )
    seconds, out = timed(
        [sys.executable, "-m", "dbt_runner", "run", "--manifest", str(manifest)], env
    )
    return seconds, json.loads(out.splitlines()[-1])


def image_state(work: Path) -> Path:
    """What the image's build step leaves: `python -m dbt_runner parse` into its own work dir, for the
    DuckDB path the job will use (the image's is fixed, /data/warehouse.duckdb)."""
    env = _env(DUCKDB_PATH=str(work / "warehouse.duckdb"), DBT_RUNNER_WORK_DIR=str(work / "image"))
    timed([sys.executable, "-m", "dbt_runner", "parse", "--target", "dev"], env)
    return work / "image" / "state"


def cli_build(db: Path, work: Path) -> float:
    env = _env(DUCKDB_PATH=str(db))
    dirs = ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    project = ["--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT)]
    threads = ["--threads", THREADS["DBT_RUNNER_THREADS"]]
    return timed([str(DBT), "build", *project, "--target", "dev", *threads, *dirs], env)[0]


def service_runs(manifest: Path, work: Path) -> list[tuple[float, dict[str, Any]]]:
    work.mkdir(parents=True)
    log = work / "service.log"
    env = {
        "DUCKDB_PATH": str(work / "warehouse.duckdb"),
        "DBT_RUNNER_WORK_DIR": str(work / "dbt"),
        **THREADS,
    }
    with run_service("dbt_runner", env, log) as url:
        wait_for_log(log, lambda line: line.get("message", "").startswith("dbt warm"), 180)
        runs = []
        for force in (False, True):
            t0 = time.monotonic()
            started = httpx.post(
                url + "/runs", json={"manifest_uri": str(manifest), "force": force}, timeout=30
            ).json()
            body = wait_for(
                f"{url}/runs/{started['build_id']}", lambda b: b["state"] != "running", 900
            )
            runs.append((time.monotonic() - t0, body["result"]))
    return runs


def _kinds(result: dict[str, Any]) -> str:
    if result.get("state") != "succeeded":
        raise SystemExit(f"build did not succeed: {result.get('error')}")
    dbt = result["dbt"]
    steps = ", ".join(f"{k} {v:.1f}" for k, v in result["timings_s"].items())
    return f"parse {dbt['parse']}, {len(dbt['nodes'])} nodes; s: {steps}"


def scale(developers: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp:
        root = Path(tmp)
        manifest, rows = write_load(root / "bucket", developers)
        first_s, first = job(manifest, root / "first")
        cold_s, cold = job(
            manifest, root / "cold", DBT_RUNNER_SHIPPED_STATE=str(image_state(root / "cold"))
        )
        baseline_db = root / "baseline" / "warehouse.duckdb"
        baseline_db.parent.mkdir()
        shutil.copyfile(root / "first" / "warehouse.duckdb", baseline_db)
        baseline_s = cli_build(baseline_db, root / "baseline")
        service = service_runs(manifest, root / "service")
    rows_out = [
        ("baseline: dbt build CLI, fresh target", baseline_s, "parse full, unit tests included"),
        ("job, first ever", first_s, _kinds(first)),
        ("job, cold from the image", cold_s, _kinds(cold)),
        ("service, first run (warm)", service[0][0], _kinds(service[0][1])),
        ("service, second run", service[1][0], _kinds(service[1][1])),
    ]
    threads = THREADS["DBT_RUNNER_THREADS"]
    print(f"\ndbt step, {developers} developers ({rows:,} raw rows), DuckDB, {threads} threads")
    print(f"{'variant':<40} {'seconds':>8} {'ratio':>6}  goal   what ran")
    for name, seconds, what in rows_out:
        ratio = seconds / baseline_s
        goal = GOALS.get(name)
        mark = f"≤{goal:.1f} {'ok' if ratio <= goal else 'MISS'}" if goal else ""
        print(f"{name:<40} {seconds:>8.1f} {ratio:>6.2f}  {mark:<7} {what}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--developers", default="2,50", help="comma-separated scales")
    parser.add_argument("--threads", type=int, default=2, help="dbt threads, every variant")
    args = parser.parse_args()
    THREADS["DBT_RUNNER_THREADS"] = str(args.threads)
    for developers in (int(d) for d in args.developers.split(",")):
        scale(developers)


if __name__ == "__main__":
    main()
