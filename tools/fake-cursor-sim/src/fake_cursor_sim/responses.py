"""Response values and the raw ASGI send: no framework objects on the hot path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fake_cursor_sim.encoding import go_body

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
JSON = b"application/json"


@dataclass
class Resp:
    status: int
    body: bytes
    content_type: bytes = JSON
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def json_resp(value: Any, status: int = 200) -> Resp:
    return Resp(status, go_body(value))


def raw_json(body: bytes, status: int = 200) -> Resp:
    """Pre-serialised JSON (without the newline)."""
    return Resp(status, body + b"\n")


def error(message: str, status: int) -> Resp:
    return json_resp({"error": message}, status)


def gh_message(message: str, status: int) -> Resp:
    return json_resp({"message": message}, status)


def not_found_text() -> Resp:
    """Go's `http.NotFound`."""
    return Resp(
        404,
        b"404 page not found\n",
        b"text/plain; charset=utf-8",
        [(b"x-content-type-options", b"nosniff")],
    )


def unauthorized(challenge: bool) -> Resp:
    headers = [(b"www-authenticate", b"Basic")] if challenge else []
    return Resp(401, b'{"error":"Unauthorized"}\n', JSON, headers)


def rate_limited() -> Resp:
    return Resp(429, b'{"error":"Rate limit exceeded"}\n', JSON, [(b"retry-after", b"1")])


async def send_resp(send: Send, resp: Resp) -> None:
    headers = [
        (b"content-type", resp.content_type),
        (b"content-length", str(len(resp.body)).encode()),
        *resp.headers,
    ]
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    await send({"type": "http.response.body", "body": resp.body})
