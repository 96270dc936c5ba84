"""`run_double(...)`: the double as a real subprocess on a free 127.0.0.1 port, always stopped."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx

from etl_common.processes import ManagedProcess, free_port, python_module_argv, running


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
    """Yield the base URL of a ready double. Readiness is probed on `/_double/stats`, which is exempt from
    the rate limit, so probing never spends the tokens a test is about to measure. `now` pins the
    generation instant (fully reproducible data); by default it is the start time, as upstream.
    `seed_developers` turns on replication mode, `tz` the server's zone; `port` reuses a port (a restart)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    argv = python_module_argv(
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
        "--api-key",
        api_key,
        *(("--now", now.isoformat()) if now is not None else ()),
        *(("--seed-developers", str(seed_developers)) if seed_developers is not None else ()),
        *(("--tz", tz) if tz else ()),
        *(("--uptime-offset-s", str(uptime_offset_s)) if uptime_offset_s else ()),
    )
    with tempfile.TemporaryDirectory(prefix="fake-cursor-sim-") as tmp:
        process = ManagedProcess("fake-cursor-sim", argv, log_path=Path(tmp) / "double.log")

        def ready() -> bool:
            return httpx.get(url + "/_double/stats", timeout=1.0).status_code == 200

        with running(process, ready, timeout_s):
            yield url
