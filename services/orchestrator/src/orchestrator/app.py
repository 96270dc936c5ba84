"""Service mode of the orchestrator: health endpoints now; runs and storage events arrive with issue 6."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

health = APIRouter(tags=["health"])


@health.get("/healthz", summary="Liveness: the process serves requests")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> FastAPI:
    app = FastAPI(
        title="orchestrator",
        version="0.1.0",
        description="Sequences the loader and the dbt-runner; reacts to storage events.",
    )
    app.include_router(health)
    return app
