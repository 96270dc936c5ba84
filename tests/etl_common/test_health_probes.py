"""The containers' health probe (`python -m etl_common.healthcheck`) and the jobs' `/healthz` listener."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from dev_stack.processes import free_port
from etl_common.healthcheck import probe
from etl_common.job_health import job_health_server


def _get(port: int, path: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_job_health_server_answers_while_the_job_runs_and_stops_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    monkeypatch.setenv("JOB_HEALTH_PORT", str(port))
    with job_health_server() as bound:
        assert bound == port
        assert _get(port, "/healthz") == (200, {"status": "ok", "mode": "job"})
        assert _get(port, "/other")[0] == 404
        assert probe("/healthz", str(port))[0] is True
    ok, detail = probe("/healthz", str(port))
    assert ok is False and str(port) in detail  # nothing listens once the job is over


def test_job_health_server_listens_nowhere_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOB_HEALTH_PORT", raising=False)
    with job_health_server() as bound:
        assert bound is None


def test_healthcheck_command_exit_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    command = [sys.executable, "-m", "etl_common.healthcheck"]
    env = {"PORT": str(port), "PATH": "/usr/bin:/bin"}
    down = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert down.returncode == 1 and f"127.0.0.1:{port}/healthz" in down.stderr
    with job_health_server(str(port)):
        up = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        missing = subprocess.run(
            [*command, "/nope"], env=env, capture_output=True, text=True, timeout=30
        )
    assert up.returncode == 0, up.stderr
    assert missing.returncode == 1 and "404" in missing.stderr
