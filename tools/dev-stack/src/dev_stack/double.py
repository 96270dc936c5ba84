"""The cursor-sim double as a real subprocess: `run_double(...)` for tests, `double_argv` for the stack.

`run_double` binds a free 127.0.0.1 port and always stops the double; readiness is probed on
`/_double/stats`, which is exempt from the rate limit, so probing never spends the tokens a test is
about to measure.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx

from dev_stack.processes import ManagedProcess, free_port, python_module_argv, running


def double_argv(
    port: int,
    *,
    developers: int,
    days: int,
    seed: int,
    rate_limit_per_minute: int,
    seed_developers: int | None = None,
    api_key: str | None = None,
    now: datetime | None = None,
    tz: str | None = None,
    uptime_offset_s: float = 0.0,
) -> list[str]:
    """`python -m fake_cursor_sim ...`; options left at None are the double's own defaults."""
    return python_module_argv(
        "fake_cursor_sim",
        "--port",
        str(port),
        "--developers",
        str(developers),
        "--days",
        str(days),
        "--seed",
        str(seed),
        "--rate-limit-per-minute",
        str(rate_limit_per_minute),
        *(("--api-key", api_key) if api_key is not None else ()),
        *(("--now", now.isoformat()) if now is not None else ()),
        *(("--seed-developers", str(seed_developers)) if seed_developers is not None else ()),
        *(("--tz", tz) if tz else ()),
        *(("--uptime-offset-s", str(uptime_offset_s)) if uptime_offset_s else ()),
    )


def double_ready(url: str) -> Callable[[], bool]:
    """The double's readiness probe (`/_double/stats` spends none of the rate limit)."""

    def probe() -> bool:
        return httpx.get(url + "/_double/stats", timeout=1.0).status_code == 200

    return probe


@contextlib.contextmanager
def run_double(
    *,
    developers: int = 2,
    days: int = 90,
    seed: int = 42,
    rate_limit_per_minute: int = 0,
    api_key: str = "cursor-sim-dev-key",
    timeout_s: float = 60.0,
    now: datetime | None = None,
    seed_developers: int | None = None,
    tz: str | None = None,
    uptime_offset_s: float = 0.0,
    port: int | None = None,
) -> Iterator[str]:
    """Yield the base URL of a ready double. `now` pins the generation instant (fully reproducible
    data); by default it is the start time, as upstream. `seed_developers` turns on replication mode,
    `tz` the server's zone; `port` reuses a port (a restart)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    argv = double_argv(
        port,
        developers=developers,
        days=days,
        seed=seed,
        rate_limit_per_minute=rate_limit_per_minute,
        seed_developers=seed_developers,
        api_key=api_key,
        now=now,
        tz=tz,
        uptime_offset_s=uptime_offset_s,
    )
    with tempfile.TemporaryDirectory(prefix="fake-cursor-sim-") as tmp:
        process = ManagedProcess("fake-cursor-sim", argv, log_path=Path(tmp) / "double.log")
        with running(process, double_ready(url), timeout_s):
            yield url
