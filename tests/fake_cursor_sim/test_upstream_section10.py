"""The upstream behaviours of contract section 10.3 the double once lacked, each observed on the wire of a
real double (a subprocess on a free 127.0.0.1 port) or, where a rule has edges the API cannot reach, on the
function that implements it."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from fake_cursor_sim.responses import CHUNKING_THRESHOLD, Resp, send_resp
from fake_cursor_sim.testing import run_double

from .conftest import KEY, Api

PINNED = datetime(2026, 11, 30, 17, 25, 12, tzinfo=UTC)  # seed 42 then has commits_std_dev 42.0
WIDE = {"startDate": "2000-01-01", "endDate": "2100-01-01"}
COMMITS = "/analytics/ai-code/commits"
BAD_DATE = b'{"error":"invalid {}: must be YYYY-MM-DD, ISO 8601, or relative format (7d, 30d, now, today)"}\n'
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "contract-samples"


@dataclass
class Raw:
    """One HTTP/1.1 exchange read straight off the socket: header names exactly as sent."""

    status: int
    headers: list[tuple[str, str]]
    framed_body: bytes  # as on the wire (chunk sizes included when chunked)
    body: bytes  # de-chunked

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, (name, values)
        return values[0] if values else None


def raw_request(
    url: str, target: str, method: str = "GET", *, auth: bool = True, body: bytes = b""
) -> Raw:
    parts = urlsplit(url)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    if auth:
        lines.append("Authorization: Basic " + base64.b64encode(f"{KEY}:".encode()).decode())
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):  # the server closes after the reply (Connection: close)
            data += chunk
    head, _, framed = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in header_lines]
    raw = Raw(int(status_line.split()[1]), headers, framed, framed)  # type: ignore[arg-type]
    if (raw.header("Transfer-Encoding") or "").lower() == "chunked":
        raw.body = _dechunk(framed)
    return raw


def _dechunk(framed: bytes) -> bytes:
    out, rest = b"", framed
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n", "a chunked body ends with the zero chunk and an empty line"
            return out
        out, rest = out + rest[:size], rest[size:]
        assert rest[:2] == b"\r\n"
        rest = rest[2:]


@pytest.fixture(scope="module")
def pinned() -> Iterator[Api]:
    """A 2-developer double at a pinned instant (its data is fixed), no rate limit."""
    with (
        run_double(developers=2, seed=42, now=PINNED, rate_limit_per_minute=0) as url,
        httpx.Client(timeout=10) as client,
    ):
        yield Api(url, client)


# --- 1. response framing and header names ---------------------------------------------------------


def test_recorded_upstream_chunks_exactly_the_bodies_over_2048_bytes() -> None:
    """The evidence for the rule the double follows: every recorded sample with its body size."""
    if not SAMPLES.is_dir():
        pytest.skip("contract samples absent (tests/contract fails on that)")
    seen = 0
    for meta_path in SAMPLES.glob("*.meta.json"):
        meta = json.loads(meta_path.read_text())
        size = (SAMPLES / meta["body_file"]).stat().st_size
        headers = meta["headers"]
        if size > CHUNKING_THRESHOLD:
            assert headers.get("Transfer-Encoding") == "chunked", meta_path.name
            assert "Content-Length" not in headers, meta_path.name
        else:
            assert headers.get("Content-Length") == str(size), meta_path.name
        seen += 1
    assert seen >= 40


def test_large_bodies_are_chunked_without_content_length_and_small_ones_keep_it(
    pinned: Api,
) -> None:
    small = raw_request(pinned.url, f"{COMMITS}?pageSize=1&startDate=2000-01-01")
    assert small.status == 200 and small.header("Transfer-Encoding") is None
    assert small.header("Content-Length") == str(len(small.body)) and len(small.body) < 2048
    large = raw_request(pinned.url, f"{COMMITS}?pageSize=50&startDate=2000-01-01")
    assert large.status == 200
    assert large.header("Transfer-Encoding") == "chunked" and large.header("Content-Length") is None
    assert large.framed_body != large.body  # really chunk-framed on the wire
    assert len(json.loads(large.body)["items"]) == 50
    health = raw_request(pinned.url, "/health", auth=False)
    assert (health.header("Content-Length"), health.body) == ("16", b'{"status":"ok"}\n')


@pytest.mark.parametrize(("size", "chunked"), [(2047, False), (2048, False), (2049, True)])
def test_the_chunking_threshold_is_go_s_2048_byte_buffer(size: int, chunked: bool) -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(send_resp(send, Resp(200, b"x" * size)))
    names = [name for name, _ in sent[0]["headers"]]
    assert (b"Content-Length" not in names) is chunked
    assert sent[1]["body"] == b"x" * size


def test_header_names_are_canonical_on_the_wire_with_one_date(pinned: Api) -> None:
    exchanges = {
        "200": raw_request(pinned.url, "/teams/members"),
        "401": raw_request(pinned.url, "/teams/members", auth=False),
        "404": raw_request(pinned.url, "/nope"),
        "307": raw_request(pinned.url, "//health"),
        "chunked": raw_request(pinned.url, f"{COMMITS}?pageSize=50&startDate=2000-01-01"),
    }
    for label, raw in exchanges.items():
        names = [name for name, _ in raw.headers]
        for name in names:  # Go's CanonicalHeaderKey: each dash-separated word capitalised
            assert name == "-".join(w.capitalize() for w in name.split("-")), (label, name)
        assert names.count("Date") == 1 and "Server" not in names, label
        datetime.strptime(raw.header("Date") or "", "%a, %d %b %Y %H:%M:%S GMT")
    assert exchanges["401"].header("Www-Authenticate") == "Basic"
    assert exchanges["404"].header("X-Content-Type-Options") == "nosniff"
    assert ("Transfer-Encoding", "chunked") in exchanges["chunked"].headers


def test_the_429_keeps_its_canonical_retry_after() -> None:
    with run_double(developers=2, rate_limit_per_minute=1) as url:
        assert raw_request(url, "/health", auth=False).status == 200
        limited = raw_request(url, "/health", auth=False)
    assert limited.status == 429 and ("Retry-After", "1") in limited.headers
