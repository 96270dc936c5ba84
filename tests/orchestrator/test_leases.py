"""Runs are owned by one orchestrator at a time, through real processes on one bucket: a second live
instance leaves a run alone while the first one's lease lives, takes it over only after the first is
killed and the lease expired (with a note naming both), and an owner paused past its lease finds its
writes refused when it wakes. A loader restarted (or gone) mid-run fails the run as transient.

The loader and dbt-runner are stand-ins here (`stubs.py`) except in the restart tests, so a test can
hold the extraction `running` for as long as it needs and count what each service was asked."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dev_stack.double import run_double
from dev_stack.processes import ManagedProcess, free_port, http_ok, python_module_argv, running

from ..service_harness import REPO
from .harness import Backend, kill_hard, orchestrator_at
from .stand_ins import LOAD, loader_stand_in, record_of, runner_stand_in, until
from .stubs import Stub, stub_server

pytestmark = [pytest.mark.slow, pytest.mark.emulator]
TTL_S = 3.0  # the harness's ORCHESTRATOR_LEASE_TTL_S


def _logged(log: Path, message: str) -> bool:
    return log.exists() and any(
        json.loads(line).get("message", "").startswith(message)
        for line in log.read_text().splitlines()
        if line.startswith("{")
    )


def _takeover_notes(record: dict[str, Any]) -> list[re.Match[str]]:
    pattern = re.compile(
        r"orchestrator (\S+) stopped during step (\w+) \(its lease expired at (\S+)\); "
        r"resumed by (\S+) at (\S+)$"
    )
    return [m for n in record["notes"] if (m := pattern.match(n))]


def _drive_one_run(url: str, root: str) -> tuple[str, dict[str, Any]]:
    """Start a pipeline run and wait until its record shows the extraction being followed."""
    run_id = httpx.post(url + "/run", timeout=10).json()["run_id"]
    record = until(
        "the first orchestrator follows the extraction",
        lambda: (r := record_of(root, run_id))["steps"]["extract"]["remote_id"] == LOAD and r,
    )
    return run_id, record


@contextlib.contextmanager
def _two_orchestrators(
    gcs_env: Backend, root: str, tmp_path: Path, finish: threading.Event
) -> Iterator[tuple[Stub, Stub, tuple[ManagedProcess, str], tuple[ManagedProcess, str]]]:
    """A loader stand-in whose extraction runs until `finish`, a runner stand-in, and two orchestrators
    (A and B, not started) on the same bucket root."""
    with (
        stub_server(loader_stand_in(root, finish)) as loader,
        stub_server(runner_stand_in) as runner,
    ):
        a, b = (
            orchestrator_at(root, loader.url, runner.url, tmp_path, gcs=gcs_env.gcs, name=name)
            for name in ("orch-a", "orch-b")
        )
        yield loader, runner, a, b


def test_second_orchestrator_leaves_a_live_run_alone_and_takes_over_after_kill_and_expiry(
    gcs_env: Backend, tmp_path: Path
) -> None:
    root, finish = gcs_env.root(), threading.Event()
    with _two_orchestrators(gcs_env, root, tmp_path, finish) as (loader, runner, a, b):
        (first, url_a), (second, url_b) = a, b
        with running(first, http_ok(url_a + "/healthz"), timeout_s=60):
            run_id, record = _drive_one_run(url_a, root)
            owner_a = record["owner"]
            with running(second, http_ok(url_b + "/healthz"), timeout_s=60):
                last_lease_a = _b_leaves_the_run_to_a(root, run_id, owner_a, url_b, tmp_path)
                kill_hard(first)  # no shutdown hook: the lease is left to expire
                note = _b_takes_over_once_the_lease_expired(root, run_id, owner_a, last_lease_a)
                finish.set()  # the extraction ends: B drives the run to its end
                done = until(
                    "B finishes the run",
                    lambda: (r := record_of(root, run_id))["state"] != "running" and r,
                )
        posts = (loader.count("POST", "/runs"), runner.count("POST", "/runs"))
    assert done["state"] == "succeeded" and done["owner"] == note[4], done
    assert len(_takeover_notes(done)) == 1 and len(done["notes"]) == 1, done["notes"]
    assert done["steps"]["extract"]["rows"] == {"commits": 9}
    assert done["steps"]["build"]["counts"] == {"test:pass": 3}
    assert posts == (1, 1), f"B followed A's load instead of starting another: {posts}"


def _b_leaves_the_run_to_a(
    root: str, run_id: str, owner_a: str, url_b: str, tmp_path: Path
) -> datetime:
    """While A lives, B leaves A's run alone for more than a whole lease; A's last lease end."""
    b_up = datetime.now(UTC)
    # B has run its startup recovery: the run is still A's, untouched.
    record = record_of(root, run_id)
    assert record["owner"] == owner_a and record["notes"] == [], record
    until(
        "B reports it leaves the run alone",
        lambda: _logged(tmp_path / "orch-b.log", "run is driven by another"),
    )
    view = httpx.get(f"{url_b}/runs/{run_id}", timeout=10).json()
    assert view["owner"] == owner_a and view["state"] == "running"
    refused = httpx.post(url_b + "/run", timeout=10)
    assert refused.status_code == 409 and refused.json()["detail"]["run_id"] == run_id
    # A keeps renewing for more than a whole lease after B came up; B never steps in.
    until(
        "A renews its lease past a full TTL after B started",
        lambda: (
            datetime.fromisoformat(record_of(root, run_id)["lease_expires_at"])
            > b_up + timedelta(seconds=TTL_S + 1)
        ),
    )
    record = record_of(root, run_id)
    assert record["owner"] == owner_a and record["notes"] == [], record
    return datetime.fromisoformat(record["lease_expires_at"])


def _b_takes_over_once_the_lease_expired(
    root: str, run_id: str, owner_a: str, last_lease_a: datetime
) -> re.Match[str]:
    """A was killed: B takes the run over, not before A's last lease ended; the takeover note."""
    killed = datetime.now(UTC)
    record = until(
        "B takes the run over",
        lambda: (r := record_of(root, run_id))["owner"] != owner_a and r,
    )
    (note,) = _takeover_notes(record)
    assert note[1] == owner_a and note[2] == "extract"
    expired, taken = datetime.fromisoformat(note[3]), datetime.fromisoformat(note[5])
    assert expired >= last_lease_a and note[4] == record["owner"]
    assert taken >= expired, f"taken over at {taken}, before the lease ended at {expired}"
    assert expired > killed - timedelta(seconds=TTL_S)  # A's last lease, not older
    return note


def test_owner_paused_past_its_lease_cannot_overwrite_the_new_owner(
    gcs_env: Backend, tmp_path: Path
) -> None:
    root, finish = gcs_env.root(), threading.Event()
    with _two_orchestrators(gcs_env, root, tmp_path, finish) as (loader, _runner, a, b):
        (first, url_a), (second, url_b) = a, b
        with (
            running(first, http_ok(url_a + "/healthz"), timeout_s=60),
            running(second, http_ok(url_b + "/healthz"), timeout_s=60),
        ):
            run_id, record = _drive_one_run(url_a, root)
            owner_a = record["owner"]
            assert first.proc is not None
            os.killpg(first.proc.pid, signal.SIGSTOP)  # frozen, as a VM that stalls
            try:
                taken = until(
                    "B takes the run over from the frozen A",
                    lambda: (r := record_of(root, run_id))["owner"] != owner_a and r,
                )
            finally:
                os.killpg(first.proc.pid, signal.SIGCONT)
            until(
                "A notices, on waking, that the run is not its own any more",
                lambda: _logged(tmp_path / "orch-a.log", "lease lost"),
            )
            record = record_of(root, run_id)
            assert record["owner"] == taken["owner"] and record["notes"] == taken["notes"]
            view = httpx.get(f"{url_a}/runs/{run_id}", timeout=10).json()
            assert view["owner"] == taken["owner"], "A answers from the bucket, not its stale copy"
            finish.set()
            done = until(
                "B finishes the run",
                lambda: (r := record_of(root, run_id))["state"] != "running" and r,
            )
        posts = loader.count("POST", "/runs")
    assert done["state"] == "succeeded" and done["owner"] == taken["owner"], done
    assert len(_takeover_notes(done)) == 1 and len(done["notes"]) == 1, done["notes"]
    assert posts == 1
    assert not _logged(tmp_path / "orch-a.log", "run finished"), "A wrote the run's end"


def _loader(port: int, source: str, tmp: Path, name: str) -> ManagedProcess:
    env = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "CURSOR_SIM_URL": source,
        "LOADER_OUTPUT": str(tmp / "unused"),
        "LOADER_RATE_LIMIT_PER_MINUTE": "3",  # one request, then one per 20 s: stays running
        "TMPDIR": str(tmp),
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOADER_", "CURSOR_SIM_"))}
    return ManagedProcess(
        name,
        python_module_argv("loader", "serve"),
        env={**clean, **env},
        log_path=tmp / f"{name}.log",
        cwd=REPO,
    )


@pytest.mark.parametrize("restart", [True, False], ids=["restarted", "gone"])
def test_loader_restarted_or_gone_mid_run_fails_the_run_as_transient(
    tmp_path: Path, restart: bool
) -> None:
    root = str(tmp_path / "bucket")
    port = free_port()
    loader_url = f"http://127.0.0.1:{port}"
    with run_double(developers=2, days=90, seed=42) as source:
        loader = _loader(port, source, tmp_path, "loader")
        orch, url = orchestrator_at(
            root,
            loader_url,
            "http://127.0.0.1:9",  # never reached: the run fails before its build
            tmp_path,
            # restarted: a grace long enough to ride out the restart, so the new loader's 404
            # decides; gone: a short one, so giving up on the dead loader decides
            env={"ORCHESTRATOR_UNREACHABLE_GRACE_S": "60" if restart else "1"},
        )
        with (
            running(loader, http_ok(loader_url + "/healthz"), timeout_s=60),
            running(orch, http_ok(url + "/healthz"), timeout_s=60),
        ):
            run_id = httpx.post(url + "/run", timeout=10).json()["run_id"]
            load_id = until(
                "the extraction is followed",
                lambda: record_of(root, run_id)["steps"]["extract"]["remote_id"],
            )
            kill_hard(loader)
            again = _loader(port, source, tmp_path, "loader-again")
            if restart:  # the same port, a new process that knows nothing of the load
                again.start()
            try:
                if restart:
                    again.wait_ready(http_ok(loader_url + "/healthz"), timeout_s=60)
                record = until(
                    "the run ends",
                    lambda: (r := record_of(root, run_id))["state"] != "running" and r,
                    timeout_s=30,
                )
            finally:
                again.stop()
    extract = record["steps"]["extract"]
    assert record["state"] == "failed" and record["transient"] is True, record
    assert extract["state"] == "failed" and extract["transient"] is True
    if restart:
        assert record["error"] == (
            f"extract: loader restarted during the run: it no longer knows load {load_id}"
        )
        assert extract["error_type"] == "ServiceRestarted"
    else:
        assert record["error"].startswith(
            f"extract: loader unreachable for more than 1 s while following load {load_id} "
        ), record["error"]
    assert "\n" not in record["error"]
    assert record["steps"]["build"]["state"] == "pending"
