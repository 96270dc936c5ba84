"""Running the dbt project from tests: one subprocess per invocation, bounded by a timeout, with the target
directory, logs and the DuckDB file in a temporary directory (never in the source tree)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dev_stack.processes import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt"
DBT = Path(sys.executable).with_name("dbt")
DEFAULT_TIMEOUT_S = 240


@dataclass
class DbtRun:
    args: list[str]
    returncode: int
    stdout: str
    seconds: float
    target_dir: Path

    def results(self) -> list[dict[str, Any]]:
        return json.loads((self.target_dir / "run_results.json").read_text())["results"]

    def statuses(self) -> Counter[tuple[str, str]]:
        """(resource type, status) -> count, from run_results.json."""
        out: Counter[tuple[str, str]] = Counter()
        for r in self.results():
            out[(r["unique_id"].split(".")[0], r["status"])] += 1
        return out


def dbt_env(db_path: Path | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "SNOWFLAKE_"))}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    if db_path is not None:
        env["DUCKDB_PATH"] = str(db_path)
    env.update(extra or {})
    return env


def run_dbt(
    args: list[str],
    *,
    work_dir: Path,
    db_path: Path | None,
    target: str = "dev",
    env_extra: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> DbtRun:
    """`dbt <args>` against the project with its own target dir and logs under `work_dir`."""
    target_dir = work_dir / "target"
    cmd = [
        str(DBT),
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target",
        target,
        "--target-path",
        str(target_dir),
        "--log-path",
        str(work_dir / "logs"),
    ]
    started = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=REPO_ROOT,
        env=dbt_env(db_path, env_extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return DbtRun(
        cmd, proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - started, target_dir
    )


@contextmanager
def fakesnow_server(log_path: Path, startup_timeout: float = 30.0) -> Iterator[int]:
    """A fakesnow HTTP server on a free local port; always stopped (by its own pid) on exit."""
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fakesnow", "-s", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"fakesnow exited early: {log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"fakesnow not listening on {port}") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def fakesnow_connect(
    port: int,
    *,
    login_timeout: int = 20,
    network_timeout: int = 30,
    socket_timeout: int | None = None,
) -> Any:
    """A Snowflake connector session on the fakesnow at `port` (any credentials do). The timeouts bound
    the connector's endless retries of the HTTP 500s fakesnow answers unsupported SQL with."""
    import snowflake.connector

    bounds: dict[str, int] = {"login_timeout": login_timeout, "network_timeout": network_timeout}
    if socket_timeout is not None:
        bounds["socket_timeout"] = socket_timeout
    return snowflake.connector.connect(
        account="fakesnow", user="fake", password="fake", host="127.0.0.1", port=port,
        protocol="http", **bounds,
    )  # fmt: skip


def snowflake_env(port: int) -> dict[str, str]:
    return {
        "SNOWFLAKE_ACCOUNT": "fakesnow",
        "SNOWFLAKE_USER": "fake",
        "SNOWFLAKE_ROLE": "fake",
        "DBT_ENV_SECRET_SNOWFLAKE_PASSWORD": "fake",
        "SNOWFLAKE_DATABASE": "analytics",
        "SNOWFLAKE_WAREHOUSE": "fake_wh",
        "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": str(port),
        "SNOWFLAKE_PROTOCOL": "http",
    }
