"""Raw load into DuckDB: every raw table replaced in one transaction, or none.

`CREATE OR REPLACE TABLE raw.<entity> AS SELECT * FROM read_parquet([...])` takes its types from the files.
All four tables and the bookkeeping row in `raw._loads` commit together, so a reader sees either the previous
load or this one, never a mix, and a failure (including a row count that differs from the manifest) leaves
the previous tables intact. Table names come from the fixed entity list; file paths are quoted literals of
paths this process staged itself.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dbt_runner.load_rules import LoadOutcome, already_loaded, loads_row, require_rows
from etl_common.manifest import Manifest
from etl_common.schemas import ENTITIES

LOADS_TABLE = "raw._loads"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {LOADS_TABLE} (load_id VARCHAR NOT NULL, extracted_at TIMESTAMP "
        "NOT NULL, loaded_at TIMESTAMP NOT NULL, manifest_uri VARCHAR NOT NULL, rows VARCHAR NOT NULL)"
    )


def current_load(con: duckdb.DuckDBPyConnection) -> tuple[str, datetime] | None:
    """The load the raw tables hold now (the last one committed), if any."""
    row = con.execute(
        f"SELECT load_id, extracted_at FROM {LOADS_TABLE} ORDER BY loaded_at DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1].replace(tzinfo=UTC)) if row else None


def load_raw(
    db_path: Path,
    manifest: Manifest,
    manifest_uri: str,
    files: dict[str, list[Path]],
    *,
    force: bool = False,
    threads: int | None = None,
) -> LoadOutcome:
    t0 = time.monotonic()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = false")  # order carries no meaning in raw
        _ensure_bookkeeping(con)
        current = current_load(con)
        if already_loaded(current, manifest, manifest_uri, force=force):
            return LoadOutcome(
                "already_loaded",
                previous_load_id=current[0] if current else None,
                seconds=time.monotonic() - t0,
            )
        rows: dict[str, int] = {}
        con.execute("BEGIN TRANSACTION")
        try:
            for entity in ENTITIES:
                sources = ", ".join(_literal(p) for p in files[entity])
                con.execute(
                    f'CREATE OR REPLACE TABLE raw."{entity}" AS SELECT * FROM read_parquet([{sources}])'
                )
                (count,) = con.execute(f'SELECT count(*) FROM raw."{entity}"').fetchone()  # type: ignore[misc]
                rows[entity] = require_rows(manifest, manifest_uri, entity, count)
            con.execute(
                f"INSERT INTO {LOADS_TABLE} VALUES (?, ?, ?, ?, ?)",
                list(loads_row(manifest, manifest_uri, rows)),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return LoadOutcome(
        "loaded",
        rows=rows,
        seconds=time.monotonic() - t0,
        previous_load_id=current[0] if current else None,
    )
