"""`POST /run` and `GET /runs` over real HTTP; run records in a real bucket; restarts and kills."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from dev_stack.processes import http_ok, running
from etl_common.storage import open_store
from orchestrator.models import Run, Step

from ..service_harness import wait_for
from .harness import Backend, get, kill_hard, loaded_load_id, orchestrator, orchestrator_process

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


def _done(body: dict) -> bool:  # type: ignore[type-arg]
    return body["state"] != "running"


def test_run_extracts_then_builds_one_at_a_time_and_survives_a_restart(gcs_env: Backend) -> None:
    be, root = gcs_env, gcs_env.root()
    with orchestrator(be, root) as url:
        ready = httpx.get(url + "/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"loader", "dbt-runner", "bucket"}
        first = httpx.post(url + "/run", timeout=10)
        assert first.status_code == 202
        run_id = first.json()["run_id"]
        second = httpx.post(url + "/run", timeout=10)
        assert second.status_code == 409
        assert second.json()["detail"]["run_id"] == run_id
        run = wait_for(f"{url}/runs/{run_id}", _done, 120)
        assert run["state"] == "succeeded", run
        extract, build = run["steps"]["extract"], run["steps"]["build"]
        assert extract["rows"]["commits"] > 0 and extract["requests"] > 0
        assert build["counts"]["test:pass"] > 0 and "test:fail" not in build["counts"]
        assert extract["seconds"] > 0 and build["seconds"] > 0
        assert run["links"]["manifest"].startswith(root + "/manifests/")
        assert run["links"]["build_result"].startswith(root + "/build-results/")
        assert [r["run_id"] for r in get(url + "/runs")] == [run_id]
        assert loaded_load_id(be.duckdb_path) == extract["remote_id"]
    record = json.loads(open_store(root).get_bytes(f"orchestrator/runs/{run_id}.json"))
    assert record["state"] == "succeeded"
    with orchestrator(be, root) as url:  # a new process on the same bucket: nothing lost
        again = get(f"{url}/runs/{run_id}")
        assert again["state"] == "succeeded" and again["steps"] == run["steps"]


def test_orchestrator_killed_mid_build_is_resumed_after_restart(gcs_env: Backend) -> None:
    be, root = gcs_env, gcs_env.root()
    proc, url = orchestrator_process(be, root)
    with running(proc, http_ok(url + "/healthz"), timeout_s=60):
        run_id = httpx.post(url + "/run", timeout=10).json()["run_id"]
        deadline = time.monotonic() + 60
        while get(f"{url}/runs/{run_id}")["steps"]["build"]["state"] != "running":
            assert time.monotonic() < deadline, "build never started"
            time.sleep(0.05)
        kill_hard(proc)
    record = json.loads(open_store(root).get_bytes(f"orchestrator/runs/{run_id}.json"))
    assert record["state"] == "running"  # what the dead instance left behind
    # (the warehouse cannot be read here: the dbt-runner holds its write lock mid-build)
    with orchestrator(be, root) as url2:
        run = wait_for(f"{url2}/runs/{run_id}", _done, 120)
        assert run["state"] == "succeeded", run
        assert any(
            "stopped during step build (its lease expired at" in n and "resumed" in n
            for n in run["notes"]
        )
        assert loaded_load_id(be.duckdb_path) == run["steps"]["extract"]["remote_id"]


def test_run_whose_remote_step_is_gone_is_failed_with_the_reason(gcs_env: Backend) -> None:
    """A record left `running` without a lease (as written before leases existed) is taken over at
    once; the loader does not know its load (it restarted since), so the run fails as transient."""
    be, root = gcs_env, gcs_env.root()
    before = loaded_load_id(be.duckdb_path)
    orphan = Run(owner="dead-host:1:abc", steps={"extract": Step(), "build": Step()})
    orphan.steps["extract"].begin("20990101T000000Z-abcdef")  # a load the loader never ran
    open_store(root).put_bytes(
        f"orchestrator/runs/{orphan.run_id}.json", orphan.model_dump_json().encode()
    )
    with orchestrator(be, root) as url:
        run = wait_for(f"{url}/runs/{orphan.run_id}", _done, 60)
        assert run["state"] == "failed" and run["transient"] is True, run
        assert run["error"] == (
            "extract: loader restarted during the run: it no longer knows load "
            "20990101T000000Z-abcdef"
        )
        assert run["steps"]["extract"]["state"] == "failed"
        assert run["steps"]["extract"]["transient"] is True
        assert run["steps"]["build"]["state"] == "pending"
        assert "dead-host:1:abc stopped during step extract (no lease on record)" in run["notes"][0]
    assert loaded_load_id(be.duckdb_path) == before
