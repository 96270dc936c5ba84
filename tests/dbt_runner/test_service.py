"""The dbt-runner's service mode over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from ..service_harness import run_service, wait_for, wait_for_log
from .test_run_manifest import BAD_INPUTS, _corrupt_copy, loads, raw_snapshot  # noqa: F401


@pytest.mark.slow
def test_one_build_at_a_time_then_result_and_bad_input(loads, tmp_path: Path) -> None:  # noqa: F811
    root, uris = loads
    db = tmp_path / "warehouse.duckdb"
    env = {"DUCKDB_PATH": str(db), "DBT_RUNNER_WORK_DIR": str(tmp_path / "work")}
    with run_service("dbt_runner", env, tmp_path / "runner.log") as url:
        assert httpx.get(url + "/readyz", timeout=60).status_code == 200
        first = httpx.post(url + "/runs", json={"manifest": uris[1]}, timeout=10)
        assert first.status_code == 202
        second = httpx.post(url + "/runs", json={"manifest": uris[0]}, timeout=10)
        assert second.status_code == 409
        assert second.json()["detail"]["build_id"] == first.json()["build_id"]
        assert "already running" in second.json()["detail"]["message"]
        done = wait_for(
            f"{url}/runs/{first.json()['build_id']}", lambda b: b["state"] != "running", 300
        )
        assert done["state"] == "succeeded", done
        assert done["result"]["dbt"]["success"] is True
        before = raw_snapshot(db)
        bad = httpx.post(
            url + "/runs", json={"manifest": str(root / "manifests" / "nope.json")}, timeout=10
        )
        failed = wait_for(
            f"{url}/runs/{bad.json()['build_id']}", lambda b: b["state"] != "running", 60
        )
        assert failed["state"] == "failed"
        assert "manifest not found" in failed["result"]["error"]
        assert raw_snapshot(db) == before
        assert httpx.post(url + "/runs", json={}, timeout=10).status_code == 422


@pytest.mark.slow
def test_the_service_warms_dbt_once_ready_so_its_first_build_reuses_that_parse(
    loads,  # noqa: F811
    tmp_path: Path,
) -> None:
    _root, uris = loads
    log = tmp_path / "runner.log"
    env = {"DUCKDB_PATH": str(tmp_path / "w.duckdb"), "DBT_RUNNER_WORK_DIR": str(tmp_path / "work")}
    with run_service("dbt_runner", env, log) as url:
        warm = wait_for_log(log, lambda line: line.get("message", "").startswith("dbt warm"))
        assert warm["message"] == "dbt warm", warm
        started = httpx.post(url + "/runs", json={"manifest": uris[1]}, timeout=10).json()
        done = wait_for(f"{url}/runs/{started['build_id']}", lambda b: b["state"] != "running", 300)
    dbt = done["result"]["dbt"]
    assert done["state"] == "succeeded" and dbt["parse"] == "reused", dbt["parse"]
    kinds = {node["resource_type"] for node in dbt["nodes"]}
    assert kinds == {"model", "seed", "test"}, kinds
    assert "unit_test" in dbt["not_run"], dbt["not_run"]


@pytest.mark.slow
def test_every_bad_input_is_refused_over_http_and_raw_is_unchanged(loads, tmp_path: Path) -> None:  # noqa: F811
    root, uris = loads
    db = tmp_path / "warehouse.duckdb"
    env = {"DUCKDB_PATH": str(db), "DBT_RUNNER_WORK_DIR": str(tmp_path / "work")}
    with run_service("dbt_runner", env, tmp_path / "runner.log") as url:
        first = httpx.post(url + "/runs", json={"manifest": uris[1]}, timeout=10).json()
        assert (
            wait_for(f"{url}/runs/{first['build_id']}", lambda b: b["state"] != "running", 300)[
                "state"
            ]
            == "succeeded"
        )
        before = raw_snapshot(db)
        for case, (edit, phrase) in sorted(BAD_INPUTS.items()):
            case_dir = tmp_path / case
            case_dir.mkdir()
            path = _corrupt_copy(root, uris[1], case_dir, edit)
            if case == "not-json":
                Path(path).write_text("{not json")
            run = httpx.post(
                url + "/runs", json={"manifest": path, "force": True}, timeout=10
            ).json()
            done = wait_for(f"{url}/runs/{run['build_id']}", lambda b: b["state"] != "running", 60)
            assert done["state"] == "failed", (case, done)
            assert phrase in done["result"]["error"], (case, done["result"]["error"])
        assert raw_snapshot(db) == before


async def _probe_burst(url: str, n: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        return await asyncio.gather(*(client.get(url + "/readyz") for _ in range(n)))


@pytest.mark.slow
def test_500_concurrent_probes_during_a_build_are_answered_ready(loads, tmp_path: Path) -> None:  # noqa: F811
    """Probes neither parse the project nor take DuckDB's write lock, so a build does not stall them."""
    _root, uris = loads
    db = tmp_path / "warehouse.duckdb"
    env = {"DUCKDB_PATH": str(db), "DBT_RUNNER_WORK_DIR": str(tmp_path / "work")}
    with run_service("dbt_runner", env, tmp_path / "runner.log") as url:
        started = httpx.post(url + "/runs", json={"manifest": uris[1]}, timeout=10).json()
        building = wait_for(f"{url}/runs/{started['build_id']}", lambda b: True)
        assert building["state"] == "running"
        answers = asyncio.run(_probe_burst(url, 500))
        assert [r.status_code for r in answers] == [200] * 500
        assert answers[0].json()["checks"]["warehouse"].startswith("ok")
        done = wait_for(f"{url}/runs/{started['build_id']}", lambda b: b["state"] != "running", 300)
        assert done["state"] == "succeeded"
        after = asyncio.run(_probe_burst(url, 500))  # with the published warehouse in place
        assert [r.status_code for r in after] == [200] * 500


def test_an_unusable_warehouse_is_a_failed_build_with_a_result_and_not_ready(
    loads,  # noqa: F811
    tmp_path: Path,
) -> None:
    _root, uris = loads
    (tmp_path / "taken").write_text("a file where the warehouse's directory should be")
    db = tmp_path / "taken" / "warehouse.duckdb"
    env = {"DUCKDB_PATH": str(db), "DBT_RUNNER_WORK_DIR": str(tmp_path / "work")}
    with run_service("dbt_runner", env, tmp_path / "runner.log") as url:
        probe = httpx.get(url + "/readyz", timeout=30)
        assert probe.status_code == 503
        assert "is a file, so DUCKDB_PATH" in probe.json()["detail"]["checks"]["warehouse"]
        started = httpx.post(url + "/runs", json={"manifest": uris[1]}, timeout=10).json()
        done = wait_for(f"{url}/runs/{started['build_id']}", lambda b: b["state"] != "running", 120)
    result = done["result"]
    assert done["state"] == "failed" and result["error_type"] == "WarehouseError"
    assert "cannot create its directory" in result["error"] and "\n" not in result["error"]
    assert result["result_uri"] and Path(result["result_uri"]).is_file()


def test_the_warm_start_leaves_the_parse_to_a_build_that_arrived_during_the_import(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """In process: with a build already running once dbt is imported, the warm start parses nothing (no
    state directory appears); with none, it saves the parse the next build reuses."""
    from dbt_runner.app import _warm
    from dbt_runner.settings import RunnerSettings

    settings = RunnerSettings(duckdb_path=tmp_path / "w.duckdb", work_dir=tmp_path / "work")
    with caplog.at_level("INFO", logger="dbt_runner.app"):
        _warm(settings, lambda: True)
        assert not (tmp_path / "work" / "state").exists()
        _warm(settings, lambda: False)
    messages = [r.getMessage() for r in caplog.records if r.name == "dbt_runner.app"]
    assert messages == ["dbt warm (imported; a build is parsing)", "dbt warm"], messages
    assert list((tmp_path / "work" / "state").glob("dev-*/partial_parse.msgpack"))
