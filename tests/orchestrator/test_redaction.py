"""Credentials in a configured URL (`http://user:password@host`) never reach a run record, a log line,
a readiness answer or what `python -m dev_stack pipeline` prints, through real processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dev_stack.double import run_double
from dev_stack.processes import free_port, http_ok, running

from .harness import orchestrator_at
from .stubs import healthy, stub_server

pytestmark = [pytest.mark.slow]
SECRET = "s3cret-pw"


def _with_credentials(url: str) -> str:
    return url.replace("http://", f"http://pipeline:{SECRET}@", 1)


def _env(**extra: str) -> dict[str, str]:
    drop = ("CURSOR_SIM_", "LOADER_", "DBT_", "DUCKDB_", "ORCHESTRATOR_", "STORAGE_EMULATOR_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)} | extra


def test_service_url_credentials_reach_no_record_log_readiness_or_stdout(tmp_path: Path) -> None:
    root = tmp_path / "bucket"
    closed = free_port()  # the loader is down: its URL ends up in the run's error
    with stub_server(healthy) as runner:
        proc, url = orchestrator_at(
            str(root),
            _with_credentials(f"http://127.0.0.1:{closed}"),
            _with_credentials(runner.url),
            tmp_path,
        )
        with running(proc, http_ok(url + "/healthz"), timeout_s=60):
            ready = httpx.get(url + "/readyz", timeout=10)
            done = subprocess.run(
                [sys.executable, "-m", "dev_stack", "pipeline"],
                cwd=tmp_path,
                env=_env(ORCHESTRATOR_URL=_with_credentials(url)),
                capture_output=True,
                text=True,
                timeout=60,
            )
    out = done.stdout + done.stderr
    assert done.returncode == 75, out  # the loader is down: worth retrying
    assert f"triggering and following {url} (nothing is started)" in done.stdout
    assert re.search(rf"run \S+ started on {re.escape(url)}\n", done.stdout), done.stdout
    (record_path,) = (root / "orchestrator" / "runs").glob("*.json")
    record = record_path.read_text()
    assert f"loader: ConnectError on http://127.0.0.1:{closed}/runs" in record, record
    assert ready.status_code == 503 and "unreachable" in ready.json()["detail"]["checks"]["loader"]
    for where, text in {
        "stdout/stderr": out,
        "run record": record,
        "readiness": ready.text,
        "orchestrator log": (tmp_path / "orchestrator.log").read_text(),
    }.items():
        assert SECRET not in text and "pipeline:" not in text, f"credentials in the {where}"


def test_cursor_sim_url_credentials_are_not_printed_by_the_local_stack(tmp_path: Path) -> None:
    """Up to the run's start (then Ctrl-C: the build's duration says nothing about redaction)."""
    with run_double(developers=2, days=90, seed=42) as source:
        cli = subprocess.Popen(
            [sys.executable, "-m", "dev_stack", "pipeline"],
            cwd=tmp_path,
            env=_env(CURSOR_SIM_URL=_with_credentials(source)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert cli.stdout is not None
            seen = []
            deadline = time.monotonic() + 120
            for line in cli.stdout:  # bounded: the process ends or we interrupt it
                seen.append(line)
                if line.startswith("run ") or time.monotonic() > deadline:
                    break
            cli.send_signal(signal.SIGINT)
            rest, _ = cli.communicate(timeout=60)
        finally:
            if cli.poll() is None:
                cli.kill()
    out = "".join(seen) + rest
    assert f"source: {source} (CURSOR_SIM_URL)\n" in out, out
    assert re.search(r"^run \S+ started on http://127\.0\.0\.1:\d+$", seen[-1]), out
    assert cli.returncode == 130, out
    orchestrator_log = (tmp_path / "data" / ".pipeline" / "logs" / "orchestrator.log").read_text()
    for where, text in {"stdout/stderr": out, "orchestrator log": orchestrator_log}.items():
        assert SECRET not in text, f"credentials in the {where}"
