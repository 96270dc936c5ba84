"""`python -m dbt_runner run --target prod` end to end against a fakesnow the caller started: verify, raw load
into Snowflake, `dbt build`, and idempotency on a second run — the whole job in a subprocess with a timeout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ..dbt.edge_cases import edge_records
from .harness import sf_connect, sf_env, write_bucket

pytestmark = [pytest.mark.emulator, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
# What the caller sets to run the prod path on fakesnow (see dbt/README.md, emulator concessions).
EMULATOR_ENV = {
    "SNOWFLAKE_FAKESNOW_COMPAT": "true",
    "SNOWFLAKE_NETWORK_TIMEOUT_S": "60",
}


def _run(uri: str, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "dbt_runner", "run", "--manifest", uri],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=REPO,
        env=env,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    return proc.returncode, json.loads(lines[-1]) if lines else {}, proc.stdout + proc.stderr


def test_runner_prod_target_loads_snowflake_and_builds(tmp_path: Path, fakesnow_port: int):
    uri = write_bucket(
        tmp_path / "bucket",
        edge_records(),
        "20270101T000000Z-e2e0e2",
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    env = _runner_env(tmp_path, fakesnow_port)
    code, result, out = _run(uri, env)
    _assert_a_green_first_build(code, result, out)

    code, again, out = _run(uri, env)
    assert (code, again["state"], again["raw_load"]["status"]) == (
        0,
        "already_loaded",
        "already_loaded",
    ), out[-3000:]

    # What a reader sees: the load, built, and nothing of the build sets left behind.
    assert _live(fakesnow_port, "runner_db")["loads"][-1] == (
        "20270101T000000Z-e2e0e2",
        "succeeded",
    )
    first = _live(fakesnow_port, "runner_db")
    assert first["leftover_schemas"] == [] and all(first["marts"].values()), first
    _assert_a_failed_build_is_never_published(tmp_path, env, fakesnow_port, first)


def _runner_env(tmp_path: Path, port: int) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "SNOWFLAKE_"))}
    return {
        **base,
        **sf_env(port, "runner_db"),
        **EMULATOR_ENV,
        "DBT_RUNNER_TARGET": "prod",
        "DBT_RUNNER_WORK_DIR": str(tmp_path / "work"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def _assert_a_green_first_build(code: int, result: dict[str, Any], out: str) -> None:
    assert result, out[-4000:]
    assert result["target"] == "prod"
    assert result["raw_load"]["status"] == "loaded", out[-4000:]
    assert result["raw_load"]["rows"] == {
        "commits": 7,
        "pull_requests": 8,
        "reviews": 8,
        "repos": 2,
    }
    failed = sorted(
        n["unique_id"] for n in result["dbt"]["nodes"] if n["status"] not in ("success", "pass")
    )
    print(
        "RUNNER",
        json.dumps(
            {
                "state": result["state"],
                "counts": result["dbt"]["counts"],
                "timings": result["timings_s"],
            }
        ),
    )
    # SNOWFLAKE_FAKESNOW_COMPAT excludes what the emulator cannot run, and nothing else
    assert failed == [], out[-4000:]
    assert result["dbt"]["counts"]["model:success"] == 11
    assert "unit_test:pass" not in result["dbt"]["counts"]
    assert not any(
        n["unique_id"].endswith("assert_timestamp_macros") for n in result["dbt"]["nodes"]
    )
    assert (code, result["state"]) == (0, "succeeded"), out[-4000:]
    # the same traced path as DuckDB, plus the views re-created after the swap
    assert [s["name"] for s in result["steps"]] == [
        "verify",
        "lock_wait",
        "raw_load",
        "dbt_build",
        "publish",
        "refresh_views",
    ]


def _assert_a_failed_build_is_never_published(
    tmp_path: Path, env: dict[str, str], port: int, first: dict[str, Any]
) -> None:
    """A newer load whose build fails is never published: raw and marts stay those of the first load;
    the failure does not count as loaded, so a retry builds it."""
    newer = write_bucket(
        tmp_path / "bucket",
        {**edge_records(), "repos": edge_records()["repos"][:1]},
        "20270102T000000Z-e2e0e3",
        datetime(2027, 1, 2, tzinfo=UTC),
    )
    project = tmp_path / "dbt"
    shutil.copytree(REPO / "dbt", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "tests" / "always_fails.sql").write_text("select 1 as failure\n")
    code, failed_build, out = _run(newer, {**env, "DBT_PROJECT_DIR": str(project)})
    assert (code, failed_build["state"]) == (1, "failed"), out[-3000:]
    assert "always_fails" in failed_build["error"]
    assert _live(port, "runner_db") == first

    code, retried, out = _run(newer, env)
    assert (code, retried["state"]) == (0, "succeeded"), out[-3000:]
    after = _live(port, "runner_db")
    assert after["loads"][-1] == ("20270102T000000Z-e2e0e3", "succeeded")
    assert after["repos"] == 1 and after["leftover_schemas"] == []


def _live(port: int, database: str) -> dict[str, Any]:
    con = sf_connect(port, database)
    try:
        cur = con.cursor()

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in cur.execute(sql, timeout=30).fetchall()]

        marts = {
            m: rows(f"select count(*) from mart.{m}")[0][0]
            for m in ("velocity", "review_costs", "quality", "ai_impact")
        }
        return {
            "loads": rows("select load_id, outcome from raw._loads order by loaded_at"),
            "repos": rows("select count(*) from raw.repos")[0][0],
            "marts": marts,
            "leftover_schemas": rows(
                "select schema_name from information_schema.schemata "
                "where schema_name like '%\\\\_\\\\_LOAD\\\\_%'"
            ),
        }
    finally:
        con.close()
