"""Pure-ASGI layers, outermost first: the test control surface and counters, the ONE global token bucket
(before auth, so 401s, 404s and /health spend tokens), then HTTP Basic auth."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import MutableMapping
from typing import Any

from fake_cursor_sim.faults import parse_rules
from fake_cursor_sim.responses import Resp, Send, json_resp, rate_limited, send_resp, unauthorized
from fake_cursor_sim.state import DoubleState

Scope = MutableMapping[str, Any]


class TokenBucket:
    """Capacity R, refilled continuously at R per 60 s; R = 0 disables it."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.tokens = self.capacity
        self.last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def route_template(path: str) -> str:
    """`/repos/o/r/pulls/7/reviews` -> `/repos/*/*/pulls/*/reviews`, for per-endpoint counters."""
    if not path.startswith("/repos/"):
        return path
    parts = path.split("/")
    for i in (2, 3, 5):
        if i < len(parts):
            parts[i] = "*"
    return "/".join(parts)


class ControlMiddleware:
    """Serves `/_double/*` (exempt from auth and the limit), counts everything else, answers lifespan."""

    def __init__(self, app: Any, state: DoubleState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/_double/"):
            await send_resp(send, await self._control(scope, receive, path))
            return
        counters = self.state.counters

        async def counting_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                counters.total += 1
                counters.by_path[path] += 1
                counters.by_route[route_template(path)] += 1
                counters.by_status[str(status)] += 1
                if status == 429:
                    counters.rate_limited += 1
                elif status == 401:
                    counters.unauthorized += 1
            await send(message)

        await self.app(scope, receive, counting_send)

    async def _control(self, scope: Scope, receive: Any, path: str) -> Resp:
        method = scope["method"]
        state = self.state
        if path == "/_double/faults":
            if method == "POST":
                try:
                    rules = parse_rules(json.loads(await read_body(receive) or b"null"))
                except ValueError as exc:  # json.JSONDecodeError is a ValueError too
                    return json_resp({"error": str(exc)}, 400)
                state.faults.rules.extend(rules)
                return json_resp({"rules": len(state.faults.rules)})
            if method == "DELETE":
                cleared = len(state.faults.rules)
                state.faults.rules.clear()
                return json_resp({"cleared": cleared})
            return json_resp({"rules": state.faults.describe()})
        if path == "/_double/stats":
            c = state.counters
            store = state.store
            return json_resp(
                {
                    "total": c.total,
                    "rate_limited": c.rate_limited,
                    "unauthorized": c.unauthorized,
                    "by_path": dict(c.by_path),
                    "by_route": dict(c.by_route),
                    "by_status": dict(c.by_status),
                    "faults_applied": state.faults.applied,
                    "regenerations": state.regenerations,
                    "seed": store.seed,
                    "totals": dict(store.totals),
                    "rate_limit_per_minute": state.rate_limit_per_minute,
                }
            )
        return json_resp({"error": "unknown control endpoint"}, 404)


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class RateLimitMiddleware:
    def __init__(self, app: Any, per_minute: int) -> None:
        self.app = app
        self.bucket = TokenBucket(per_minute) if per_minute > 0 else None

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if self.bucket is not None and not self.bucket.take():
            await send_resp(send, rate_limited())
            return
        await self.app(scope, receive, send)


class AuthMiddleware:
    """Basic auth whose username must be the API key; only /health and /docs* are exempt."""

    def __init__(self, app: Any, api_key: str) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        path: str = scope["path"]
        if path != "/health" and not path.startswith("/docs"):
            user = _basic_user(scope)
            if user is None or user != self.api_key:
                await send_resp(send, unauthorized(challenge=user is None))
                return
        await self.app(scope, receive, send)


def _basic_user(scope: Scope) -> str | None:
    """Go's `r.BasicAuth()`: the username, or None when the header is missing or malformed."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            if value[:6].lower() != b"basic ":
                return None
            try:
                decoded = base64.b64decode(value[6:], validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            user, sep, _ = decoded.partition(":")
            return user if sep else None
    return None
