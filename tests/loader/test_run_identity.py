"""Run identity through real processes (contract 10.1): a load on a server of any age completes, and a
restart of the upstream at any point of a load is caught, with no manifest."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dev_stack.double import run_double
from dev_stack.processes import ManagedProcess, free_port, python_module_argv, running
from etl_common.manifest import Manifest

from .conftest import Double, run_loader

FAST = ("--rate-limit-per-minute", "100000")
# every data request waits a little, so a load lasts long enough to be interrupted at a chosen request
SLOW_DATA = {"kind": "delay", "seconds": 0.05, "times": 1_000_000, "path_prefix": "/analytics"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("offset_s", "reading"),
    [(90, "2m0s"), (86_400 + 90, "1d2m")],
    ids=["rounded-up-minutes", "past-a-day"],
)
def test_a_load_on_a_server_whose_uptime_is_coarse_completes(
    tmp_path: Path, offset_s: float, reading: str
) -> None:
    # At 90 s the upstream already reads "2m0s"; 5 s later it still does, which the old check (uptime
    # must advance as our clock did, +-2 s) took for a restart.
    with run_double(developers=2, seed=3, uptime_offset_s=offset_s) as url:
        Double(url).faults(
            {"kind": "delay", "seconds": 5, "times": 1, "path_prefix": "/analytics/github/reviews"}
        )
        result = run_loader(url, tmp_path, *FAST)
    assert result.code == 0, result.stdout + result.stderr
    manifest = Manifest.parse(Path(result.last_line).read_bytes())
    identity = manifest.source.identity
    assert identity["start"]["uptime"] == identity["end"]["uptime"] == reading
    assert identity["seconds_between"] >= 5
    assert identity["start"]["first_commit"] == identity["end"]["first_commit"]


@pytest.fixture
def port() -> int:
    return free_port()


def double_process(port: int, seed: int, log_dir: Path) -> ManagedProcess:
    argv = python_module_argv(
        "fake_cursor_sim",
        "--port",
        str(port),
        "--developers",
        "20",
        "--seed",
        str(seed),
        "--rate-limit-per-minute",
        "0",
    )
    return ManagedProcess(f"double-{seed}", argv, log_path=log_dir / f"double-{seed}.log")


def stats(url: str) -> dict:
    return httpx.get(url + "/_double/stats", timeout=2).json()


@pytest.fixture(scope="module")
def requests_per_load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """What one whole load of the 20-developer generation costs (the plan is deterministic)."""
    tmp = tmp_path_factory.mktemp("calibrate")
    with run_double(developers=20, seed=1) as url:
        result = run_loader(url, tmp, *FAST)
        assert result.code == 0, result.stdout + result.stderr
        yield stats(url)["total"]


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.10, 0.50, 0.95])
def test_a_restart_at_any_point_of_a_load_is_caught(
    tmp_path: Path, port: int, requests_per_load: int, fraction: float
) -> None:
    url = f"http://127.0.0.1:{port}"
    at = math.ceil(fraction * requests_per_load)

    def ready() -> bool:
        return httpx.get(url + "/_double/stats", timeout=1).status_code == 200

    out = tmp_path / "out"
    with running(double_process(port, 1, tmp_path), ready) as first:
        Double(url).faults(SLOW_DATA)
        loader = subprocess.Popen(
            [sys.executable, "-m", "loader", "extract", "--url", url, "--output", str(out), *FAST],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # wait for the event, the request count, then kill the upstream outright
            first.wait_ready(lambda: stats(url)["total"] >= at, timeout_s=60)
            assert loader.poll() is None, "the load ended before the chosen request"
        except BaseException:
            loader.kill()
            raise
        assert first.proc is not None
        os.killpg(first.proc.pid, signal.SIGKILL)  # no graceful shutdown: a crash
        first.proc.wait(timeout=10)
    with running(double_process(port, 2, tmp_path), ready):  # same port, new lifetime, new data
        stdout, stderr = loader.communicate(timeout=120)
    assert loader.returncode == 75, stdout + stderr
    assert ("upstream restarted" in stderr + stdout) or ("upstream regenerated" in stderr + stdout)
    assert "no manifest written" in stderr + stdout
    assert not (out / "manifests").exists()
