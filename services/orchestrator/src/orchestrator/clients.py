"""Calls to the loader and dbt-runner services: one place for URLs, timeouts and error mapping.

Connection failures and 5xx become `ServiceUnavailable` (transient: the caller may retry or answer an
event with 5xx); a 409 from a single-flight service becomes `ServiceBusy`; other 4xx are terminal.
"""

from __future__ import annotations

from typing import Any

import httpx

from etl_common.errors import EtlError

_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class ServiceError(EtlError):
    """A service answered in a way retrying will not change."""


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

    async def call(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        url = self.base_url + path
        try:
            async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
                response = await client.request(method, url, json=json)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{self.name}: {type(exc).__name__} on {url}: {exc}") from exc
        if response.status_code == 409:
            detail = response.json().get("detail")
            raise ServiceBusy(f"{self.name} is busy: {detail}", detail)
        if response.status_code >= 500:
            raise ServiceUnavailable(f"{self.name}: HTTP {response.status_code} on {url}")
        if response.status_code >= 400:
            raise ServiceError(
                f"{self.name}: HTTP {response.status_code} on {url}: {response.text[:500]}"
            )
        body: dict[str, Any] = response.json()
        return body

    async def reachable(self) -> tuple[bool, str]:
        try:
            async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
                response = await client.get(self.base_url + "/healthz")
            return response.status_code == 200, f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"


def clients(loader_url: str, dbt_runner_url: str) -> tuple[ServiceClient, ServiceClient]:
    return ServiceClient("loader", loader_url), ServiceClient("dbt-runner", dbt_runner_url)
