from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from dev_stack.double import run_double

KEY = "cursor-sim-dev-key"


@dataclass
class Api:
    url: str
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def get(
        self, path: str, auth: tuple[str, str] | None = (KEY, ""), **params: Any
    ) -> httpx.Response:
        return self.client.get(self.url + path, params=params, auth=auth)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def totals(self) -> dict[str, int]:
        return self.json("/admin/stats")["generation"]

    def control(self) -> dict[str, Any]:
        return self.client.get(self.url + "/_double/stats").json()


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """A 2-developer double without a rate limit, shared by a module's read-only tests."""
    with (
        run_double(developers=2, days=90, seed=42, rate_limit_per_minute=0) as url,
        httpx.Client(timeout=10) as client,
    ):
        yield Api(url, client)


PINNED = datetime(2026, 11, 30, 17, 25, 12, tzinfo=UTC)  # seed 42 then has commits_std_dev 42.0


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
