"""Readiness checks shared by concurrent probes: one dependency call per TTL, bounded when it hangs."""

from __future__ import annotations

import asyncio

from etl_common.readiness import CachedCheck, DependencyChecks


def test_a_burst_of_probes_costs_one_dependency_call_per_ttl() -> None:
    calls = 0

    async def check() -> tuple[bool, str]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)  # a slow dependency: every probe of the burst arrives meanwhile
        return True, "ok"

    async def scenario() -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]]:
        cached = CachedCheck("dep", check, ttl_s=60)
        burst = await asyncio.gather(*(cached.get(5) for _ in range(500)))
        cached.ttl_s = 0  # expired: the next probe asks again
        again = [await cached.get(5), await cached.get(5)]
        return burst, again

    burst, again = asyncio.run(scenario())
    assert burst == [(True, "ok")] * 500 and again == [(True, "ok")] * 2
    assert calls == 3


def test_a_hung_or_failing_dependency_is_a_bounded_failure() -> None:
    never = asyncio.Event()

    async def hangs() -> tuple[bool, str]:
        await never.wait()
        return True, "unreachable"

    async def raises() -> tuple[bool, str]:
        raise ConnectionError("refused")

    async def scenario() -> list[dict[str, tuple[bool, str]]]:
        checks = DependencyChecks(
            [CachedCheck("hung", hangs, 60), CachedCheck("down", raises, 60)], wait_s=0.2
        )
        answers = await asyncio.gather(*(checks.answer() for _ in range(50)))
        await checks.close()
        return answers

    answers = asyncio.run(scenario())
    assert (
        answers
        == [
            {"hung": (False, "no answer within 0.2 s"), "down": (False, "ConnectionError: refused")}
        ]
        * 50
    )
