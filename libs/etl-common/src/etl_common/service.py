"""What every HTTP service of ours shares: the liveness route, the single-flight job registry, serving.

Each service runs at most one job at a time (the upstream's rate limit is global; dbt cannot run twice in one
process), keeps the jobs of its lifetime for status queries, and listens on HOST:PORT (Cloud Run sets PORT;
containers set HOST=0.0.0.0; the default stays on loopback).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, FastAPI, HTTPException, status
from pydantic import BaseModel

from etl_common.errors import EtlError

T = TypeVar("T")

health_router = APIRouter(tags=["health"])


@health_router.get("/healthz", summary="Liveness: the process serves requests")
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


def serve(app_factory: Callable[[], FastAPI]) -> None:
    """Every service the same way: uvicorn on HOST:PORT, logging through our JSON handler."""
    import uvicorn

    uvicorn.run(
        app_factory(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8080")),
        log_config=None,
    )
