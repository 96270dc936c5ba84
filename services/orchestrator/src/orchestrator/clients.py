"""Calls to the loader and dbt-runner services: one place for URLs, timeouts and error mapping.

Connection failures and 5xx become `ServiceUnavailable` (transient: the caller may retry or answer an
event with 5xx); a 409 from a single-flight service becomes `ServiceBusy`; other 4xx are terminal.
Each service has one pooled `httpx.AsyncClient` for the life of the process (opened and closed by the
app's lifespan), so polls and probes reuse connections instead of opening new ones per call.
Every URL in a message goes through `etl_common.urls.redact`: a configured URL may carry credentials.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from etl_common.errors import EtlError
from etl_common.urls import redact, redact_text

Answer = TypeVar("Answer", bound=BaseModel)
_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Polls and probes are few (probes are cached and single-flight); a small pool bounds what one
# orchestrator can ask of a service at once.
_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=4, keepalive_expiry=30.0)


class ServiceError(EtlError):
    """A service answered in a way retrying will not change."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MalformedAnswer(ServiceError):
    """A 2xx answer that is not what the contract (`etl_common.contract`) says: asking again will
    not mend it."""


class ServiceUnavailable(EtlError):
    """A service could not be reached or answered 5xx."""

    transient = True


class ServiceBusy(ServiceUnavailable):
    """A single-flight service is busy with another run (409)."""

    def __init__(self, message: str, detail: Any) -> None:
        super().__init__(message)
        self.detail = detail


class ServiceClient:
    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.shown_url = redact(self.base_url)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared client; created on first use when no lifespan opened it (scripts, tests)."""
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=_TIMEOUT, limits=_LIMITS)
        return self._client

    def open(self) -> None:
        self.client  # noqa: B018 - creates it

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def call(self, method: str, path: str, answer: type[Answer], json: Any = None) -> Answer:
        """The answer validated against its contract model; `MalformedAnswer` names what is off."""
        url = self.base_url + path
        shown = self.shown_url + path
        try:
            response = await self.client.request(method, url, json=json)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                f"{self.name}: {type(exc).__name__} on {shown}: {redact_text(str(exc))}"
            ) from exc
        if response.status_code == 409:
            detail = response.json().get("detail")
            raise ServiceBusy(f"{self.name} is busy: {detail}", detail)
        if response.status_code >= 500:
            raise ServiceUnavailable(f"{self.name}: HTTP {response.status_code} on {shown}")
        if response.status_code >= 400:
            raise ServiceError(
                f"{self.name}: HTTP {response.status_code} on {shown}: "
                + redact_text(response.text[:500]),
                response.status_code,
            )
        try:
            return answer.model_validate_json(response.content)
        except ValidationError as exc:
            raise MalformedAnswer(
                f"{self.name}: malformed answer on {shown}: {_first_problem(exc)}"
            ) from None

    async def reachable(self, timeout_s: float = 5.0) -> tuple[bool, str]:
        try:
            response = await self.client.get(self.base_url + "/healthz", timeout=timeout_s)
            return response.status_code == 200, f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {redact_text(str(exc)) or 'no detail'}"


def _first_problem(exc: ValidationError) -> str:
    """One line naming the first field that is off (and how many more are)."""
    problems = exc.errors()
    where = ".".join(str(part) for part in problems[0]["loc"]) or "body"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {problems[0]['msg']}{more}"


def clients(loader_url: str, dbt_runner_url: str) -> tuple[ServiceClient, ServiceClient]:
    return ServiceClient("loader", loader_url), ServiceClient("dbt-runner", dbt_runner_url)
