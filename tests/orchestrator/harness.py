"""A real backend for orchestrator tests: fake-gcs-server, the cursor-sim double, the loader and the
dbt-runner as processes on free loopback ports, plus orchestrator processes the tests can kill."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx

from dev_stack.double import run_double
from dev_stack.gcs_emulator import run_fake_gcs
from dev_stack.processes import ManagedProcess, free_port, http_ok, python_module_argv, running
from etl_common.layout import split_manifest_uri
from etl_common.storage import open_store, split_gs_uri

from ..service_harness import REPO, run_service

BUCKET = "orch-bucket"


@dataclass
class Backend:
    gcs: str
    loader: str
    runner: str
    duckdb_path: Path
    logs: Path

    def root(self) -> str:
        """A fresh `gs://` root per test, so run records and markers never mix."""
        return f"gs://{BUCKET}/t-{secrets.token_hex(4)}"


@contextlib.contextmanager
def backend(tmp: Path, extra_gcs_args: tuple[str, ...] = ()) -> Iterator[Backend]:
    db = tmp / "warehouse.duckdb"
    with (
        run_fake_gcs(buckets=(BUCKET,), extra_args=extra_gcs_args, log_path=tmp / "gcs.log") as gcs,
        run_double(developers=2, days=90, seed=42, rate_limit_per_minute=0) as source,
        run_service(
            "dbt_runner",
            {
                "STORAGE_EMULATOR_HOST": gcs,
                "DUCKDB_PATH": str(db),
                "DBT_RUNNER_WORK_DIR": str(tmp / "work"),
            },
            tmp / "dbt-runner.log",
        ) as runner,
        run_service(
            "loader",
            {
                "STORAGE_EMULATOR_HOST": gcs,
                "CURSOR_SIM_URL": source,
                "LOADER_OUTPUT": f"gs://{BUCKET}/unused",
                "LOADER_RATE_LIMIT_PER_MINUTE": "6000",
            },
            tmp / "loader.log",
        ) as loader,
    ):
        yield Backend(gcs, loader, runner, db, tmp)


def orchestrator_process(
    be: Backend, root: str, port: int | None = None, env: dict[str, str] | None = None
) -> tuple[ManagedProcess, str]:
    return orchestrator_at(root, be.loader, be.runner, be.logs, gcs=be.gcs, port=port, env=env)


def orchestrator_at(
    root: str,
    loader: str,
    runner: str,
    logs: Path,
    *,
    gcs: str | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    name: str = "orchestrator",
) -> tuple[ManagedProcess, str]:
    """An orchestrator process on `root` calling `loader` and `runner` (real services or stubs)."""
    port = port or free_port()
    full = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ORCHESTRATOR_ROOT": root,
        "ORCHESTRATOR_LOADER_URL": loader,
        "ORCHESTRATOR_DBT_RUNNER_URL": runner,
        "ORCHESTRATOR_POLL_INTERVAL_S": "0.2",
        # short leases, so a takeover after a kill costs a test seconds, not the default 30 s
        "ORCHESTRATOR_LEASE_TTL_S": "3",
        "ORCHESTRATOR_HEARTBEAT_S": "0.5",
        **({"STORAGE_EMULATOR_HOST": gcs} if gcs else {}),
        **(env or {}),
    }
    proc = ManagedProcess(
        name,
        python_module_argv("orchestrator", "serve"),
        env=full,
        log_path=logs / f"{name}.log",
        cwd=REPO,
    )
    return proc, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def orchestrator(be: Backend, root: str) -> Iterator[str]:
    proc, url = orchestrator_process(be, root)
    with running(proc, http_ok(url + "/healthz"), timeout_s=60):
        yield url


def kill_hard(proc: ManagedProcess) -> None:
    """SIGKILL: no shutdown hook runs, as when a container is evicted."""
    assert proc.proc is not None
    os.killpg(proc.proc.pid, signal.SIGKILL)
    proc.proc.wait(timeout=10)


def loaded_load_id(db: Path) -> str | None:
    """The load the warehouse's raw tables hold (the dbt-runner's own bookkeeping)."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT load_id FROM raw._loads ORDER BY loaded_at DESC LIMIT 1"
        ).fetchone()
    return str(row[0]) if row else None


def extract_manifest(be: Backend, root: str) -> str:
    """Run the loader alone (no orchestrator) and return the manifest URI it produced."""
    from ..service_harness import wait_for

    started = httpx.post(be.loader + "/runs", json={"output": root}, timeout=10).json()
    done = wait_for(f"{be.loader}/runs/{started['load_id']}", lambda b: b["state"] != "running", 60)
    assert done["state"] == "succeeded", done
    return str(done["manifest_uri"])


def manifest_object(manifest_uri: str) -> tuple[str, str, str]:
    """(bucket, name, generation) of a manifest, read from the bucket itself: what a storage event names."""
    bucket, name = split_gs_uri(manifest_uri)
    root, key = split_manifest_uri(manifest_uri)
    info = open_store(root).stat(key)
    assert info is not None and info.generation is not None
    return bucket, name, info.generation


def get(url: str) -> Any:
    return httpx.get(url, timeout=10).json()
