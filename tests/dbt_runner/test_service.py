"""The dbt-runner's service mode over real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ..service_harness import run_service, wait_for
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
        assert second.json()["detail"]["running_id"] == first.json()["id"]
        assert "already running" in second.json()["detail"]["message"]
        done = wait_for(f"{url}/runs/{first.json()['id']}", lambda b: b["state"] != "running", 300)
        assert done["state"] == "succeeded", done
        assert done["result"]["dbt"]["success"] is True
        before = raw_snapshot(db)
        bad = httpx.post(
            url + "/runs", json={"manifest": str(root / "manifests" / "nope.json")}, timeout=10
        )
        failed = wait_for(f"{url}/runs/{bad.json()['id']}", lambda b: b["state"] != "running", 60)
        assert failed["state"] == "failed"
        assert "manifest not found" in failed["result"]["error"]
        assert raw_snapshot(db) == before
        assert httpx.post(url + "/runs", json={}, timeout=10).status_code == 422


@pytest.mark.slow
def test_every_bad_input_is_refused_over_http_and_raw_is_unchanged(loads, tmp_path: Path) -> None:  # noqa: F811
    root, uris = loads
    db = tmp_path / "warehouse.duckdb"
    env = {"DUCKDB_PATH": str(db), "DBT_RUNNER_WORK_DIR": str(tmp_path / "work")}
    with run_service("dbt_runner", env, tmp_path / "runner.log") as url:
        first = httpx.post(url + "/runs", json={"manifest": uris[1]}, timeout=10).json()
        assert (
            wait_for(f"{url}/runs/{first['id']}", lambda b: b["state"] != "running", 300)["state"]
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
            done = wait_for(f"{url}/runs/{run['id']}", lambda b: b["state"] != "running", 60)
            assert done["state"] == "failed", (case, done)
            assert phrase in done["result"]["error"], (case, done["result"]["error"])
        assert raw_snapshot(db) == before
