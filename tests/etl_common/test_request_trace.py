"""A request's log lines carry its Cloud trace (`logging.googleapis.com/trace`) when Google's front end sent
`X-Cloud-Trace-Context` and the project is known; otherwise they carry no trace field at all."""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from etl_common.logs import JsonFormatter
from etl_common.service import add_request_trace

TRACE_ID = "105445aa7843bc8bf206b12000100000"
FIELD = "logging.googleapis.com/trace"
log = logging.getLogger("tests.request_trace")


class Lines:
    """The JSON lines `log` emits, formatted as they are emitted (the trace is read at that moment)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def read(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def lines() -> Iterator[Lines]:
    captured = Lines()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter("test"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield captured
    log.removeHandler(handler)


def _app() -> FastAPI:
    app = FastAPI()
    add_request_trace(app)
    background: set[asyncio.Task[None]] = set()

    async def later() -> None:
        log.info("work the request started")

    @app.get("/async")
    async def in_async() -> dict[str, str]:
        log.info("async handler")
        task = asyncio.create_task(later())
        background.add(task)
        await task
        return {}

    @app.get("/sync")
    def in_sync() -> dict[str, str]:  # FastAPI runs it in a worker thread
        log.info("sync handler")
        return {}

    return app


def _logged(lines: Lines, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    with TestClient(_app()) as client:
        assert client.get(path, headers=headers).status_code == 200
    return lines.read()


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_the_header_and_the_project_put_the_trace_on_the_requests_lines(
    path: str, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "acme-prod")
    logged = _logged(lines, path, {"X-Cloud-Trace-Context": f"{TRACE_ID}/1234567890;o=1"})
    assert logged and {line[FIELD] for line in logged} == {f"projects/acme-prod/traces/{TRACE_ID}"}


def test_a_trace_id_alone_is_enough_and_lines_after_the_request_have_none(
    lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "acme-prod")
    logged = _logged(lines, "/async", {"X-Cloud-Trace-Context": TRACE_ID})
    assert [line[FIELD] for line in logged] == [f"projects/acme-prod/traces/{TRACE_ID}"] * 2
    log.info("outside any request")
    last = lines.read()[-1]
    assert last["message"] == "outside any request" and FIELD not in last


@pytest.mark.parametrize(
    ("project", "header"),
    [
        (None, f"{TRACE_ID}/1;o=1"),  # no project: a trace name would point nowhere
        ("acme-prod", None),  # no header: not behind Google's front end
        ("acme-prod", "not-a-trace/1;o=1"),
        ("acme-prod", f"{TRACE_ID}0/1"),  # 33 digits
    ],
)
def test_no_trace_field_without_a_project_or_a_valid_header(
    project: str | None,
    header: str | None,
    lines: Lines,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if project is None:
        monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    else:
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", project)
    headers = {"X-Cloud-Trace-Context": header} if header else {}
    logged = _logged(lines, "/async", headers)
    assert len(logged) == 2 and all(FIELD not in line for line in logged)


@pytest.mark.parametrize("service", ["loader", "dbt_runner", "orchestrator"])
def test_every_service_app_installs_it(
    service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("LOADER_OUTPUT", str(tmp_path))
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    settings = importlib.import_module(f"{service}.settings").get_settings
    settings.cache_clear()
    try:
        app = importlib.import_module(f"{service}.app").create_app()
    finally:
        settings.cache_clear()  # the next test reads its own environment
    assert [m.cls.__name__ for m in app.user_middleware] == ["_RequestTrace"]
