"""`create_app(dataset)`: the cursor-sim double as a pure ASGI application.

No framework router: Go's mux semantics (the 307 to a cleaned path, methods ignored on read routes, JSON 404
under `/repos/`, plain-text 404 elsewhere, auth and the global limit before any route) are simpler to state
directly, and every response is pre-serialised bytes joined per request, which keeps the double far faster
than any loader under test. The app writes its own `Date` header: serve it with uvicorn's
`date_header=False` (as `__main__` does), or the response carries two.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

from fake_cursor_sim import routes_admin, routes_cursor, routes_repos
from fake_cursor_sim.data import Dataset
from fake_cursor_sim.faults import FIELD_KINDS, rewrite_field
from fake_cursor_sim.middleware import (
    AuthMiddleware,
    ControlMiddleware,
    RateLimitMiddleware,
    read_body,
)
from fake_cursor_sim.params import query
from fake_cursor_sim.responses import (
    Resp,
    Send,
    error,
    json_resp,
    not_found_text,
    rate_limited,
    raw_json,
    redirect_to_clean,
    send_resp,
    start_headers,
)
from fake_cursor_sim.state import DoubleState

DEFAULT_API_KEY = "cursor-sim-dev-key"


def clean_path(path: str) -> str:
    """Go's ServeMux `cleanPath`: `path.Clean` (no `//`, `.` or `..` segments, `..` above the root dropped)
    with a trailing slash kept."""
    rooted = path if path.startswith("/") else "/" + path
    segments: list[str] = []
    for segment in rooted.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    cleaned = "/" + "/".join(segments)
    if rooted.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def dispatch(
    state: DoubleState, method: str, path: str, raw_query: bytes, port: int, body: bytes = b""
) -> Resp:
    # the mux, inside the limiter and auth: an unclean path has spent a token and passed auth (on the path
    # as sent) before it is redirected, and the redirect is the mux's, before any route (contract 10.3)
    cleaned = clean_path(path)
    if cleaned != path:
        return redirect_to_clean(cleaned, raw_query, method)
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
        return routes_admin.stats(store, state.last_generation, state.rng)
    if path == "/admin/config":
        if method != "GET":  # the one read handler that checks (HEAD and POST: 405, contract 2.5)
            return error("Method not allowed", 405)
        return routes_admin.config(store, port, state.uptime_s(), state.rng)
    if path == "/admin/regenerate":
        if method != "POST":
            return error("Only POST is allowed", 405)
        request = routes_admin.parse_regenerate(body)
        if isinstance(request, Resp):
            return request
        before = routes_admin.generation(store)
        state.regenerate()
        return routes_admin.regenerated(before, state.store, state.last_generation)
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
        method = scope["method"]
        body = await read_body(receive) if path == "/admin/regenerate" and method == "POST" else b""
        resp = dispatch(
            state, method, path, scope.get("query_string", b""), int(server[1] or 0), body
        )
        if resp.content_type == b"application/json" and any(k in kinds for k in FIELD_KINDS):
            for rule in fired:
                if rule.kind in FIELD_KINDS:
                    resp.body = rewrite_field(resp.body, rule)
        if "truncate" in kinds:
            resp = Resp(200, resp.body[: len(resp.body) // 2], resp.content_type)
        if "drop" in kinds:
            # announce the whole body, send half, return: uvicorn closes the connection mid-body
            headers = start_headers(resp, length=len(resp.body))
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
