"""An upstream in a non-UTC zone gives the same warehouse, cell for cell, as the same data served in UTC.

The real cursor-sim renders every timestamp in its host's zone (`-04:00` and `-05:00` in one dataset,
contract 10.3). The double's `--tz` does the same; with one seed and one pinned `now` both doubles hold the
same instants, so after loader -> dbt-runner -> DuckDB every raw, staging and mart table must match,
weeks and days bucketed in UTC. Both the seed-only plan (per-author PR lists) and the replication plan
(day partitions, whose windows are UTC days) are exercised.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from dev_stack.double import run_double

from ..loader.conftest import run_loader
from .test_run_manifest import runner

# A pinned instant whose 90-day history spans both US DST transitions of 2026 (Mar 8, Nov 1).
NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
# Columns that name the load rather than the data: they differ between any two loads.
LOAD_COLUMNS = {"_load_id", "_loaded_at", "load_id", "loaded_at", "_extracted_at", "extracted_at"}


def _warehouse(tmp: Path, tz: str | None, **double: Any) -> tuple[Path, list[str]]:
    """Load one double into a bucket directory and build a DuckDB warehouse from it."""
    with run_double(days=90, seed=7, now=NOW, tz=tz, **double) as url:
        offsets = {
            pr["created_at"][-6:]
            for pr in httpx.get(
                url + "/analytics/github/prs",
                params={"page_size": 100},
                auth=("cursor-sim-dev-key", ""),
            ).json()["data"]
        }
        result = run_loader(url, tmp / "bucket", "--rate-limit-per-minute", "100000", timeout=300)
        assert result.code == 0, result.stdout + result.stderr
    db = tmp / "warehouse.duckdb"
    code, _, output = runner(result.last_line, db)
    assert code == 0, output
    return db, sorted(offsets)


def _tables(db: Path) -> dict[str, list[tuple]]:
    """Every table and view outside the catalog, its non-load columns, rows in a canonical order."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog') "
            "and table_name not like '\\_%' escape '\\' order by all"
        ).fetchall()
        out = {}
        for schema, table in names:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if c.lower() not in LOAD_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            out[f"{schema}.{table}"] = con.execute(
                f'select {select} from "{schema}"."{table}" order by all'
            ).fetchall()
        return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "double",
    [
        pytest.param({"developers": 2}, id="seed-only"),
        pytest.param({"developers": 6, "seed_developers": 2}, id="replication"),
    ],
)
def test_new_york_upstream_builds_the_same_warehouse_as_utc(
    double: dict[str, int], tmp_path: Path
) -> None:
    utc_db, utc_offsets = _warehouse(tmp_path / "utc", None, **double)
    ny_db, ny_offsets = _warehouse(tmp_path / "ny", "America/New_York", **double)
    # The two doubles really do speak differently on the wire ...
    assert utc_offsets and all(o.endswith("Z") for o in utc_offsets)
    assert set(ny_offsets) <= {"-04:00", "-05:00"} and ny_offsets
    utc, ny = _tables(utc_db), _tables(ny_db)
    # ... and the warehouse cannot tell them apart.
    assert sorted(utc) == sorted(ny)
    assert {"mart.velocity", "mart.review_costs", "mart.quality", "mart.ai_impact"} <= set(utc)
    for table in utc:
        assert utc[table], f"{table} is empty: the comparison would prove nothing"
        assert utc[table] == ny[table], f"{table} differs between the UTC and New York upstreams"
