"""Load a raw dataset into a Snowflake-protocol server (fakesnow in the tests) the way a Snowflake load would:
tables created with the Arrow field names quoted (case kept), then `PUT` + `COPY INTO ... MATCH_BY_COLUMN_NAME`
from Parquet. Run as a subprocess so a caller can bound it with a timeout (the connector retries HTTP 500s
forever): `python -m tests.dbt.snowflake_raw PORT DATABASE edge|edge-without-merged_at|samples` from the
repository root."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from dbt_runner.snowflake_load import column_type
from etl_common.records import to_arrow
from etl_common.schemas import ENTITIES, raw_schema
from tests.dbt.dbt_harness import fakesnow_connect
from tests.dbt.edge_cases import edge_records
from tests.dbt.raw_fixtures import (
    EXTRACTED_AT_NS,
    Records,
    sample_records,
    without_field,
)
from tests.samples import SAMPLES_DIR


def load(port: int, database: str, records: Records) -> dict[str, int]:
    con = fakesnow_connect(port)
    counts = {}
    try:
        cur = con.cursor()
        cur.execute(f"create database if not exists {database}")
        cur.execute(f"use database {database}")
        cur.execute("create schema if not exists raw")
        with tempfile.TemporaryDirectory() as tmp:
            for entity in ENTITIES:
                table = to_arrow(
                    entity, records[entity], load_id="test-load", extracted_at_ns=EXTRACTED_AT_NS
                )
                cols = ", ".join(f'"{f.name}" {column_type(f.type)}' for f in raw_schema(entity))
                cur.execute(f"create or replace table raw.{entity} ({cols})")
                path = Path(tmp) / f"{entity}.parquet"
                pq.write_table(table, path)
                cur.execute(f"create or replace stage raw.load_{entity}")
                cur.execute(f"put file://{path} @raw.load_{entity}")
                cur.execute(
                    f"copy into raw.{entity} from @raw.load_{entity} "
                    "file_format = (type = parquet) match_by_column_name = case_insensitive"
                )
                counts[entity] = cur.execute(f"select count(*) from raw.{entity}").fetchone()[0]
    finally:
        con.close()
    return counts


if __name__ == "__main__":
    port_arg, db_arg, kind = sys.argv[1:4]
    if kind == "edge":
        recs = edge_records()
    elif kind == "edge-without-merged_at":
        recs = without_field(edge_records(), "pull_requests", "merged_at")
    else:
        recs = sample_records(SAMPLES_DIR)
    print(load(int(port_arg), db_arg, recs))
