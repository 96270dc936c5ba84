"""Cold `dbt build --target dev` on 50-developer raw data, beside `dbt parse` alone (same run, same
project, fresh target dir each time), so the cost of the models and tests is visible apart from dbt's own.

    .venv/bin/python bench/bench_dbt.py [--developers 50]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from etl_common.records import to_arrow
from etl_common.schemas import ENTITIES
from fake_cursor_sim.data import generate

PROJECT = Path(__file__).resolve().parents[1] / "dbt"
DBT = Path(sys.executable).with_name("dbt")


def raw_duckdb(path: Path, developers: int) -> dict[str, int]:
    dataset = generate(developers, 90, 42)
    counts = {}
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw")
        for entity in ENTITIES:
            table = to_arrow(entity, getattr(dataset, entity), load_id="bench", extracted_at_ns=0)
            con.register("incoming", table)
            con.execute(f'CREATE TABLE raw."{entity}" AS SELECT * FROM incoming')
            con.unregister("incoming")
            counts[entity] = table.num_rows
    return counts


def timed_dbt(command: str, db: Path, work: Path) -> float:
    work.mkdir()
    env = {**os.environ, "DUCKDB_PATH": str(db)}
    t0 = time.monotonic()
    subprocess.run(
        [
            str(DBT),
            command,
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target",
            "dev",
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--developers", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        counts = raw_duckdb(db, args.developers)
        parse_s = timed_dbt("parse", db, Path(tmp) / "parse")
        build_s = timed_dbt("build", db, Path(tmp) / "build")
    print(f"\ndbt on {args.developers}-developer raw data {counts} (DuckDB, 2 threads, cold)")
    print(f"{'dbt parse alone':<22} {parse_s:>6.1f} s")
    print(f"{'dbt build (all)':<22} {build_s:>6.1f} s   ({build_s - parse_s:.1f} s beyond parsing)")


if __name__ == "__main__":
    main()
