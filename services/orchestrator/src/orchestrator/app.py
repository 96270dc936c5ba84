"""Service mode: `POST /run`, `GET /runs[/{id}]`, health, and storage events on `POST /` and
`POST /pubsub/push`. Routes only translate HTTP; the engine and the intake hold the logic.

At startup the service re-reads its run records from the bucket and resumes any run a previous
instance left `running` once that instance's lease on it has expired (at once if it shut down cleanly);
runs another live instance drives are left to it. A restart loses nothing and reports honestly.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse

from etl_common.errors import EtlError
from etl_common.layout import run_key
from etl_common.readiness import CHECK_TIMEOUT_S, CachedCheck, DependencyChecks
from etl_common.service import (
    Readiness,
    add_request_trace,
    health_router,
    ready_or_503,
    store_check,
)
from etl_common.urls import redact
from orchestrator.clients import ServiceClient
from orchestrator.engine import Engine
from orchestrator.events import MalformedEvent, from_cloudevent, from_pubsub_push
from orchestrator.intake import handle_object
from orchestrator.models import Run, StartedRun, Step
from orchestrator.settings import OrchestratorSettings, get_settings
from orchestrator.state import RunStore

log = logging.getLogger(__name__)


class RunView(Run):
    links: dict[str, str]
    seconds_total: float | None = None


def _engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


EngineDep = Annotated[Engine, Depends(_engine)]
health = APIRouter(tags=["health"])
runs = APIRouter(tags=["runs"])
events = APIRouter(tags=["events"])


def _view(engine: Engine, run: Run) -> RunView:
    links = {"self": f"/runs/{run.run_id}", "record": engine.store.url_for(run_key(run.run_id))}
    if run.manifest_uri:
        links["manifest"] = run.manifest_uri
    if run.result_uri:
        links["build_result"] = run.result_uri
    return RunView(**run.model_dump(), links=links, seconds_total=run.seconds)


@health.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
    summary="Readiness: loader, dbt-runner and bucket reachable (checks cached a few seconds)",
)
async def readyz(request: Request) -> Readiness:
    readiness: DependencyChecks = request.app.state.readiness
    return ready_or_503(await readiness.answer())


def _dependency_checks(engine: Engine, cfg: OrchestratorSettings) -> DependencyChecks:
    def service(client: ServiceClient) -> CachedCheck:
        async def check() -> tuple[bool, str]:
            up, detail = await client.reachable(max(CHECK_TIMEOUT_S, cfg.ready_timeout_s))
            return up, ("ok " if up else "unreachable: ") + detail

        return CachedCheck(client.name, check, cfg.ready_cache_s)

    async def bucket() -> tuple[bool, str]:
        return await store_check(engine.store.store.check, f"ok {redact(engine.store.root)}")

    return DependencyChecks(
        [
            service(engine.loader),
            service(engine.runner),
            CachedCheck("bucket", bucket, cfg.ready_cache_s),
        ],
        cfg.ready_timeout_s,
    )


@runs.post(
    "/run",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StartedRun,
    responses={409: {"description": "A pipeline run is in progress"}},
    summary="Start a pipeline run: loader extract, then dbt-runner on its manifest",
)
async def start_run(engine: EngineDep) -> StartedRun:
    if (active := engine.active_pipeline()) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"message": "a pipeline run is already running", "run_id": active},
        )
    run = Run(owner=engine.instance, steps={"extract": Step(), "build": Step()})
    engine.current = run.run_id
    try:
        await engine.persist(run)
    except EtlError as exc:
        engine.current = None
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    engine.spawn(run)
    return StartedRun(run_id=run.run_id, state=run.state, links={"self": f"/runs/{run.run_id}"})


@runs.get("/runs", response_model=list[RunView], summary="All runs, newest first")
async def list_runs(engine: EngineDep, limit: int = 50) -> list[RunView]:
    ordered = sorted(engine.runs.values(), key=lambda r: r.started_at, reverse=True)
    return [_view(engine, r) for r in ordered[:limit]]


@runs.get("/runs/{run_id}", response_model=RunView, summary="State per step, counts, timings")
async def get_run(run_id: str, engine: EngineDep) -> RunView:
    run = engine.runs.get(run_id)
    if run is None or (run.state == "running" and run_id not in engine.driving):
        # not ours to drive: the bucket has the latest word (another instance may drive it)
        run = await engine.store.load(run_id) or run
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no run {run_id}")
    return _view(engine, run)


async def _answer(engine: Engine, parsed: Any) -> JSONResponse:
    try:
        ref, event_type = parsed()
    except MalformedEvent as exc:
        log.warning("malformed event rejected", extra={"reason": str(exc)})
        return JSONResponse({"status": "rejected", "reason": str(exc)}, status_code=400)
    try:
        code, body = await handle_object(engine, ref, event_type)
    except EtlError as exc:  # the bucket itself failed: nothing recorded, let it come back
        code, body = (503 if exc.transient else 200), {"status": "error", "reason": str(exc)}
    fields = ("bucket", "generation", "run_id", "reason")
    log.info(
        "storage event",
        extra={
            "http_status": code,
            "event_status": body.get("status"),
            "object": body.get("name"),
            **{k: body[k] for k in fields if k in body},
        },
    )
    return JSONResponse(body, status_code=code)


@events.post("/", summary="Eventarc CloudEvent (binary or structured mode)")
async def cloudevent(request: Request, engine: EngineDep) -> JSONResponse:
    body = await request.body()
    headers = dict(request.headers)
    return await _answer(engine, lambda: from_cloudevent(headers, body))


@events.post("/pubsub/push", summary="Pub/Sub push envelope of a GCS notification")
async def pubsub_push(request: Request, engine: EngineDep) -> JSONResponse:
    body = await request.body()
    return await _answer(engine, lambda: from_pubsub_push(body))


def create_app(settings: OrchestratorSettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cfg = settings or get_settings()
        instance = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(3)}"
        engine = Engine(cfg, RunStore(cfg.root), instance)
        app.state.engine = engine
        app.state.readiness = _dependency_checks(engine, cfg)
        engine.loader.open()  # one pooled client per service for the life of the process
        engine.runner.open()
        await engine.start()  # take over orphaned runs; heartbeat and watch from now on
        await app.state.readiness.answer()  # warm: the first probes find answers (bounded)
        try:
            yield
        finally:
            await engine.shutdown()  # releases the leases of the runs we drive
            await app.state.readiness.close()
            await engine.loader.aclose()
            await engine.runner.aclose()

    app = FastAPI(
        title="orchestrator",
        version="0.2.0",
        lifespan=lifespan,
        description="Sequences the loader and the dbt-runner; reacts to storage events.",
    )
    add_request_trace(app)
    app.include_router(health_router)
    app.include_router(health)
    app.include_router(runs)
    app.include_router(events)
    return app
