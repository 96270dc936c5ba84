"""Response values and the raw ASGI send: no framework objects on the hot path.

Framing and header names follow Go's net/http (contract 10.3): a handler's body goes through a 2048-byte
buffer, so a body that fits is sent with `Content-Length` and a larger one chunked without it (uvicorn's h11
chunks any response that announces no length); names are Go's canonical form (`Content-Type`,
`Www-Authenticate`), and the app writes `Date` itself (serve with uvicorn's `date_header=False`), because
uvicorn's own is lower-case. h11 writes names as given and title-cases the ones it adds
(`Transfer-Encoding`, `Connection`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from fake_cursor_sim.encoding import go_body

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
JSON = b"application/json"
# net/http's bufferBeforeChunkingSize: a body up to this size is buffered whole and gets a Content-Length
CHUNKING_THRESHOLD = 2048


@dataclass
class Resp:
    status: int
    body: bytes
    # b"" sends no Content-Type (a Go handler that set none and wrote nothing)
    content_type: bytes = JSON
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)  # canonical names


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
        [(b"X-Content-Type-Options", b"nosniff")],
    )


def unauthorized(challenge: bool) -> Resp:
    headers = [(b"Www-Authenticate", b"Basic")] if challenge else []
    return Resp(401, b'{"error":"Unauthorized"}\n', JSON, headers)


def rate_limited() -> Resp:
    return Resp(429, b'{"error":"Rate limit exceeded"}\n', JSON, [(b"Retry-After", b"1")])


def redirect_to_clean(path: str, raw_query: bytes, method: str) -> Resp:
    """Go's ServeMux answer to an unclean path: `http.Redirect(w, r, (&url.URL{Path: clean, RawQuery:
    q}).String(), 307)`: the path escaped as `url.URL.EscapedPath` does, the raw query kept as sent, a small
    HTML body for GET only and its Content-Type for GET and HEAD."""
    location = quote(path, safe="/$&+,:;=@")
    if raw_query:  # as sent; `hexEscapeNonASCII` escapes only bytes outside ASCII
        location += "?" + quote(raw_query, safe=_ASCII)
    headers = [(b"Location", location.encode())]
    if method not in ("GET", "HEAD"):
        return Resp(307, b"", b"", headers)
    body = b""
    if method == "GET":
        escaped = (
            location.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&#34;")
            .replace("'", "&#39;")
        )
        body = f'<a href="{escaped}">Temporary Redirect</a>.\n\n'.encode()
    return Resp(307, body, b"text/html; charset=utf-8", headers)


_ASCII = "".join(map(chr, range(128)))
_date_cache: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    """`Date` as Go writes it (`Mon, 30 Nov 2026 17:25:12 GMT`), formatted once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


def start_headers(resp: Resp, *, length: int | None) -> list[tuple[bytes, bytes]]:
    """Go's order: the handler's headers sorted by name, then `Date` and (when known) `Content-Length`."""
    headers = list(resp.headers)
    if resp.content_type:
        headers.append((b"Content-Type", resp.content_type))
    headers.sort()
    headers.append((b"Date", http_date()))
    if length is not None:
        headers.append((b"Content-Length", str(length).encode()))
    return headers


async def send_resp(send: Send, resp: Resp) -> None:
    small = len(resp.body) <= CHUNKING_THRESHOLD
    headers = start_headers(resp, length=len(resp.body) if small else None)
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    await send({"type": "http.response.body", "body": resp.body})
