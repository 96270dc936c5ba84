from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dev_stack.double import run_double

API_KEY = "cursor-sim-dev-key"


@dataclass
class Double:
    url: str

    def get(self, path: str, **params: Any) -> Any:
        return httpx.get(self.url + path, params=params, auth=(API_KEY, ""), timeout=10).json()

    def stats(self) -> dict[str, Any]:
        return self.get("/admin/stats")["generation"]

    def faults(self, *rules: dict[str, Any]) -> None:
        r = httpx.post(self.url + "/_double/faults", json={"rules": list(rules)}, timeout=10)
        r.raise_for_status()

    def served(self) -> dict[str, Any]:
        return httpx.get(self.url + "/_double/stats", timeout=10).json()


@pytest.fixture(scope="module")
def double_2dev() -> Iterator[Double]:
    """A 2-developer double without a rate limit; tests that inject faults use `fresh_double`."""
    with run_double(developers=2, days=90, seed=7, rate_limit_per_minute=0) as url:
        yield Double(url)


@pytest.fixture
def fresh_double() -> Iterator[Double]:
    with run_double(developers=2, days=90, seed=11, rate_limit_per_minute=0) as url:
        yield Double(url)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        """The manifest's location: the job's only stdout line, on success."""
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def logs(self) -> list[dict[str, Any]]:
        """The JSON log lines, which go to stderr (stdout is the result stream)."""
        return [json.loads(line) for line in self.stderr.splitlines() if line.startswith("{")]


def run_loader(
    url: str,
    output: Path | str,
    *extra: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> CliResult:
    """The real job entry point, as Cloud Run or a person would run it."""
    proc = subprocess.run(
        [sys.executable, "-m", "loader", "extract", "--url", url, "--output", str(output), *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**_base_env(), **(env or {})},
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("LOADER_", "CURSOR_SIM_"))}
