"""The embedded local stack behind `make pipeline`: every service as a real process on a free port.

fake-gcs-server (from the PyPI wheel), the cursor-sim double (only when CURSOR_SIM_URL is unset), the
loader, the dbt-runner and the orchestrator. Everything is started at once and waited on with a
deadline, so the cold start costs the slowest import rather than the sum; everything is stopped on
every exit path (failure and Ctrl-C included) because it is registered on one ExitStack.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from etl_common.gcs_emulator import run_fake_gcs
from etl_common.processes import ManagedProcess, free_port, http_ok, python_module_argv
from etl_common.urls import redact

BUCKET = "cursor-analytics"
READY_TIMEOUT_S = 90.0
_OWN_PREFIXES = ("LOADER_", "DBT_RUNNER_", "ORCHESTRATOR_", "DUCKDB_", "STORAGE_EMULATOR_")


@dataclass(frozen=True)
class StackOptions:
    duckdb_path: Path
    work_dir: Path  # logs and scratch
    developers: int = 2
    # Replicate `developers` from this many seed developers, as the upstream's own docker-compose does
    # (50 from its bundled 2); None serves every developer from the seed.
    seed_developers: int | None = None
    seed: int = 42
    rate_limit_per_minute: int = 100  # the upstream's global limit
    warehouse: str = "duckdb"  # or "snowflake": the dbt-runner loads and builds with --target prod


# Any account/user/password satisfy the emulator; the password still travels as the secret variable.
FAKESNOW_ENV = {
    "SNOWFLAKE_ACCOUNT": "fakesnow",
    "SNOWFLAKE_USER": "pipeline",
    "SNOWFLAKE_ROLE": "pipeline",
    "DBT_ENV_SECRET_SNOWFLAKE_PASSWORD": "emulator",
    "SNOWFLAKE_DATABASE": "analytics",
    "SNOWFLAKE_WAREHOUSE": "pipeline_wh",
    "SNOWFLAKE_PROTOCOL": "http",
    "SNOWFLAKE_FAKESNOW_COMPAT": "true",  # the emulator's concessions, listed in dbt/README.md
    "SNOWFLAKE_NETWORK_TIMEOUT_S": "120",  # fakesnow answers what it cannot run with 500s, retried
}


def _listening(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    return probe


def _proc(name: str, argv: list[str], env: dict[str, str], logs: Path) -> ManagedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    return ManagedProcess(
        name, argv, env={**base, **env}, log_path=logs / f"{name}.log", cwd=Path.cwd()
    )


@contextlib.contextmanager
def local_stack(opts: StackOptions, say: Callable[[str], None]) -> Iterator[str]:
    """Start the stack, yield the orchestrator's URL, stop everything on the way out."""
    logs = opts.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        gcs = stack.enter_context(run_fake_gcs(buckets=(BUCKET,), log_path=logs / "fake-gcs.log"))
        root = f"gs://{BUCKET}/raw"
        say(f"bucket: {root} on fake-gcs-server at {gcs}")
        common = {"STORAGE_EMULATOR_HOST": gcs, "HOST": "127.0.0.1", "LOG_LEVEL": "INFO"}
        ports = {name: free_port() for name in ("loader", "dbt-runner", "orchestrator", "double")}
        url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        waits: list[tuple[ManagedProcess, Callable[[], bool]]] = []

        def start(proc: ManagedProcess, probe: Callable[[], bool]) -> None:
            stack.callback(proc.stop)
            proc.start()
            waits.append((proc, probe))

        source = os.environ.get("CURSOR_SIM_URL")
        if source:
            say(f"source: {redact(source)} (CURSOR_SIM_URL)")
        else:
            source = url["double"]
            say(
                f"notice: CURSOR_SIM_URL is not set; starting the cursor-sim double at {source} "
                f"({opts.developers} developers"
                + (f" replicated from {opts.seed_developers}" if opts.seed_developers else "")
                + f", 90 days, seed {opts.seed}, "
                f"{opts.rate_limit_per_minute} requests/minute like the upstream)"
            )
            argv = python_module_argv(
                "fake_cursor_sim",
                "--port",
                str(ports["double"]),
                "--developers",
                str(opts.developers),
                "--days",
                "90",
                "--seed",
                str(opts.seed),
                "--rate-limit-per-minute",
                str(opts.rate_limit_per_minute),
                *(("--seed-developers", str(opts.seed_developers)) if opts.seed_developers else ()),
            )
            start(
                _proc("cursor-sim-double", argv, {}, logs),
                lambda: httpx.get(source + "/_double/stats", timeout=1).status_code == 200,
            )
        warehouse_env: dict[str, str] = {}
        if opts.warehouse == "snowflake":
            warehouse_env["DBT_RUNNER_TARGET"] = "prod"
            if os.environ.get("SNOWFLAKE_HOST") or os.environ.get("SNOWFLAKE_ACCOUNT"):
                say("warehouse: Snowflake from the SNOWFLAKE_* environment")
            else:
                port = free_port()
                say(
                    f"warehouse: Snowflake emulator (fakesnow) on 127.0.0.1:{port}, in memory: its "
                    "tables are gone when this command ends"
                )
                warehouse_env |= {
                    **FAKESNOW_ENV,
                    "SNOWFLAKE_HOST": "127.0.0.1",
                    "SNOWFLAKE_PORT": str(port),
                }
                start(
                    _proc(
                        "fakesnow", python_module_argv("fakesnow", "-s", "-p", str(port)), {}, logs
                    ),
                    _listening(port),
                )
        start(
            _proc(
                "dbt-runner",
                python_module_argv("dbt_runner", "serve"),
                {
                    **common,
                    "PORT": str(ports["dbt-runner"]),
                    "DUCKDB_PATH": str(opts.duckdb_path.resolve()),
                    "DBT_RUNNER_MANIFEST_ROOT": root,  # refuse manifests from anywhere else
                    "DBT_RUNNER_WORK_DIR": str((opts.work_dir / "dbt-runner").resolve()),
                    **warehouse_env,
                },
                logs,
            ),
            http_ok(url["dbt-runner"] + "/healthz"),
        )
        start(
            _proc(
                "loader",
                python_module_argv("loader", "serve"),
                {
                    **common,
                    "PORT": str(ports["loader"]),
                    "CURSOR_SIM_URL": source,
                    "LOADER_OUTPUT": root,
                    "LOADER_RATE_LIMIT_PER_MINUTE": str(opts.rate_limit_per_minute),
                },
                logs,
            ),
            http_ok(url["loader"] + "/healthz"),
        )
        start(
            _proc(
                "orchestrator",
                python_module_argv("orchestrator", "serve"),
                {
                    **common,
                    "PORT": str(ports["orchestrator"]),
                    "ORCHESTRATOR_ROOT": root,
                    "ORCHESTRATOR_LOADER_URL": url["loader"],
                    "ORCHESTRATOR_DBT_RUNNER_URL": url["dbt-runner"],
                },
                logs,
            ),
            http_ok(url["orchestrator"] + "/healthz"),
        )
        for proc, probe in waits:
            proc.wait_ready(probe, READY_TIMEOUT_S)
        ready = httpx.get(url["orchestrator"] + "/readyz", timeout=10)
        if ready.status_code != 200:
            raise RuntimeError(f"orchestrator not ready: {ready.text}")
        say(
            f"services up: loader {url['loader']}, dbt-runner {url['dbt-runner']}, "
            f"orchestrator {url['orchestrator']} (logs in {logs})"
        )
        yield url["orchestrator"]
