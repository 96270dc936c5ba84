"""Service mode: the dbt-runner as an HTTP API (`create_app()`).

One build at a time: dbt is not safe to run concurrently in one process, and two loads racing for the raw
schema would make no sense. A `POST /runs` while a build runs gets 409 naming the running build. Builds run
in a worker thread so health checks keep answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeAlias

import duckdb
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status

from dbt_runner.dbt_invoke import import_dbt
from dbt_runner.run import prepare, run_manifest
from dbt_runner.settings import RunnerSettings, get_settings
from etl_common.contract import BuildBusy, BuildRequest, BuildStatus
from etl_common.errors import EtlError
from etl_common.logs import one_line
from etl_common.readiness import CachedCheck, DependencyChecks
from etl_common.service import SingleFlight, create_service_app, record_crash, store_check
from etl_common.storage import open_store

log = logging.getLogger(__name__)


Builds: TypeAlias = SingleFlight[BuildStatus]


def _builds(request: Request) -> Builds:
    return request.app.state.builds  # type: ignore[no-any-return]


SettingsDep = Annotated[RunnerSettings, Depends(get_settings)]
BuildsDep = Annotated[Builds, Depends(_builds)]
runs = APIRouter(prefix="/runs", tags=["runs"])


def _dependency_checks(settings: RunnerSettings) -> DependencyChecks:
    """Cheap, bounded checks, each cached for `probe_ttl_s`: never a dbt parse, never DuckDB's write lock
    (builds never write the live file, so a read-only open answers even during a build)."""

    async def warehouse() -> tuple[bool, str]:
        if settings.target != "dev":
            return True, "ok (Snowflake: checked by each build)"
        return await asyncio.to_thread(_warehouse_readable, settings.duckdb_path.resolve())

    async def project() -> tuple[bool, str]:
        try:
            path = settings.dbt_project()
        except EtlError as exc:
            return False, str(exc)
        missing = [f for f in ("dbt_project.yml", "profiles.yml") if not (path / f).is_file()]
        return (False, f"{path} lacks {', '.join(missing)}") if missing else (True, f"ok {path}")

    checks = [
        CachedCheck("warehouse", warehouse, settings.probe_ttl_s),
        CachedCheck("dbt_project", project, settings.probe_ttl_s),
    ]
    if root := settings.manifest_root:

        async def bucket() -> tuple[bool, str]:
            return await store_check(lambda: open_store(root).check())

        checks.append(CachedCheck("bucket", bucket, settings.probe_ttl_s))
    return DependencyChecks(checks, settings.probe_timeout_s)


def _warehouse_readable(path: Path) -> tuple[bool, str]:
    nearest = path.parent
    while (
        not nearest.exists()
    ):  # a build creates missing directories: what matters is the first one there
        nearest = nearest.parent
    if not nearest.is_dir():
        return False, f"{nearest} is a file, so DUCKDB_PATH {path} cannot be created"
    if not os.access(nearest, os.W_OK | os.X_OK):
        return False, f"{nearest} is not writable (DUCKDB_PATH {path})"
    if path.is_dir():
        return False, f"DUCKDB_PATH {path} is a directory, not a DuckDB file"
    if not path.exists():
        return True, f"ok (no warehouse yet at {path})"
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute("SELECT 1").fetchone()
    except duckdb.Error as exc:
        return False, f"{path}: {one_line(str(exc))}"
    return True, "ok"


@runs.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BuildStatus,
    responses={409: {"description": "A build is running; retry when it finishes"}},
    summary="Load a manifest into raw and run dbt build",
)
async def start(body: BuildRequest, settings: SettingsDep, builds: BuildsDep) -> BuildStatus:
    if builds.current is not None:
        running = builds.by_id[builds.current]
        busy = BuildBusy(
            message="a build is already running; dbt cannot run two builds in one process",
            build_id=running.build_id,
            manifest_uri=running.manifest_uri,
        )
        raise HTTPException(status.HTTP_409_CONFLICT, detail=busy.model_dump())
    run = BuildStatus(
        build_id=secrets.token_hex(6),
        state="running",
        manifest_uri=body.manifest_uri,
        started_at=datetime.now(UTC),
    )
    builds.start(run.build_id, run, _execute(run, body, settings))
    return run


async def _execute(run: BuildStatus, body: BuildRequest, settings: RunnerSettings) -> None:
    """run_manifest turns every failure into its result; only a crash outside it (a bug) is caught
    here, so the status still ends, with the cause, as the loader's does."""
    try:
        run.result = await asyncio.to_thread(
            run_manifest, body.manifest_uri, settings, target=body.target, force=body.force
        )
        run.state = run.result.state
        run.error, run.error_type = run.result.error, run.result.error_type
        run.transient = run.result.transient
    except Exception as exc:
        record_crash(run, exc, log=log, message="build crashed", manifest=body.manifest_uri)
    finally:
        run.finished_at = datetime.now(UTC)


@runs.get("/{build_id}", response_model=BuildStatus, summary="State and result of one build")
async def get_run(build_id: str, builds: BuildsDep) -> BuildStatus:
    if build_id not in builds.by_id:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no build {build_id} in this process"
        )
    return builds.by_id[build_id]


def _warm(settings: RunnerSettings, building: Callable[[], bool]) -> None:
    """Import dbt and save a parse for the configured target, so the first build pays neither. A build
    that arrives during the import waits for it (Python's import lock) and then parses for itself, so the
    parse is skipped: it would only make that build wait longer for dbt's process lock."""
    t0 = time.monotonic()
    try:
        import_dbt()
        imported = time.monotonic() - t0
        if building():
            log.info(
                "dbt warm (imported; a build is parsing)", extra={"import_s": round(imported, 3)}
            )
            return
        parsed = prepare(settings, settings.target)
    except Exception as exc:  # warming is an optimisation: the first build parses instead
        log.warning("could not warm dbt", extra={"error": one_line(str(exc))})
        return
    log.info(
        "dbt warm" if parsed.success else "dbt warm, but its parse failed",
        extra={"import_s": round(imported, 3), "parse_s": parsed.seconds, "error": parsed.error},
    )


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    builds: Builds = app.state.builds
    if settings.warm_start:  # in the background: readiness does not wait for it
        threading.Thread(
            target=_warm,
            args=(settings, lambda: builds.current is not None),
            name="dbt-warm",
            daemon=True,
        ).start()
    yield


def create_app() -> FastAPI:
    app = create_service_app(
        lifespan=_lifespan,
        title="dbt-runner",
        version="0.1.0",
        description="Loads the Parquet a manifest names into raw and runs dbt build.",
        ready_summary="Readiness: warehouse readable and its directory writable, dbt project present,"
        " bucket up",
        routers=[runs],
    )
    app.state.builds = Builds()
    app.state.readiness = _dependency_checks(get_settings())
    return app
