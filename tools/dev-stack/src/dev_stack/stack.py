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
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dev_stack.double import double_argv, double_ready
from dev_stack.gcs_emulator import run_fake_gcs
from dev_stack.processes import ManagedProcess, free_port, http_ok, python_module_argv
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


@dataclass
class _Launcher:
    """Starts processes at once, each stopped by the one ExitStack, and waits on them together, so
    the cold start costs the slowest import rather than the sum."""

    stack: contextlib.ExitStack[bool | None]
    logs: Path
    waits: list[tuple[ManagedProcess, Callable[[], bool]]] = field(default_factory=list)

    def start(
        self, name: str, argv: list[str], env: dict[str, str], probe: Callable[[], bool]
    ) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
        proc = ManagedProcess(
            name, argv, env={**base, **env}, log_path=self.logs / f"{name}.log", cwd=Path.cwd()
        )
        self.stack.callback(proc.stop)
        proc.start()
        self.waits.append((proc, probe))

    def wait_all(self) -> None:
        for proc, probe in self.waits:
            proc.wait_ready(probe, READY_TIMEOUT_S)


def _start_source(
    launch: _Launcher, opts: StackOptions, port: int, say: Callable[[str], None]
) -> str:
    """The upstream's URL: CURSOR_SIM_URL when set, else a double started on `port`."""
    if source := os.environ.get("CURSOR_SIM_URL"):
        say(f"source: {redact(source)} (CURSOR_SIM_URL)")
        return source
    source = f"http://127.0.0.1:{port}"
    say(
        f"notice: CURSOR_SIM_URL is not set; starting the cursor-sim double at {source} "
        f"({opts.developers} developers"
        + (f" replicated from {opts.seed_developers}" if opts.seed_developers else "")
        + f", 90 days, seed {opts.seed}, "
        f"{opts.rate_limit_per_minute} requests/minute like the upstream)"
    )
    argv = double_argv(
        port,
        developers=opts.developers,
        days=90,
        seed=opts.seed,
        rate_limit_per_minute=opts.rate_limit_per_minute,
        seed_developers=opts.seed_developers or None,
    )
    launch.start("cursor-sim-double", argv, {}, double_ready(source))
    return source


def _start_warehouse(
    launch: _Launcher, opts: StackOptions, say: Callable[[str], None]
) -> dict[str, str]:
    """The dbt-runner's warehouse environment; a fakesnow is started for Snowflake without SNOWFLAKE_*."""
    if opts.warehouse != "snowflake":
        return {}
    warehouse_env = {"DBT_RUNNER_TARGET": "prod"}
    if os.environ.get("SNOWFLAKE_HOST") or os.environ.get("SNOWFLAKE_ACCOUNT"):
        say("warehouse: Snowflake from the SNOWFLAKE_* environment")
        return warehouse_env
    port = free_port()
    say(
        f"warehouse: Snowflake emulator (fakesnow) on 127.0.0.1:{port}, in memory: its "
        "tables are gone when this command ends"
    )
    argv = python_module_argv("fakesnow", "-s", "-p", str(port))
    launch.start("fakesnow", argv, {}, _listening(port))
    return (
        warehouse_env | FAKESNOW_ENV | {"SNOWFLAKE_HOST": "127.0.0.1", "SNOWFLAKE_PORT": str(port)}
    )


def _start_services(
    launch: _Launcher, opts: StackOptions, gcs: str, source: str, warehouse_env: dict[str, str]
) -> dict[str, str]:
    """The dbt-runner, the loader and the orchestrator; returns their URLs by name."""
    root = f"gs://{BUCKET}/raw"
    common = {"STORAGE_EMULATOR_HOST": gcs, "HOST": "127.0.0.1"}
    ports = {name: free_port() for name in ("loader", "dbt-runner", "orchestrator")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    services = {
        "dbt-runner": {
            "DUCKDB_PATH": str(opts.duckdb_path.resolve()),
            "DBT_RUNNER_MANIFEST_ROOT": root,  # refuse manifests from anywhere else
            "DBT_RUNNER_WORK_DIR": str((opts.work_dir / "dbt-runner").resolve()),
            **warehouse_env,
        },
        "loader": {
            "CURSOR_SIM_URL": source,
            "LOADER_OUTPUT": root,
            "LOADER_RATE_LIMIT_PER_MINUTE": str(opts.rate_limit_per_minute),
        },
        "orchestrator": {
            "ORCHESTRATOR_ROOT": root,
            "ORCHESTRATOR_LOADER_URL": url["loader"],
            "ORCHESTRATOR_DBT_RUNNER_URL": url["dbt-runner"],
            # a local service answers a poll in a millisecond: see a step end when it ends
            "ORCHESTRATOR_POLL_INTERVAL_S": "0.1",
        },
    }
    argv = {
        "dbt-runner": python_module_argv("dbt_runner", "serve"),
        "loader": python_module_argv("loader", "serve"),
        "orchestrator": python_module_argv("orchestrator", "serve"),
    }
    for name, env in services.items():
        env = {**common, "PORT": str(ports[name]), **env}
        launch.start(name, argv[name], env, http_ok(url[name] + "/healthz"))
    return url


@contextlib.contextmanager
def local_stack(opts: StackOptions, say: Callable[[str], None]) -> Iterator[str]:
    """Start the stack, yield the orchestrator's URL, stop everything on the way out."""
    logs = opts.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        gcs = stack.enter_context(run_fake_gcs(buckets=(BUCKET,), log_path=logs / "fake-gcs.log"))
        say(f"bucket: gs://{BUCKET}/raw on fake-gcs-server at {gcs}")
        double_port = free_port()
        launch = _Launcher(stack, logs)
        source = _start_source(launch, opts, double_port, say)
        warehouse_env = _start_warehouse(launch, opts, say)
        url = _start_services(launch, opts, gcs, source, warehouse_env)
        launch.wait_all()
        ready = httpx.get(url["orchestrator"] + "/readyz", timeout=10)
        if ready.status_code != 200:
            raise RuntimeError(f"orchestrator not ready: {ready.text}")
        say(
            f"services up: loader {url['loader']}, dbt-runner {url['dbt-runner']}, "
            f"orchestrator {url['orchestrator']} (logs in {logs})"
        )
        yield url["orchestrator"]
