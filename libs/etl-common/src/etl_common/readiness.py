"""`GET /readyz` that stays cheap and bounded however many probes arrive at once (every service uses it).

Each dependency check (for the orchestrator: loader, dbt-runner, bucket) is cached for `ready_cache_s` and single-flight:
while one check is in flight, every probe that needs it awaits that same check instead of starting
another, so 500 concurrent probes cost each dependency one request. A probe never waits longer than
`ready_timeout_s`: if the check is still running after that, the probe gets the previous result (said
to be from an earlier check), or "not ready: no answer" when there is none; the check itself keeps
running (each is bounded by its own timeout) and its result serves the probes that follow. The app
runs every check once at startup, so the first burst of probes finds them answered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Result = tuple[bool, str]
CHECK_TIMEOUT_S = 5.0  # how long one dependency check may take (the probe bound is separate)


class CachedCheck:
    def __init__(self, name: str, check: Callable[[], Awaitable[Result]], ttl_s: float) -> None:
        self.name = name
        self._check = check
        self.ttl_s = ttl_s
        self._result: tuple[float, Result] | None = None
        self._inflight: asyncio.Task[Result] | None = None

    async def get(self, wait_s: float) -> Result:
        if self._result is not None and time.monotonic() - self._result[0] < self.ttl_s:
            return self._result[1]
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._run())
        try:
            return await asyncio.wait_for(asyncio.shield(self._inflight), wait_s)
        except TimeoutError:
            if self._result is None:
                return False, f"no answer within {wait_s:g} s"
            at, (ok, detail) = self._result
            return ok, f"{detail} (as of {time.monotonic() - at:.1f} s ago; a new check is running)"

    async def _run(self) -> Result:
        try:
            result = await self._check()
        except Exception as exc:  # a check must answer, never take the probe down
            result = (False, f"{type(exc).__name__}: {exc}")
        self._result = (time.monotonic(), result)
        self._inflight = None
        return result

    async def close(self) -> None:
        if self._inflight is not None:
            self._inflight.cancel()


class DependencyChecks:
    def __init__(self, checks: list[CachedCheck], wait_s: float) -> None:
        self.checks = checks
        self.wait_s = wait_s

    async def answer(self) -> dict[str, Result]:
        """Every check at once, each bounded by `wait_s`: a probe costs at most `wait_s`."""
        results = await asyncio.gather(*(c.get(self.wait_s) for c in self.checks))
        return {c.name: r for c, r in zip(self.checks, results, strict=True)}

    async def close(self) -> None:
        for check in self.checks:
            await check.close()
