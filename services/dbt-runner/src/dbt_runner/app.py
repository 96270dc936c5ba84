"""Service mode: the dbt-runner as an HTTP API (`create_app()`).

One build at a time: dbt is not safe to run concurrently in one process, and two loads racing for the raw
schema would make no sense. A `POST /runs` while a build runs gets 409 naming the running build. Builds run
in a worker thread so health checks keep answering.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeAlias

import duckdb
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from pydantic import BaseModel, Field

from dbt_runner.dbt_invoke import dbt_args, invoke
from dbt_runner.run import BuildResult, run_manifest
from dbt_runner.settings import RunnerSettings, get_settings
from etl_common.errors import EtlError
from etl_common.service import Readiness, SingleFlight, health_router, ready_or_503, store_check
from etl_common.service import serve as _serve
from etl_common.storage import open_store

log = logging.getLogger(__name__)


class RunRequest(BaseModel):
    manifest: str = Field(description="Local path or gs:// URI of a manifest")
    target: Literal["dev", "prod"] | None = None
    force: bool = False


class RunStatus(BaseModel):
    id: str
    state: Literal["running", "succeeded", "failed", "already_loaded"]
    manifest: str
    submitted_at: datetime
    result: BuildResult | None = None


Builds: TypeAlias = SingleFlight[RunStatus]


def _builds(request: Request) -> Builds:
    return request.app.state.builds  # type: ignore[no-any-return]


SettingsDep = Annotated[RunnerSettings, Depends(get_settings)]
BuildsDep = Annotated[Builds, Depends(_builds)]
health = APIRouter(tags=["health"])
runs = APIRouter(prefix="/runs", tags=["runs"])


@health.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
    summary="Readiness: warehouse and manifest bucket reachable, the dbt project parses",
)
async def readyz(settings: SettingsDep, builds: BuildsDep) -> Readiness:
    idle = (
        builds.current is None
    )  # DuckDB allows one writer, dbt one invocation: skip under a build
    checks = {
        "warehouse": await _warehouse(settings, idle),
        "dbt_project": await _project(settings, idle),
    }
    if root := settings.manifest_root:
        checks["bucket"] = await store_check(lambda: open_store(root).check())
    return ready_or_503(checks)


async def _warehouse(settings: RunnerSettings, idle: bool) -> tuple[bool, str]:
    if idle:
        path = settings.duckdb_path.resolve()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(lambda: duckdb.connect(str(path)).close())
        except duckdb.Error as exc:
            return False, str(exc)
    return True, "ok"


async def _project(settings: RunnerSettings, idle: bool) -> tuple[bool, str]:
    try:
        project = settings.dbt_project()
    except EtlError as exc:
        return False, str(exc)
    if idle:
        args = dbt_args(
            "parse",
            project_dir=project,
            profiles_dir=project,
            target=settings.target,
            target_path=settings.work_dir / "target",
            log_path=settings.work_dir / "logs",
        )
        env = {"DUCKDB_PATH": str(settings.duckdb_path.resolve()), "DBT_TARGET": settings.target}
        parsed = await asyncio.to_thread(invoke, args, env)
        if not parsed.success:
            return False, parsed.error or "dbt parse failed"
    return True, "ok"


@runs.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunStatus,
    responses={409: {"description": "A build is running; retry when it finishes"}},
    summary="Load a manifest into raw and run dbt build",
)
async def start(body: RunRequest, settings: SettingsDep, builds: BuildsDep) -> RunStatus:
    if builds.current is not None:
        running = builds.by_id[builds.current]
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={
                "message": "a build is already running; dbt cannot run two builds in one process",
                "running_id": running.id,
                "running_manifest": running.manifest,
            },
        )
    run = RunStatus(
        id=secrets.token_hex(6),
        state="running",
        manifest=body.manifest,
        submitted_at=datetime.now(UTC),
    )
    builds.start(run.id, run, _execute(run, body, settings))
    return run


async def _execute(run: RunStatus, body: RunRequest, settings: RunnerSettings) -> None:
    try:
        run.result = await asyncio.to_thread(
            run_manifest, body.manifest, settings, target=body.target, force=body.force
        )
        run.state = run.result.state
    except Exception:  # a bug, not bad input: record it rather than lose it with the task
        log.exception("build crashed", extra={"manifest": body.manifest})
        run.state = "failed"


@runs.get("/{run_id}", response_model=RunStatus, summary="State and result of one build")
async def get_run(run_id: str, builds: BuildsDep) -> RunStatus:
    if run_id not in builds.by_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no build {run_id} in this process")
    return builds.by_id[run_id]


def create_app() -> FastAPI:
    app = FastAPI(
        title="dbt-runner",
        version="0.1.0",
        description="Loads the Parquet a manifest names into raw and runs dbt build.",
    )
    app.state.builds = Builds()
    app.include_router(health_router)
    app.include_router(health)
    app.include_router(runs)
    return app


def serve() -> None:
    _serve(create_app())
