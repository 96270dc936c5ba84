"""The data tests that catch what a dropped or renamed upstream field does to the marts (issue 16, item 3):
a `merged` PR without `merged_at`, `commit_ids` or `ai_ratio` gone, a mart empty while its inputs are not.
Each drifted dataset is the edge dataset with one field removed from every record (a rename lands the value
in `_extra` and leaves the same null column), built on DuckDB; one on fakesnow too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from .conftest import STRICT, BuiltWarehouse, build_warehouse
from .dbt_harness import DbtRun, fakesnow_server, run_dbt, snowflake_env
from .edge_cases import edge_records
from .raw_fixtures import REPO_ROOT, Records, without_field, without_merged_prs

pytestmark = pytest.mark.slow

MERGED_AT = "stg_pull_requests_merged_prs_have_merged_at"
AI_RATIO = "stg_pull_requests_ai_ratio_mostly_not_null"
COMMIT_IDS = "int_pull_request_commits_unnested_not_empty_when_prs_have_commits"
VELOCITY = "velocity_not_empty_when_commits"
PR_MARTS = ("review_costs", "quality", "ai_impact")
PR_MART_TESTS = {f"{mart}_not_empty_when_state_merged_prs" for mart in PR_MARTS}
DRIFT_TESTS = {MERGED_AT, AI_RATIO, COMMIT_IDS, VELOCITY, *PR_MART_TESTS}
MARTS = ("velocity", *PR_MARTS)
NO_UNIT = [
    "--exclude-resource-type",
    "unit_test",
]  # covered by the full builds; not what is tested here


def _by_status(run: DbtRun, *statuses: str) -> set[str]:
    """Node names (a test's `name`, a model's name) whose status is one of `statuses`."""
    return {r["unique_id"].split(".")[2] for r in run.results() if r["status"] in statuses}


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _drifted(dbt_tmp: Path, name: str, records: Records, args: list[str]) -> BuiltWarehouse:
    return build_warehouse(dbt_tmp, name, records, [*STRICT, *NO_UNIT, *args])


@pytest.fixture(scope="module")
def no_merged_at(dbt_tmp: Path) -> BuiltWarehouse:
    return _drifted(
        dbt_tmp, "no_merged_at", without_field(edge_records(), "pull_requests", "merged_at"), []
    )


def test_drift_tests_run_and_pass_on_the_edge_dataset(edge_warehouse: BuiltWarehouse) -> None:
    passed = _by_status(edge_warehouse.build, "pass")
    assert passed >= DRIFT_TESTS, DRIFT_TESTS - passed


def test_vanished_merged_at_fails_the_build_and_leaves_the_marts_unbuilt(
    no_merged_at: BuiltWarehouse,
) -> None:
    run = no_merged_at.build
    assert run.returncode != 0
    assert _by_status(run, "fail", "error") == {MERGED_AT}, run.stdout[-3000:]
    (result,) = [r for r in run.results() if r["unique_id"].split(".")[2] == MERGED_AT]
    assert result["failures"] == 6  # every PR in state merged of the edge dataset
    assert _by_status(run, "skipped") >= {"int_merged_pull_requests_banded", *MARTS}
    assert _rows(no_merged_at.db_path, "select table_name from information_schema.tables "
                 "where table_schema = 'mart'") == []  # fmt: skip


def test_marts_emptied_by_a_vanished_merged_at_fail_their_not_empty_tests(
    no_merged_at: BuiltWarehouse, copy_of, tmp_path: Path
) -> None:
    """With the staging test out of the way (as if it did not exist), the marts are built empty and the
    backstop names exactly the three built from merged PRs; velocity still has its commit rows."""
    db = copy_of(no_merged_at)
    run = run_dbt(
        ["build", "--select", "int_merged_pull_requests_banded+", "--exclude", MERGED_AT, *STRICT],
        work_dir=tmp_path,
        db_path=db,
    )
    assert run.returncode != 0
    assert _by_status(run, "fail", "error") == PR_MART_TESTS, run.stdout[-3000:]
    assert VELOCITY in _by_status(run, "pass")
    for mart in PR_MARTS:
        assert _rows(db, f"select count(*) from mart.{mart}") == [(0,)]


def test_every_mart_not_empty_test_fails_on_its_emptied_mart(
    edge_warehouse: BuiltWarehouse, copy_of, tmp_path: Path
) -> None:
    db = copy_of(edge_warehouse)
    with duckdb.connect(str(db)) as con:
        for mart in MARTS:
            con.execute(f"delete from mart.{mart}")
    run = run_dbt(["test", "--select", "test_name:not_empty_when"], work_dir=tmp_path, db_path=db)
    assert _by_status(run, "fail") == {VELOCITY, *PR_MART_TESTS}, run.stdout[-3000:]
    assert _by_status(run, "pass") == {COMMIT_IDS}


@pytest.mark.parametrize(("field", "failing"), [("commit_ids", COMMIT_IDS), ("ai_ratio", AI_RATIO)])
def test_a_vanished_pr_field_fails_its_staging_test(
    dbt_tmp: Path, field: str, failing: str
) -> None:
    """One build each: a failing test skips what is downstream of its model, tests included."""
    records = without_field(edge_records(), "pull_requests", field)
    wh = _drifted(dbt_tmp, f"no_{field}", records, ["--select", "+stg_pull_requests"])
    assert wh.build.returncode != 0
    assert _by_status(wh.build, "fail", "error") == {failing}, wh.build.stdout[-3000:]


@pytest.mark.parametrize("dataset", ["no_merged_prs", "empty"])
def test_legitimately_empty_marts_build_green(dbt_tmp: Path, dataset: str) -> None:
    """No false alarm: without PRs in state merged the PR marts are empty and nothing fails; nor on a load
    with no rows at all."""
    records = (
        without_merged_prs(edge_records())
        if dataset == "no_merged_prs"
        else {entity: [] for entity in edge_records()}
    )
    wh = _drifted(dbt_tmp, dataset, records, [])
    assert wh.build.returncode == 0, wh.build.stdout[-3000:]
    assert _by_status(wh.build, "pass") >= DRIFT_TESTS
    assert not _by_status(wh.build, "fail", "error", "warn", "skipped")
    counts = {m: _rows(wh.db_path, f"select count(*) from mart.{m}")[0][0] for m in MARTS}
    assert {m: n for m, n in counts.items() if m != "velocity"} == dict.fromkeys(PR_MARTS, 0)
    assert (counts["velocity"] > 0) is (dataset == "no_merged_prs")  # the commits are still there


@pytest.mark.emulator
def test_vanished_merged_at_fails_the_same_tests_on_fakesnow(tmp_path: Path) -> None:
    """`--target prod` (Snowflake SQL) on fakesnow: the same test fails, then the same three mart tests."""
    excludes = ["--exclude", "test_type:unit", "assert_timestamp_macros"]  # emulator gaps (README)
    with fakesnow_server(tmp_path / "fakesnow.log") as port:
        env = snowflake_env(port)
        loaded = subprocess.run(
            [sys.executable, "-m", "tests.dbt.snowflake_raw", str(port),
             env["SNOWFLAKE_DATABASE"], "edge-without-merged_at"],
            capture_output=True, text=True, timeout=90, check=False, cwd=REPO_ROOT,
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr[-3000:]

        def prod(args: list[str], work: str) -> DbtRun:
            return run_dbt(
                ["build", *excludes, *STRICT, *args],
                work_dir=tmp_path / work,
                db_path=None,
                target="prod",
                env_extra=env,
                timeout=300,
            )

        first = prod([], "first")
        second = prod(
            ["--select", "int_merged_pull_requests_banded+", "--exclude", MERGED_AT], "second"
        )
    assert first.returncode != 0 and second.returncode != 0
    assert _by_status(first, "fail", "error") == {MERGED_AT}, first.stdout[-3000:]
    assert _by_status(first, "skipped") >= {"int_merged_pull_requests_banded", *MARTS}
    assert _by_status(second, "fail", "error") == PR_MART_TESTS, second.stdout[-3000:]
