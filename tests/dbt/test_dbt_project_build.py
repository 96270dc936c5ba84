"""`dbt build --target dev` on every dataset: the edge cases, the recorded samples and the cursor-sim double."""

from __future__ import annotations

import json

import duckdb
import pytest

from .conftest import STRICT, BuiltWarehouse
from .dbt_harness import run_dbt

pytestmark = pytest.mark.slow


def _assert_green(wh: BuiltWarehouse) -> None:
    assert wh.build.returncode == 0, wh.build.stdout[-4000:]
    statuses = wh.build.statuses()
    bad = {k: v for k, v in statuses.items() if k[1] in ("error", "fail", "skipped")}
    assert not bad, (bad, wh.build.stdout[-4000:])
    assert statuses[("model", "success")] == 11
    assert statuses[("unit_test", "pass")] >= 11


def _query(wh: BuiltWarehouse, sql: str) -> list[tuple]:
    con = duckdb.connect(str(wh.db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_edge_dataset_builds_green_with_strict_relationships(
    edge_warehouse: BuiltWarehouse,
) -> None:
    _assert_green(edge_warehouse)
    assert not [k for k in edge_warehouse.build.statuses() if k[1] == "warn"]


def test_schemas_are_exactly_raw_staging_and_mart(edge_warehouse: BuiltWarehouse) -> None:
    rows = _query(
        edge_warehouse,
        "select distinct table_schema from information_schema.tables "
        "where table_catalog = current_database()",
    )
    assert {r[0] for r in rows} == {"raw", "staging", "mart"}


def test_edge_weeks_respect_sunday_monday_and_year_boundaries(
    edge_warehouse: BuiltWarehouse,
) -> None:
    rows = _query(
        edge_warehouse,
        "select cast(week as varchar), developer_id, commits, prs_merged "
        "from mart.velocity where repo_name = 'acme/edge' order by all",
    )
    # Sunday 2027-01-03 23:59:59.999999999 and New Year's Day stay in the week of Monday 2026-12-28;
    # PR 2 merged Sunday 23:59:59.9999999 too; Monday 2027-01-04 00:00 starts the next week.
    assert rows == [
        ("2026-12-28", "user_a", 1, 0),
        ("2026-12-28", "user_b", 2, 1),
        ("2027-01-04", "user_a", 1, 2),
    ]


def test_edge_negative_coding_lead_time_is_kept(edge_warehouse: BuiltWarehouse) -> None:
    (value,) = _query(
        edge_warehouse,
        "select coding_lead_time_hours from staging.stg_pull_requests where pr_id = 1",
    )[0]
    assert value == pytest.approx(-(29 * 60 + 59.999999) / 3600, rel=1e-12)


def test_recorded_samples_build_green_with_orphans_as_warnings(
    samples_warehouse: BuiltWarehouse,
) -> None:
    _assert_green(samples_warehouse)
    warned = {r["unique_id"] for r in samples_warehouse.build.results() if r["status"] == "warn"}
    assert warned and all(".relationships_" in uid for uid in warned), warned


def test_orphans_fail_the_build_in_strict_mode(
    edge_warehouse: BuiltWarehouse, copy_of, tmp_path
) -> None:
    db = copy_of(edge_warehouse)
    con = duckdb.connect(str(db))
    con.execute(
        "insert into raw.reviews by name select 999 as id, 424242 as pr_id, reviewer, state, "
        "submitted_at, body, comments, _load_id, _extracted_at, _extra "
        "from raw.reviews limit 1"
    )
    con.close()
    run = run_dbt(["test", "--select", "stg_reviews", *STRICT], work_dir=tmp_path, db_path=db)
    assert run.returncode != 0
    failed = [r["unique_id"] for r in run.results() if r["status"] == "fail"]
    assert failed and all("relationships_stg_reviews_pr_id" in u for u in failed), failed


def test_a_null_and_an_out_of_range_value_fail_their_model_level_checks_and_name_the_column(
    edge_warehouse: BuiltWarehouse, copy_of, tmp_path
) -> None:
    """not_null_columns and accepted_ranges hold each model's per-column checks in one node: a bad cell
    fails that node with one failure per cell, and the failing rows name the column."""
    db = copy_of(edge_warehouse)
    with duckdb.connect(str(db)) as con:
        # one row's developer_id null (the grain stays unique), two bad values in another row
        con.execute("update mart.velocity set developer_id = null where rowid = 0")
        con.execute("update mart.velocity set ai_ratio = 1.5, prs_merged = -1 where rowid = 1")
    run = run_dbt(
        ["test", "--select", "velocity", "--store-failures", *STRICT], work_dir=tmp_path, db_path=db
    )
    assert run.returncode != 0
    failed = {
        r["unique_id"].split(".")[2]: r["failures"] for r in run.results() if r["status"] == "fail"
    }
    assert failed == {"velocity_not_null": 1, "velocity_in_range": 2}, failed
    with duckdb.connect(str(db), read_only=True) as con:
        tables = dict(
            con.execute(
                "select table_name, table_schema from information_schema.tables"
                " where table_name in ('velocity_not_null', 'velocity_in_range')"
            ).fetchall()
        )
        named = {
            name: con.execute(f'select distinct * from "{schema}"."{name}" order by 1').fetchall()
            for name, schema in tables.items()
        }
    assert named == {
        "velocity_not_null": [("developer_id",)],
        "velocity_in_range": [("ai_ratio",), ("prs_merged",)],
    }, named


def test_generated_2_developers_builds_green(generated_2_warehouse: BuiltWarehouse) -> None:
    _assert_green(generated_2_warehouse)


def test_generated_50_developers_cold_build_is_fast(generated_50_warehouse: BuiltWarehouse) -> None:
    _assert_green(generated_50_warehouse)
    print(
        f"\ncold dbt build, 50 developers: {generated_50_warehouse.build.seconds:.1f}s "
        f"raw rows {generated_50_warehouse.raw_counts}"
    )
    # the time is measured by bench/bench_dbt.py beside `dbt parse`, not asserted here


def test_dbt_parse_alone(tmp_path) -> None:
    run = run_dbt(["parse", "--no-partial-parse"], work_dir=tmp_path, db_path=tmp_path / "x.duckdb")
    assert run.returncode == 0, run.stdout[-3000:]
    print(f"\ndbt parse alone: {run.seconds:.1f}s")


def test_every_model_and_built_column_is_documented(edge_warehouse: BuiltWarehouse) -> None:
    manifest = json.loads((edge_warehouse.build.target_dir / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) == 11
    for node in models:
        assert node["description"].strip(), node["name"]
        documented = {c for c, meta in node["columns"].items() if meta["description"].strip()}
        if node["name"].startswith("int_"):
            continue  # carries every stg_pull_requests column along, documented there
        built = {r[0] for r in _query(edge_warehouse, f"describe {node['schema']}.{node['name']}")}
        assert built - documented == set(), node["name"]
