"""`python -m dbt_runner summary`: what the DuckDB warehouse holds, for people and smoke checks.

Opens the file read-only (so it works beside a running dbt-runner, and on a read-only volume) and reports
the last load from `raw._loads` and the row count of every raw and mart table. `problems` names what a
complete pipeline run must have produced and is missing: no load, or a mart table absent or empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MARTS = ("velocity", "review_costs", "quality", "ai_impact")


def warehouse_summary(duckdb_path: Path) -> dict[str, Any]:
    import duckdb

    if not duckdb_path.is_file():
        return {"warehouse": str(duckdb_path), "problems": [f"no DuckDB file at {duckdb_path}"]}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'mart') and table_type = 'BASE TABLE' "
            "order by 1, 2"
        ).fetchall()
        counts: dict[str, int] = {}
        for schema, name in tables:
            row = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
            counts[f"{schema}.{name}"] = int(row[0]) if row else 0
        last = None
        if "raw._loads" in counts:
            last = con.execute(
                "select load_id, extracted_at, loaded_at, manifest_uri from raw._loads "
                "order by loaded_at desc limit 1"
            ).fetchone()
    problems = [f"mart.{m} is missing or empty" for m in MARTS if not counts.get(f"mart.{m}")]
    if last is None:
        problems.insert(0, "raw._loads holds no load")
    return {
        "warehouse": str(duckdb_path),
        "last_load": None
        if last is None
        else {
            "load_id": last[0],
            "extracted_at": last[1].isoformat(),
            "loaded_at": last[2].isoformat(),
            "manifest_uri": last[3],
        },
        "rows": counts,
        "problems": problems,
    }
