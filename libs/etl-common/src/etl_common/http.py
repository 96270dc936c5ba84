"""The one HTTP client for upstream APIs: paced, retried, bounded, and careful with credentials.

Every request takes a token from the shared `TokenBucket` first (retries included: the upstream counts them).
429 is not a failure: it throttles the bucket and is retried within its own budget. 5xx, timeouts, dropped
connections and unparseable bodies are retried with exponential backoff and full jitter within a fixed attempt
budget, then raise `TransientSourceError`. 4xx are terminal (`SourceApiError`), with the upstream's message.
The API key travels only in the Authorization header, which is never logged or put in an error.

The client knows no particular upstream: the caller names itself (`user_agent`), says what a refused key
means for its operator (`auth_hint`), and how request paths group for the stats (`endpoint_family`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from etl_common.errors import SourceApiError, TransientSourceError
from etl_common.pacing import TokenBucket

log = logging.getLogger(__name__)

# What a 429 without a usable Retry-After waits: the upstream's usual answer, and short enough to probe again.
DEFAULT_RETRY_AFTER_S = 1.0


def path_without_query(path: str) -> str:
    """The default endpoint family: every distinct path counts on its own, whatever its query."""
    return path.split("?")[0]


@dataclass
class RequestStats:
    """What the client sent, for manifests and benchmarks."""

    sent: int = 0
    ok: int = 0
    throttled: int = 0  # 429 answers
    retried_errors: int = 0  # 5xx, timeouts, dropped connections, bad bodies
    bytes_received: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "ok": self.ok,
            "throttled_429": self.throttled,
            "retried_errors": self.retried_errors,
            "bytes_received": self.bytes_received,
            "by_endpoint": dict(sorted(self.by_endpoint.items())),
        }


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # for 5xx / transport / body errors, per request
    max_throttled: int = (
        120  # 429s tolerated per request before giving up (each waits >= Retry-After)
    )
    backoff_base_s: float = 0.25
    backoff_cap_s: float = 8.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))


class PacedClient:
    """Async JSON GETs against one base URL, sharing one token bucket and one connection pool."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        pacer: TokenBucket,
        user_agent: str,
        auth_hint: str | None = None,
        endpoint_family: Callable[[str], str] = path_without_query,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        url = httpx.URL(self.base_url)  # for errors: where we tried to connect, never any userinfo
        self._origin = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
        self.pacer = pacer
        self.retry = retry or RetryPolicy()
        self.stats = RequestStats()
        self._auth_hint = auth_hint
        self._endpoint_family = endpoint_family
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            auth=httpx.BasicAuth(api_key, ""),
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=max_connections),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": user_agent},
        )

    async def __aenter__(self) -> PacedClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET `path` and return the decoded JSON body, retrying what can be retried."""
        where = _describe(path, params)
        family = self._endpoint_family(path)
        errors = 0
        throttled = 0
        while True:
            await self.pacer.acquire()
            self.stats.sent += 1
            self.stats.by_endpoint[family] += 1
            try:
                response = await self._client.get(path, params=params)
                body = response.content
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                errors += 1
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                problem += f" ({self._origin})"
                await self._retry_or_raise(errors, where, problem)
                continue
            self.stats.bytes_received += len(body)
            status = response.status_code
            if status == 429:
                throttled += 1
                self.stats.throttled += 1
                if throttled > self.retry.max_throttled:
                    raise TransientSourceError(
                        f"{where}: still rate limited after {throttled} attempts",
                        status=429,
                        url=where,
                    )
                self.pacer.on_throttled(retry_after_s(response.headers.get("Retry-After")))
                continue
            if status >= 500:
                errors += 1
                await self._retry_or_raise(
                    errors, where, f"HTTP {status}: {_snippet(body)}", status
                )
                continue
            if status >= 400:
                message = _client_error(status, where, body, self._auth_hint)
                raise SourceApiError(message, status=status, url=where)
            try:
                data = json.loads(body)
            except ValueError:
                errors += 1
                await self._retry_or_raise(errors, where, f"invalid JSON body ({len(body)} bytes)")
                continue
            self.stats.ok += 1
            self.pacer.on_success()
            return data

    async def _retry_or_raise(
        self, errors: int, where: str, problem: str, status: int | None = None
    ) -> None:
        if errors >= self.retry.max_attempts:
            raise TransientSourceError(
                f"{where}: gave up after {errors} attempt{'s' if errors > 1 else ''}; "
                f"last error: {problem}",
                status=status,
                url=where,
            )
        self.stats.retried_errors += 1
        delay = self.retry.backoff(errors)
        log.warning(
            "retrying upstream request",
            extra={
                "request": where,
                "problem": problem,
                "attempt": errors,
                "delay_s": round(delay, 3),
            },
        )
        await asyncio.sleep(delay)


def _describe(path: str, params: Mapping[str, str | int] | None) -> str:
    """`GET /path?query` for messages: the base URL and the credentials never appear."""
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    return f"GET {path}" + (f"?{query}" if query else "")


def retry_after_s(value: str | None, now: datetime | None = None) -> float:
    """Seconds to wait per a Retry-After value (RFC 9110 10.2.3): delay-seconds or an HTTP-date.

    A date in the past means "now" (0); absent or unreadable values wait the default rather than fail:
    the 429 itself already says to slow down."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER_S
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, now or datetime.now(UTC))
    # inf would block the bucket forever and nan poisons every later comparison
    return max(0.0, seconds) if math.isfinite(seconds) else DEFAULT_RETRY_AFTER_S


def _seconds_until(http_date: str, now: datetime) -> float:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER_S
    if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _client_error(status: int, where: str, body: bytes, auth_hint: str | None) -> str:
    message = _snippet(body)
    try:
        decoded = json.loads(body)
        if isinstance(decoded, dict):
            message = str(decoded.get("error") or decoded.get("message") or message)
    except ValueError:
        pass
    if status == 401:
        hint = f" ({auth_hint})" if auth_hint else ""
        return f"{where}: HTTP 401 {message}: the upstream refused the API key{hint}"
    return f"{where}: HTTP {status} {message}"
