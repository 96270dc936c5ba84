"""Service mode: the loader as an HTTP API (`create_app()`), for the orchestrator and for Cloud Run services.

One extraction at a time (the upstream's rate limit is global, so two would only slow each other down): a
second `POST /runs` while one runs gets 409 with the running load id. Runs are kept in memory; the manifest in
the bucket is the durable record of a successful one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, TypeAlias

import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status

from etl_common.contract import LoadRequest, LoadStatus
from etl_common.errors import EtlError
from etl_common.layout import new_load_id
from etl_common.logs import one_line
from etl_common.readiness import CachedCheck, DependencyChecks
from etl_common.service import (
    Readiness,
    SingleFlight,
    add_request_trace,
    health_router,
    ready_or_503,
    store_check,
)
from etl_common.storage import open_store
from etl_common.urls import redact_text
from loader.extract import EntityProgress
from loader.run import ExtractRequest, extract
from loader.settings import LoaderSettings, get_settings

log = logging.getLogger(__name__)


Runs: TypeAlias = SingleFlight[LoadStatus]


def _runs(request: Request) -> Runs:
    return request.app.state.runs  # type: ignore[no-any-return]


SettingsDep = Annotated[LoaderSettings, Depends(get_settings)]
RunsDep = Annotated[Runs, Depends(_runs)]
health = APIRouter(tags=["health"])
runs_router = APIRouter(prefix="/runs", tags=["runs"])


@health.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: upstream and bucket reachable",
    responses={503: {"model": Readiness}},
)
async def readyz(request: Request) -> Readiness:
    checks: DependencyChecks = request.app.state.readiness
    return ready_or_503(await checks.answer())


# /health on the upstream costs one of its 100 requests a minute: a probe answer is reused for 30 s, and
# a burst of probes shares one check.
READY_CACHE_S = 30.0
READY_WAIT_S = 5.0


def _dependency_checks(settings: LoaderSettings) -> DependencyChecks:
    async def source() -> tuple[bool, str]:
        return await _check_source(settings)

    async def bucket() -> tuple[bool, str]:
        return await store_check(lambda: open_store(settings.output).check(), settings.output)

    return DependencyChecks(
        [
            CachedCheck("source", source, READY_CACHE_S),
            CachedCheck("bucket", bucket, READY_CACHE_S),
        ],
        READY_WAIT_S,
    )


async def _check_source(settings: LoaderSettings) -> tuple[bool, str]:
    """Reachable when it answers at all as cursor-sim does: 200, or 429 (the global limit is spent)."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            r = await client.get(settings.source_url.rstrip("/") + "/health")
        up = r.status_code in (200, 429)
        return up, ("ok " if up else "unreachable: ") + f"HTTP {r.status_code}"
    except httpx.HTTPError as exc:
        return False, redact_text(f"unreachable: {type(exc).__name__}: {exc}", settings.source_url)


@runs_router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=LoadStatus,
    summary="Start one extraction",
    responses={409: {"description": "A run is in progress"}},
)
async def start_run(
    request: Request, settings: SettingsDep, runs: RunsDep, body: LoadRequest | None = None
) -> LoadStatus:
    if runs.current is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"message": "an extraction is already running", "load_id": runs.current},
        )
    load_id = new_load_id()
    run = LoadStatus(
        load_id=load_id,
        state="running",
        started_at=datetime.now(UTC),
        output=(body.output if body and body.output else settings.output),
    )
    req = ExtractRequest(
        source_url=settings.source_url,
        api_key=settings.api_key.get_secret_value(),
        output=run.output,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        concurrency=settings.concurrency,
        timeout_s=settings.timeout_s,
        max_attempts=settings.max_attempts,
        row_group_rows=settings.row_group_rows,
        orphan_grace_s=settings.orphan_grace_s,
        staging_grace_s=settings.staging_grace_s,
    )
    runs.start(load_id, run, _execute(run, req, request.app.state.active))
    return run


async def _execute(run: LoadStatus, req: ExtractRequest, active: set[asyncio.Task[None]]) -> None:
    def on_progress(progress: dict[str, EntityProgress]) -> None:
        run.rows = {e: p.rows for e, p in progress.items()}
        run.pages = {
            e: f"{p.pages_done}/{max(p.pages_planned, p.pages_done)}" for e, p in progress.items()
        }

    task = asyncio.current_task()
    assert task is not None
    active.add(task)
    try:
        result = await extract(req, load_id=run.load_id, on_progress=on_progress)
        run.manifest_uri = result.manifest_uri
        run.rows = {e: o.rows for e, o in result.manifest.entities.items()}
        run.requests = result.manifest.requests.get("sent")
        run.warnings, run.outcome = result.warnings, result.outcome
        run.state = "succeeded"
    except EtlError as exc:
        error = redact_text(str(exc), req.source_url)
        run.state, run.error, run.error_type, run.transient = (
            "failed",
            error,
            type(exc).__name__,
            exc.transient,
        )
        run.outcome = f"failed: {one_line(error)}"
        log.error(error, extra={"load_id": run.load_id, "error_type": type(exc).__name__})
    except Exception as exc:  # a bug: record it on the run rather than lose it with the task
        error = redact_text(repr(exc), req.source_url)
        run.state, run.error, run.error_type, run.transient = (
            "failed",
            error,
            type(exc).__name__,
            False,
        )
        run.outcome = f"failed: {one_line(error)}"
        trace = "".join(traceback.format_exception(exc)).rstrip()
        log.error(
            "extraction crashed",
            extra={"load_id": run.load_id, "exception": redact_text(trace, req.source_url)},
        )
    except asyncio.CancelledError:  # the service is stopping (SIGTERM): cleaned up, not published
        run.state, run.error, run.error_type, run.transient = (
            "failed",
            "interrupted: the loader service stopped; no manifest written",
            "Interrupted",
            True,
        )
        run.outcome = f"failed: {run.error}"
        log.error(run.error, extra={"load_id": run.load_id, "error_type": "Interrupted"})
        raise
    finally:
        active.discard(task)
        run.finished_at = datetime.now(UTC)


@runs_router.get(
    "/{load_id}", response_model=LoadStatus, summary="State, counts and errors of one run"
)
async def get_run(load_id: str, runs: RunsDep) -> LoadStatus:
    if load_id not in runs.by_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no run {load_id} in this process")
    return runs.by_id[load_id]


@runs_router.get("", response_model=list[LoadStatus], summary="Runs of this process, newest first")
async def list_runs(runs: RunsDep) -> list[LoadStatus]:
    return sorted(runs.by_id.values(), key=lambda r: r.started_at, reverse=True)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown, cancel a running extraction and wait for it: uvicorn re-raises SIGTERM once the app
    has shut down, which would end the process before the run's `finally` (its staging directory's
    removal) ever ran."""
    yield
    active: set[asyncio.Task[None]] = app.state.active
    for task in active:
        task.cancel()
    if active:
        await asyncio.wait(active, timeout=_SHUTDOWN_GRACE_S)


_SHUTDOWN_GRACE_S = 8.0  # within Cloud Run's 10 s between SIGTERM and SIGKILL


def create_app() -> FastAPI:
    app = FastAPI(
        title="loader",
        version="0.1.0",
        description="Extracts cursor-sim into typed Parquet files and a manifest in a bucket.",
        lifespan=_lifespan,
    )
    app.state.active = set()
    app.state.runs = Runs()
    app.state.readiness = _dependency_checks(get_settings())
    add_request_trace(app)
    app.include_router(health_router)
    app.include_router(health)
    app.include_router(runs_router)
    return app
