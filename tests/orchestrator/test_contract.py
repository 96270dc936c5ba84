"""The orchestrator reads the loader and the dbt-runner through the one contract
(`etl_common.contract`), over real HTTP against stand-ins: a malformed answer fails the step in one
line naming the field; a transient build failure travels to the run record and to the pipeline CLI's
exit code (75); answers and run records that use the names from before the contract still load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from dev_stack.follow import summarize
from dev_stack.processes import http_ok, running
from etl_common.storage import open_store
from orchestrator.models import Run, Step

from .harness import orchestrator_at
from .stand_ins import LOAD, build_result, loader_stand_in, record_of, runner_stand_in, until
from .stubs import Stub, healthy, stub_server

pytestmark = [pytest.mark.slow]


def _pipeline(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    drop = ("CURSOR_SIM_", "LOADER_", "DBT_", "DUCKDB_", "ORCHESTRATOR_", "STORAGE_EMULATOR_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return subprocess.run(
        [sys.executable, "-m", "dev_stack", "pipeline"],
        cwd=cwd,
        env={**env, "ORCHESTRATOR_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_malformed_loader_answer_fails_the_run_naming_the_field(tmp_path: Path) -> None:
    root = str(tmp_path / "bucket")

    def loader(stub: Stub, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if (method, path) == ("POST", "/runs"):
            return 202, {"state": "running", "started_at": "now", "output": root}
        return healthy(stub, method, path, body)

    with stub_server(loader) as extract, stub_server(healthy) as build:
        orch, url = orchestrator_at(root, extract.url, build.url, tmp_path)
        with running(orch, http_ok(url + "/healthz"), timeout_s=60):
            run_id = httpx.post(url + "/run", timeout=10).json()["run_id"]
            record = until(
                "the run ends", lambda: (r := record_of(root, run_id))["state"] != "running" and r
            )
    assert record["state"] == "failed" and record["transient"] is False, record
    assert record["error"] == (
        f"extract: loader: malformed answer on {extract.url}/runs: load_id: Field required "
        "(and 1 more)"
    )
    assert record["steps"]["extract"]["error_type"] == "MalformedAnswer"
    assert build.count("POST", "/runs") == 0


def _old_names(answer: dict[str, Any]) -> dict[str, Any]:
    """A dbt-runner answer as it was shaped before the contract: `id`, `manifest`, `submitted_at`."""
    renamed = {"build_id": "id", "manifest_uri": "manifest", "started_at": "submitted_at"}
    return {renamed.get(k, k): v for k, v in answer.items() if k not in ("finished_at", "error")}


def test_a_transient_build_ends_in_a_transient_run_and_exit_75(tmp_path: Path) -> None:
    root, finish = str(tmp_path / "bucket"), threading.Event()
    finish.set()
    manifest = f"{root}/manifests/{LOAD}.json"
    failure = {"error": "the warehouse is locked", "error_type": "WarehouseBusy", "transient": True}

    def runner(stub: Stub, method: str, path: str, body: bytes) -> tuple[int, Any]:
        started = {"id": "b-1", "manifest": manifest, "submitted_at": datetime.now(UTC).isoformat()}
        if (method, path) == ("POST", "/runs"):
            assert json.loads(body) == {"manifest_uri": manifest}
            return 202, {**started, "state": "running"}
        if (method, path) == ("GET", "/runs/b-1"):
            result = build_result("failed", **failure)
            return 200, _old_names({**started, "state": "failed", "result": result})
        return healthy(stub, method, path, body)

    with stub_server(loader_stand_in(root, finish)) as loader, stub_server(runner) as build:
        orch, url = orchestrator_at(root, loader.url, build.url, tmp_path)
        with running(orch, http_ok(url + "/healthz"), timeout_s=60):
            done = _pipeline(url, tmp_path)
    assert done.returncode == 75, done.stdout + done.stderr
    assert "FAILED" in done.stdout and "error: the warehouse is locked" in done.stdout
    (record_path,) = (tmp_path / "bucket" / "orchestrator" / "runs").glob("*.json")
    record = json.loads(record_path.read_text())
    assert record["state"] == "failed" and record["transient"] is True, record
    assert record["steps"]["build"]["transient"] is True
    assert record["steps"]["build"]["error_type"] == "WarehouseBusy"
    assert record["error"] == "build: the warehouse is locked"


def test_a_run_record_written_before_the_contract_still_loads(tmp_path: Path) -> None:
    root = str(tmp_path / "bucket")
    old = Run(owner="old-host:1:abc", state="succeeded", steps={"build": Step(state="succeeded")})
    written = old.model_dump(mode="json")
    written["created_at"] = written.pop("started_at")  # the name records had before
    open_store(root).put_bytes(f"orchestrator/runs/{old.run_id}.json", json.dumps(written).encode())
    with stub_server(healthy) as loader, stub_server(healthy) as build:
        orch, url = orchestrator_at(root, loader.url, build.url, tmp_path)
        with running(orch, http_ok(url + "/healthz"), timeout_s=60):
            view = httpx.get(f"{url}/runs/{old.run_id}", timeout=10).json()
            listed = httpx.get(f"{url}/runs", timeout=10).json()
    assert view["state"] == "succeeded"
    assert datetime.fromisoformat(view["started_at"]) == old.started_at
    assert "created_at" not in view
    assert [r["run_id"] for r in listed] == [old.run_id]


def test_a_load_that_succeeded_with_warnings_makes_a_run_that_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, finish = str(tmp_path / "bucket"), threading.Event()
    finish.set()
    warning = "pull_requests.title: present in 0 of 12 rows (the previous load had it in all)"
    loader_answers = loader_stand_in(root, finish)

    def loader(stub: Stub, method: str, path: str, body: bytes) -> tuple[int, Any]:
        code, answer = loader_answers(stub, method, path, body)
        if answer.get("state") == "succeeded":
            answer = {**answer, "warnings": [warning]}
        return code, answer

    with stub_server(loader) as extract, stub_server(runner_stand_in) as build:
        orch, url = orchestrator_at(root, extract.url, build.url, tmp_path)
        with running(orch, http_ok(url + "/healthz"), timeout_s=60):
            run_id = httpx.post(url + "/run", timeout=10).json()["run_id"]
            until("the run ends", lambda: record_of(root, run_id)["state"] != "running")
            view = httpx.get(f"{url}/runs/{run_id}", timeout=10).json()
    record = record_of(root, run_id)
    assert record["state"] == "succeeded" and record["warnings"] == [warning]
    assert record["steps"]["extract"]["warnings"] == [warning]
    summarize(view, None)
    printed = capsys.readouterr().out
    assert f"{run_id}: SUCCEEDED WITH WARNINGS" in printed
    assert f"  warnings: {warning}" in printed
