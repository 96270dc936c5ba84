"""One raw dataset built on both engines through the dbt-runner's own load paths, then compared.

A dataset is written as the loader writes it (Parquet per entity, then `manifests/<load_id>.json`), verified by
`verify_and_stage`, loaded by `load_raw` (DuckDB) and `load_raw_snowflake` (fakesnow), and built by `dbt build`
in a subprocess bounded by a timeout. Connector calls in this process carry `network_timeout`, which bounds
the connector's retries of fakesnow's HTTP 500s (proved by test_snowflake_load).
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from snowflake.connector.constants import FIELD_ID_TO_NAME

from dbt_runner.duckdb_load import load_raw
from dbt_runner.manifest_check import verify_and_stage
from dbt_runner.snowflake_settings import SnowflakeSettings, load_snowflake_settings
from dbt_runner.snowflake_warehouse import load_raw_snowflake
from etl_common.records import to_arrow
from etl_common.schemas import ENTITIES

from ..dbt.dbt_harness import DbtRun, fakesnow_connect, run_dbt, snowflake_env
from ..dbt.raw_fixtures import EXTRACTED_AT_NS, Records
from ..local_load import write_local_load

# Emulator gaps only (real Snowflake runs both): dbt unit tests need temporary tables fakesnow cannot create,
# and assert_timestamp_macros calls TO_TIMESTAMP_TZ on a column, which fakesnow does not implement.
EMULATOR_EXCLUDES = ["--exclude-resource-type", "unit_test", "--exclude", "assert_timestamp_macros"]
STRICT = ["--vars", "{relationship_severity: error}"]
SCHEMAS = ("staging", "mart")
REL_TOL = 1e-9


def write_bucket(root: Path, records: Records, load_id: str, extracted_at: datetime) -> str:
    """Parquet per entity, then the manifest (last, as the loader does); returns the manifest URI."""
    tables = {
        entity: to_arrow(entity, records[entity], load_id=load_id, extracted_at_ns=EXTRACTED_AT_NS)
        for entity in ENTITIES
    }
    return str(
        write_local_load(
            root, load_id, tables, extracted_at=extracted_at, source_url="http://cursor-sim.test"
        )
    )


def sf_env(port: int, database: str) -> dict[str, str]:
    return {**snowflake_env(port), "SNOWFLAKE_DATABASE": database}


def sf_settings(port: int, database: str, **overrides: Any) -> SnowflakeSettings:
    env = sf_env(port, database)
    return load_snowflake_settings(
        account=env["SNOWFLAKE_ACCOUNT"],
        user=env["SNOWFLAKE_USER"],
        password=env["DBT_ENV_SECRET_SNOWFLAKE_PASSWORD"],
        role=env["SNOWFLAKE_ROLE"],
        database=env["SNOWFLAKE_DATABASE"],
        warehouse=env["SNOWFLAKE_WAREHOUSE"],
        host="127.0.0.1",
        port=port,
        protocol="http",
        **{
            "fakesnow_compat": True,
            "login_timeout_s": 20,
            "network_timeout_s": 30,
            "statement_timeout_s": 60,
            **overrides,
        },
    )


def sf_connect(port: int, database: str) -> Any:
    env = sf_env(port, database)
    con = fakesnow_connect(port, socket_timeout=30)
    con.cursor().execute(f"create database if not exists {env['SNOWFLAKE_DATABASE']}")
    con.cursor().execute(f"use database {env['SNOWFLAKE_DATABASE']}")
    return con


@dataclass
class BuiltPair:
    name: str
    raw_rows: dict[str, int]
    dev: DbtRun
    prod: DbtRun
    duckdb_path: Path
    port: int
    database: str


def build_both(
    work: Path, port: int, name: str, records: Records, load_id: str, database: str
) -> BuiltPair:
    """Raw load + `dbt build` on DuckDB and on fakesnow from one manifest (same selection on both)."""
    work.mkdir(parents=True, exist_ok=True)
    uri = write_bucket(
        work / "bucket", records, load_id, datetime.fromtimestamp(1_798_761_600, UTC)
    )
    with tempfile.TemporaryDirectory() as staging:
        verified = verify_and_stage(uri, Path(staging))
        db = work / "warehouse.duckdb"
        sha = verified.manifest_sha256
        dev_load = load_raw(db, verified.manifest, uri, sha, verified.files)
        sf_load = load_raw_snowflake(sf_settings(port, database), verified)
    assert dev_load.rows == sf_load.rows, (dev_load.rows, sf_load.rows)
    args = ["build", *EMULATOR_EXCLUDES, *STRICT]
    dev = run_dbt(args, work_dir=work / "dev", db_path=db, timeout=600)
    prod = run_dbt(
        args,
        work_dir=work / "prod",
        db_path=None,
        target="prod",
        env_extra=sf_env(port, database),
        timeout=900,
    )
    return BuiltPair(name, sf_load.rows, dev, prod, db, port, database)


# ---- comparison -------------------------------------------------------------------------------------------


def _canon(v: Any) -> Any:
    """One Python shape per value: Decimal -> int/float, arrays (JSON text from Snowflake) -> lists."""
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.astimezone(UTC).replace(tzinfo=None)
    return v


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        (1, "")
        if v is None
        else (0, f"{v:.6g}" if isinstance(v, float) else json.dumps(v, default=str))
        for v in row
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)
    return bool(a == b)


@dataclass
class TableDiff:
    table: str
    rows: tuple[int, int]
    columns: tuple[int, int]
    mismatches: list[str]


def duckdb_tables(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {SCHEMAS} order by 1, 2"
        ).fetchall()
    return [(s, t) for s, t in rows]


def fetch_duckdb(db: Path, schema: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(f'select * from {schema}."{table}"')
        cols = [d[0].lower() for d in cur.description]
        return cols, [tuple(_canon(v) for v in r) for r in cur.fetchall()]


def fetch_snowflake(con: Any, schema: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Reader-side emulator gap: fakesnow's server sends a null TIMESTAMP_NTZ as 1970-01-01 (the stored
    value is null: `is null` holds), so timestamps are fetched as text and parsed back here."""
    cur = con.cursor()
    cur.execute(f"select * from {schema}.{table} limit 0", timeout=60)
    desc = [(d[0], FIELD_ID_TO_NAME[d[1]].startswith("TIMESTAMP")) for d in cur.description]
    select = ", ".join(f'cast("{c}" as varchar) as "{c}"' if ts else f'"{c}"' for c, ts in desc)
    cur.execute(f"select {select} from {schema}.{table}", timeout=60)
    rows = [
        tuple(
            (datetime.fromisoformat(v) if ts and v is not None else _canon(v))
            for v, (_, ts) in zip(r, desc, strict=True)
        )
        for r in cur.fetchall()
    ]
    return [c.lower() for c, _ in desc], rows


def compare(pair: BuiltPair) -> list[TableDiff]:
    out = []
    con = sf_connect(pair.port, pair.database)
    try:
        for schema, table in duckdb_tables(pair.duckdb_path):
            dcols, drows = fetch_duckdb(pair.duckdb_path, schema, table)
            scols, srows = fetch_snowflake(con, schema, table)
            problems: list[str] = []
            if dcols != scols:
                problems.append(f"columns differ: {dcols} vs {scols}")
            else:
                drows.sort(key=_sort_key)
                srows.sort(key=_sort_key)
                for i, (d, s) in enumerate(zip(drows, srows, strict=False)):
                    bad = [c for c, a, b in zip(dcols, d, s, strict=True) if not _same(a, b)]
                    if bad:
                        problems.append(
                            f"row {i}: {[(c, d[dcols.index(c)], s[dcols.index(c)]) for c in bad]}"
                        )
                    if len(problems) > 5:
                        break
                if len(drows) != len(srows):
                    problems.append(f"row counts differ: {len(drows)} vs {len(srows)}")
            out.append(
                TableDiff(
                    f"{schema}.{table}",
                    (len(drows), len(srows)),
                    (len(dcols), len(scols)),
                    problems,
                )
            )
    finally:
        con.close()
    return out
