from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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
