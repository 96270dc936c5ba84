"""The shared paced client against a real HTTP server on 127.0.0.1: what it sends, how it reads Retry-After,
and what it says on a refused key. The server answers from a script, one answer per request."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from etl_common.errors import SourceApiError
from etl_common.http import DEFAULT_RETRY_AFTER_S, PacedClient, retry_after_s
from etl_common.pacing import TokenBucket

from ..loopback import serving

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Script:
    """Answers to give, in order (a callable is called at request time, for headers that depend on now)."""

    answers: list[Any]
    url: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)


@contextlib.contextmanager
def scripted_server(*answers: Any) -> Iterator[Script]:
    script = Script(list(answers))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                script.seen.append({"path": self.path, **dict(self.headers.items())})
                answer = script.answers.pop(0)
            status, headers, body = answer() if callable(answer) else answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as script.url:
        yield script


class RecordingBucket(TokenBucket):
    """A real bucket (the client really waits) that remembers every Retry-After it was told."""

    def __init__(self) -> None:
        super().__init__(capacity=100, refill_per_s=100)
        self.throttles: list[float] = []

    def on_throttled(self, retry_after_s: float) -> None:
        self.throttles.append(retry_after_s)
        super().on_throttled(retry_after_s)


OK: Answer = (200, {"Content-Type": "application/json"}, b'{"ok": true}')


def _get(url: str, path: str, pacer: TokenBucket | None = None, **options: Any) -> Any:
    async def main() -> Any:
        async with PacedClient(
            url, "key", pacer=pacer or RecordingBucket(), user_agent="etl-test/1", **options
        ) as client:
            return await client.get_json(path), client.stats.as_dict()

    return asyncio.run(main())


def _throttled_until_http_date() -> Answer:
    # HTTP-dates have whole seconds: "2 s ahead" truncates to a delay in (1, 2] s when the client reads it
    return 429, {"Retry-After": formatdate(time.time() + 2, usegmt=True)}, b"{}"


def test_429_with_an_http_date_waits_until_that_date_then_succeeds() -> None:
    pacer = RecordingBucket()
    with scripted_server(_throttled_until_http_date, OK) as server:
        body, stats = _get(server.url, "/things", pacer)
    assert body == {"ok": True}
    assert len(pacer.throttles) == 1 and 0 < pacer.throttles[0] <= 2
    assert stats["throttled_429"] == 1 and stats["sent"] == 2 and stats["ok"] == 1
    assert [seen["path"] for seen in server.seen] == ["/things", "/things"]


def test_429_with_seconds_waits_that_long() -> None:
    pacer = RecordingBucket()
    with scripted_server((429, {"Retry-After": "0"}, b"{}"), OK) as server:
        assert _get(server.url, "/things", pacer)[0] == {"ok": True}
    assert pacer.throttles == [0.0]


def test_the_caller_names_itself_and_groups_the_stats() -> None:
    with scripted_server(OK, OK) as server:
        _, plain = _get(server.url, "/things?page=2")
        _, grouped = _get(server.url, "/things/7", endpoint_family=lambda p: "/things/*")
    assert {seen["User-Agent"] for seen in server.seen} == {"etl-test/1"}
    assert plain["by_endpoint"] == {"/things": 1}  # the default: the path without its query
    assert grouped["by_endpoint"] == {"/things/*": 1}


@pytest.mark.parametrize(
    ("hint", "suffix"), [(None, ""), ("set UPSTREAM_KEY", " (set UPSTREAM_KEY)")]
)
def test_401_names_the_refused_key_and_the_callers_hint(hint: str | None, suffix: str) -> None:
    refused = (401, {"Content-Type": "application/json"}, json.dumps({"error": "nope"}).encode())
    with scripted_server(refused) as server, pytest.raises(SourceApiError) as caught:
        _get(server.url, "/things", auth_hint=hint)
    assert (
        str(caught.value) == f"GET /things: HTTP 401 nope: the upstream refused the API key{suffix}"
    )


NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        (format_datetime(NOW + timedelta(seconds=5), usegmt=True), 5.0),
        ("Fri, 04 Dec 2026 12:00:07 -0000", 7.0),  # parses without a zone: still GMT
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),  # past: go now
        (None, DEFAULT_RETRY_AFTER_S),
        ("", DEFAULT_RETRY_AFTER_S),
        ("soon", DEFAULT_RETRY_AFTER_S),
        ("Fri, 99 Foo 2026 12:00:00 GMT", DEFAULT_RETRY_AFTER_S),
        ("inf", DEFAULT_RETRY_AFTER_S),
        ("nan", DEFAULT_RETRY_AFTER_S),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(value: str | None, expected: float) -> None:
    assert retry_after_s(value, now=NOW) == pytest.approx(expected)
