"""What every HTTP service of ours shares: the app factory (liveness and readiness routes), the
single-flight job registry, how a crashed job is recorded, and serving.

Each service runs at most one job at a time (the upstream's rate limit is global; dbt cannot run twice in one
process), keeps the jobs of its lifetime for status queries, and listens on HOST:PORT (Cloud Run sets PORT;
containers set HOST=0.0.0.0; the default stays on loopback), and ties each request's log lines to the
request's Cloud trace (`add_request_trace`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Iterable, MutableMapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, FastAPI, HTTPException, Request, status
from pydantic import BaseModel

from etl_common.errors import EtlError
from etl_common.logs import log_context, one_line
from etl_common.readiness import DependencyChecks

T = TypeVar("T")

# ASGI's shapes (as starlette.types spells them), so the middleware below needs only what fastapi declares
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def healthz() -> dict[str, str]:
    return {"status": "ok"}


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


def ready_or_503(checks: dict[str, tuple[bool, str]]) -> Readiness:
    """The readiness answer: 200 with every check's detail, or 503 naming what is not ready."""
    result = Readiness(
        ready=all(ok for ok, _ in checks.values()),
        checks={name: detail for name, (_, detail) in checks.items()},
    )
    if not result.ready:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=result.model_dump())
    return result


async def store_check(check: Callable[[], None], ok_detail: str = "ok") -> tuple[bool, str]:
    """Run a store's `check()` off the event loop; (reachable, detail)."""
    try:
        await asyncio.to_thread(check)
        return True, ok_detail
    except (EtlError, ValueError) as exc:
        return False, str(exc)


class SingleFlight(Generic[T]):
    """The jobs of this process by id, and the one running now (if any)."""

    def __init__(self) -> None:
        self.by_id: dict[str, T] = {}
        self.current: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> T | None:
        return self.by_id[self.current] if self.current is not None else None

    def start(self, job_id: str, record: T, work: Coroutine[Any, Any, None]) -> None:
        """Register `record` and run `work` in the background; the slot frees when it ends, however."""
        if self.current is not None:
            work.close()
            raise RuntimeError(f"job {self.current} is still running")
        self.by_id[job_id] = record
        self.current = job_id
        task = asyncio.create_task(work)
        self._tasks.add(task)  # keep a reference: the event loop holds tasks only weakly

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if self.current == job_id:
                self.current = None

        task.add_done_callback(done)


def create_service_app(
    *,
    title: str,
    version: str,
    description: str,
    ready_summary: str,
    routers: Iterable[APIRouter],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """A service's app: `/healthz` (liveness), `/readyz` answered from the `DependencyChecks` the service
    puts on `app.state.readiness` (before the first request, or in its lifespan), then its own routers."""
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    add_request_trace(app)
    health = APIRouter(tags=["health"])
    health.add_api_route(
        "/healthz", healthz, methods=["GET"], summary="Liveness: the process serves requests"
    )

    async def readyz(request: Request) -> Readiness:
        checks: DependencyChecks = request.app.state.readiness
        return ready_or_503(await checks.answer())

    health.add_api_route(
        "/readyz",
        readyz,
        methods=["GET"],
        response_model=Readiness,
        responses={503: {"model": Readiness}},
        summary=ready_summary,
    )
    app.include_router(health)
    for router in routers:
        app.include_router(router)
    return app


class FailableJob(Protocol):
    """What a job status needs for `record_crash`: the Failure fields, a state and an end time."""

    state: Any
    error: str | None
    error_type: str | None
    transient: bool | None
    finished_at: datetime | None


def record_crash(
    job: FailableJob,
    exc: BaseException,
    *,
    log: logging.Logger,
    message: str,
    scrub: Callable[[str], str] = lambda text: text,
    **context: str,
) -> str:
    """End `job` failed because of a bug (an exception no step turned into a result): the one-line,
    scrubbed cause on the status, not transient (a retry would crash the same way), the traceback in
    the log line's `exception` field. Returns the error line."""
    error = one_line(scrub(repr(exc)))
    job.state, job.error, job.error_type, job.transient = "failed", error, type(exc).__name__, False
    job.finished_at = datetime.now(UTC)
    trace = "".join(traceback.format_exception(exc)).rstrip()
    log.error(
        message, extra={**context, "error_type": type(exc).__name__, "exception": scrub(trace)}
    )
    return error


# `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS`: the trace id is 32 hex digits; the rest we do not use
_TRACE_HEADER = re.compile(r"([0-9a-fA-F]{32})(?:[/;].*)?")


class _RequestTrace:
    """Pure ASGI (not BaseHTTPMiddleware): the handler runs in this call's context, so the log context
    reaches it, and work it starts (`asyncio.create_task` copies the context) keeps the request's trace."""

    def __init__(self, app: ASGIApp, project_env: str) -> None:
        self.app = app
        self.project_env = project_env

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        trace = _trace_of(scope, os.environ.get(self.project_env))
        if trace is None:
            await self.app(scope, receive, send)
            return
        with log_context(trace=trace):
            await self.app(scope, receive, send)


def _trace_of(scope: Scope, project: str | None) -> str | None:
    # Cloud Logging needs the project in the trace name; without it the field links to nothing
    if scope["type"] != "http" or not project:
        return None
    header = dict(scope.get("headers") or ()).get(b"x-cloud-trace-context", b"")
    match = _TRACE_HEADER.fullmatch(header.decode("latin-1").strip())
    return f"projects/{project}/traces/{match.group(1)}" if match else None


def add_request_trace(app: FastAPI, project_env: str = "GOOGLE_CLOUD_PROJECT") -> None:
    """Give every log line of a request the `logging.googleapis.com/trace` field, so Cloud Logging groups
    them under the request: read from the `X-Cloud-Trace-Context` header Google's front end sets, when
    the environment variable `project_env` names the project (read per request, so tests can set it)."""
    app.add_middleware(_RequestTrace, project_env=project_env)


def serve(app_factory: Callable[[], FastAPI]) -> None:
    """Every service the same way: uvicorn on HOST:PORT, logging through our JSON handler."""
    import uvicorn

    uvicorn.run(
        app_factory(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8080")),
        log_config=None,
    )
