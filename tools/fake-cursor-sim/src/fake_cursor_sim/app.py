"""`create_app(dataset)`: the cursor-sim double as a pure ASGI application.

No framework router: Go's mux semantics (methods ignored on read routes, JSON 404 under `/repos/`, plain-text
404 elsewhere, auth and the global limit before any route) are simpler to state directly, and every response
is pre-serialised bytes joined per request, which keeps the double far faster than any loader under test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

from fake_cursor_sim import routes_admin, routes_cursor, routes_repos
from fake_cursor_sim.data import Dataset
from fake_cursor_sim.faults import remove_field
from fake_cursor_sim.middleware import AuthMiddleware, ControlMiddleware, RateLimitMiddleware
from fake_cursor_sim.params import query
from fake_cursor_sim.responses import (
    Resp,
    Send,
    error,
    json_resp,
    not_found_text,
    rate_limited,
    raw_json,
    send_resp,
)
from fake_cursor_sim.state import DoubleState

DEFAULT_API_KEY = "cursor-sim-dev-key"


def dispatch(state: DoubleState, method: str, path: str, raw_query: bytes, port: int) -> Resp:
    store = state.store
    if path.startswith("/repos/"):
        return routes_repos.route(store, path[7:], query(raw_query), state.rng, time.time_ns())
    if path == "/analytics/ai-code/commits":
        return routes_cursor.commits(store, query(raw_query), time.time_ns())
    if path == "/analytics/github/prs":
        return routes_cursor.pull_requests(store, query(raw_query), state.rng)
    if path == "/analytics/github/reviews":
        return routes_cursor.reviews(store, query(raw_query), state.rng)
    if path == "/repos":
        return routes_repos.repo_list(store, state.rng)
    if path == "/health":
        return raw_json(b'{"status":"ok"}')
    if path == "/teams/members":
        return Resp(200, store.members_body)
    if path == "/admin/stats":
        return routes_admin.stats(store, state.last_generation)
    if path == "/admin/config":
        return routes_admin.config(store, port, state.uptime_s())
    if path == "/admin/regenerate":
        if method != "POST":
            return error("Only POST is allowed", 405)
        return routes_admin.regenerated(state.store, state.regenerate())
    return not_found_text()


class CoreApp:
    """Applies the fault rules that fire for this request, then routes."""

    def __init__(self, state: DoubleState) -> None:
        self.state = state

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Send) -> None:
        state = self.state
        path: str = scope["path"]
        fired = state.faults.firing(path)
        kinds = {rule.kind: rule for rule in fired}
        if "regenerate" in kinds:
            state.regenerate(same_totals=kinds["regenerate"].same_totals)
        if "delay" in kinds:
            await asyncio.sleep(kinds["delay"].seconds)
        if "status" in kinds:
            await send_resp(send, _fault_status(kinds["status"].status))
            return
        server = scope.get("server") or ("127.0.0.1", 0)
        resp = dispatch(
            state, scope["method"], path, scope.get("query_string", b""), int(server[1] or 0)
        )
        if "remove_field" in kinds and resp.content_type == b"application/json":
            for rule in fired:
                if rule.kind == "remove_field":
                    resp.body = remove_field(resp.body, rule.field)
        if "truncate" in kinds:
            resp = Resp(200, resp.body[: len(resp.body) // 2], resp.content_type)
        if "drop" in kinds:
            # announce the whole body, send half, return: uvicorn closes the connection mid-body
            headers = [
                (b"content-type", resp.content_type),
                (b"content-length", str(len(resp.body)).encode()),
            ]
            await send({"type": "http.response.start", "status": resp.status, "headers": headers})
            await send(
                {
                    "type": "http.response.body",
                    "body": resp.body[: len(resp.body) // 2],
                    "more_body": True,
                }
            )
            return
        await send_resp(send, resp)


def _fault_status(status: int) -> Resp:
    if status == 404:
        return not_found_text()  # as if the route did not exist on this server
    if status == 429:
        return rate_limited()
    return json_resp({"error": f"injected fault: HTTP {status}"}, status)


def create_app(
    dataset: Dataset,
    *,
    rate_limit_per_minute: int = 100,
    api_key: str = DEFAULT_API_KEY,
    uptime_offset_s: float = 0.0,
) -> ControlMiddleware:
    """The ASGI app; `app.state` is the live `DoubleState` (store, counters, faults)."""
    state = DoubleState(
        dataset,
        rate_limit_per_minute=rate_limit_per_minute,
        api_key=api_key,
        uptime_offset_s=uptime_offset_s,
    )
    core = AuthMiddleware(CoreApp(state), api_key)
    return ControlMiddleware(RateLimitMiddleware(core, rate_limit_per_minute), state)
