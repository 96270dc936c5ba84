"""Run one of our services as a real subprocess on a free loopback port, for tests over real HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from dev_stack.processes import ManagedProcess, free_port, http_ok, python_module_argv, running

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def run_service(module: str, env: dict[str, str], log_path: Path) -> Iterator[str]:
    port = free_port()
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOADER_", "CURSOR_SIM_", "DBT_", "DUCKDB_"))
    }
    process = ManagedProcess(
        module,
        python_module_argv(module, "serve"),
        env={**clean, **env, "HOST": "127.0.0.1", "PORT": str(port)},
        log_path=log_path,
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    with running(process, http_ok(url + "/healthz"), timeout_s=60):
        yield url


def wait_for(
    url: str, done: Callable[[dict[str, Any]], bool], timeout_s: float = 120
) -> dict[str, Any]:
    """Poll a status URL until `done(body)`; fail with the last body after the deadline."""
    deadline = time.monotonic() + timeout_s
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = httpx.get(url, timeout=10).json()
        if done(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} not done after {timeout_s}s: {body}")


def wait_for_log(
    log: Path, match: Callable[[dict[str, Any]], bool], timeout_s: float = 120
) -> dict[str, Any]:
    """Wait for the first JSON log line in `log` that `match`es, and return it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        for line in text.splitlines():
            if line.startswith("{") and match(record := json.loads(line)):
                return record
        time.sleep(0.1)
    raise AssertionError(f"no matching log line in {log} after {timeout_s}s:\n{text[-2000:]}")
