"""The one service shell (`etl_common.service`): every app gets `/healthz` and a `/readyz` answered from
its dependency checks, served over real HTTP; a crashed job ends failed with one scrubbed line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI

from dev_stack.processes import free_port
from etl_common.contract import LoadStatus
from etl_common.readiness import CachedCheck, DependencyChecks
from etl_common.service import create_service_app, record_crash


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port for the block; returns once it accepts requests."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = 200  # bounded: the startup flag, polled while the thread starts the server
        while not server.started and thread.is_alive() and deadline:
            thread.join(0.05)
            deadline -= 1
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _app(bucket_ok: dict[str, bool]) -> FastAPI:
    async def bucket() -> tuple[bool, str]:
        return (True, "ok") if bucket_ok["now"] else (False, "bucket gs://b unreachable")

    extra = APIRouter()

    @extra.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    app = create_service_app(
        title="demo",
        version="9.9",
        description="a demo service",
        ready_summary="Readiness: the bucket",
        routers=[extra],
    )
    app.state.readiness = DependencyChecks([CachedCheck("bucket", bucket, 0.0)], 2.0)
    return app


def test_the_shell_serves_liveness_readiness_and_the_services_routes() -> None:
    bucket_ok = {"now": True}
    with serving(_app(bucket_ok)) as url:
        assert httpx.get(url + "/healthz").json() == {"status": "ok"}
        assert httpx.get(url + "/ping").json() == {"pong": "yes"}
        ready = httpx.get(url + "/readyz")
        assert (ready.status_code, ready.json()) == (
            200,
            {"ready": True, "checks": {"bucket": "ok"}},
        )
        bucket_ok["now"] = False
        down = httpx.get(url + "/readyz")
        assert down.status_code == 503
        assert down.json()["detail"] == {
            "ready": False,
            "checks": {"bucket": "bucket gs://b unreachable"},
        }
        spec = httpx.get(url + "/openapi.json").json()
    assert spec["info"] == {"title": "demo", "version": "9.9", "description": "a demo service"}
    assert spec["paths"]["/readyz"]["get"]["summary"] == "Readiness: the bucket"
    assert set(spec["paths"]) == {"/healthz", "/readyz", "/ping"}


def test_a_crash_ends_the_job_failed_on_one_scrubbed_line_with_the_traceback_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = LoadStatus(
        load_id="l1", state="running", started_at=datetime.now(UTC), output="gs://b/raw"
    )
    log = logging.getLogger("demo.crash")

    def boom() -> None:
        raise KeyError("token=s3cret\nsecond line")

    try:
        boom()
    except KeyError as exc:
        with caplog.at_level(logging.ERROR, logger="demo.crash"):
            error = record_crash(
                job,
                exc,
                log=log,
                message="job crashed",
                scrub=lambda text: text.replace("s3cret", "***"),
                load_id="l1",
            )
    assert (job.state, job.error_type, job.transient) == ("failed", "KeyError", False)
    assert job.error == error and "\n" not in error and "***" in error and "s3cret" not in error
    assert job.finished_at is not None
    (entry,) = caplog.records
    assert entry.getMessage() == "job crashed"
    assert entry.load_id == "l1" and entry.error_type == "KeyError"  # type: ignore[attr-defined]
    trace: str = entry.exception  # type: ignore[attr-defined]
    assert "Traceback" in trace and "in boom" in trace and "s3cret" not in trace
