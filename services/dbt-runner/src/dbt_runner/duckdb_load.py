"""Raw load into DuckDB: every raw table replaced in one transaction, or none.

`CREATE OR REPLACE TABLE raw.<entity> AS SELECT * FROM read_parquet([...])` takes its types from the files.
All four tables and the bookkeeping row in `raw._loads` commit together, and a failure (including a row
count that differs from the manifest) leaves the previous tables intact. This runs on the building copy of
the warehouse (see `duckdb_warehouse`), never on the file readers open. Table names come from the fixed
entity list; file paths are quoted literals of paths this process staged itself.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

from dbt_runner import load_rules
from dbt_runner.load_rules import (
    ADDED_COLUMNS,
    LOADS_COLUMNS,
    LoadedState,
    LoadOutcome,
    built_params,
    built_sql,
    loads_row,
    require_rows,
)
from etl_common.manifest import Manifest
from etl_common.schemas import ENTITIES

LOADS_TABLE = "raw._loads"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    columns = ", ".join(f"{name} {kind}" for name, kind in LOADS_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS {LOADS_TABLE} ({columns})")
    for name, kind in ADDED_COLUMNS:  # a warehouse from before outcomes were recorded
        con.execute(f"ALTER TABLE {LOADS_TABLE} ADD COLUMN IF NOT EXISTS {name} {kind}")


def current_load(con: duckdb.DuckDBPyConnection) -> LoadedState | None:
    """The load the raw tables hold now (the last one committed), if any."""

    def run(sql: str, params: Sequence[object]) -> list[tuple[object, ...]]:
        return con.execute(sql, list(params)).fetchall()

    return load_rules.current_load(run, "?")


def load_raw(
    db_path: Path,
    manifest: Manifest,
    manifest_uri: str,
    manifest_sha256: str,
    files: dict[str, list[Path]],
    *,
    previous_load_id: str | None = None,
    threads: int | None = None,
) -> LoadOutcome:
    t0 = time.monotonic()
    with duckdb.connect(str(db_path)) as con:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = false")  # order carries no meaning in raw
        _ensure_bookkeeping(con)
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
            marks = ", ".join("?" for _ in LOADS_COLUMNS)
            con.execute(
                f"INSERT INTO {LOADS_TABLE} VALUES ({marks})",
                list(loads_row(manifest, manifest_uri, manifest_sha256, rows)),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return LoadOutcome(
        "loaded", rows=rows, seconds=time.monotonic() - t0, previous_load_id=previous_load_id
    )


def mark_built(db_path: Path, load_id: str, counts: dict[str, int]) -> None:
    """The load's `_loads` row, `building` until now, records its green build."""
    with duckdb.connect(str(db_path)) as con:
        con.execute(built_sql(LOADS_TABLE, "?"), list(built_params(load_id, counts)))
