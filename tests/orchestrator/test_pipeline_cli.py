"""`python -m dev_stack pipeline` (what `make pipeline` runs) as a new user would run it: a real
process that starts the whole local stack, follows one run, and leaves nothing behind."""

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

from dev_stack.processes import running

from .harness import Backend, orchestrator_process

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


def _env() -> dict[str, str]:
    drop = ("CURSOR_SIM_", "LOADER_", "DBT_", "DUCKDB_", "ORCHESTRATOR_", "STORAGE_EMULATOR_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _processes_in(cwd: Path) -> list[str]:
    """Command lines of live processes whose working directory is `cwd` (all the stack's)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cwd").resolve() == cwd.resolve():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def test_pipeline_starts_everything_runs_once_and_stops_everything(tmp_path: Path) -> None:
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "dev_stack", "pipeline"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    wall = time.monotonic() - t0
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "notice: CURSOR_SIM_URL is not set; starting the cursor-sim double" in out
    assert re.search(r"rows: commits \d[\d,]*, pull_requests \d", out), out
    assert re.search(r"tests passed: (\d+)/\1\n", out), out
    assert f"warehouse: {(tmp_path / 'data' / 'warehouse.duckdb').resolve()}" in out
    assert "query it:" in out and "stopped every process" in out
    assert (tmp_path / "data" / "warehouse.duckdb").is_file()
    print(f"[make pipeline, cold] {wall:.1f}s wall")  # measured, not asserted: see bench/
    for port in re.findall(r"http://127\.0\.0\.1:(\d+)", out):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    assert _processes_in(tmp_path) == []


def test_ctrl_c_mid_run_stops_everything_and_exits_130(tmp_path: Path) -> None:
    cli = subprocess.Popen(
        [sys.executable, "-m", "dev_stack", "pipeline"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert cli.stdout is not None
        deadline = time.monotonic() + 90
        for line in cli.stdout:  # bounded: the process ends or we interrupt it
            if line.startswith("run ") or time.monotonic() > deadline:
                break
        assert _processes_in(tmp_path), "the stack should be up mid-run"
        cli.send_signal(signal.SIGINT)
        rest, _ = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 130, rest
    assert "interrupted; every process this command started was stopped" in rest
    assert _processes_in(tmp_path) == []


def test_with_orchestrator_url_it_only_triggers_follows_and_fails_loudly(
    be: Backend, tmp_path: Path
) -> None:
    broken = Backend(be.gcs, "http://127.0.0.1:9", be.runner, be.duckdb_path, be.logs)
    proc, url = orchestrator_process(broken, be.root())
    with running(proc, lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200):
        done = subprocess.run(
            [sys.executable, "-m", "dev_stack", "pipeline"],
            cwd=tmp_path,
            env={**_env(), "ORCHESTRATOR_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 75, done.stdout + done.stderr  # the loader down: transient
    assert f"triggering and following {url} (nothing is started)" in done.stdout
    assert "FAILED" in done.stdout and "loader" in done.stdout and "error:" in done.stdout
    assert not (tmp_path / "data").exists()


def test_pipeline_against_the_snowflake_emulator(tmp_path: Path) -> None:
    """WAREHOUSE=snowflake without SNOWFLAKE_* settings: fakesnow is started, built on, and stopped."""
    env = {k: v for k, v in _env().items() if not k.startswith("SNOWFLAKE_")}
    done = subprocess.run(
        [sys.executable, "-m", "dev_stack", "pipeline"],
        cwd=tmp_path,
        env={**env, "WAREHOUSE": "snowflake"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "warehouse: Snowflake emulator (fakesnow)" in out
    assert re.search(r"tests passed: (\d+)/\1\n", out), out
    assert "model:success 11" in out
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()
    assert _processes_in(tmp_path) == []
