"""`GET /readyz` under load, over real HTTP: a real orchestrator process (uvicorn on a free port) with
stand-in loader and dbt-runner servers that count what they are asked. Probes share one pooled client
per service and one cached, single-flight check per dependency; a probe never waits past its bound."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from dev_stack.processes import free_port, http_ok, running

from .harness import orchestrator_at
from .stubs import hanging, healthy, stub_server


async def _probe_all(url: str, n: int) -> list[tuple[int, dict, float]]:  # type: ignore[type-arg]
    """`n` probes at once, each on its own connection; (status, body, seconds) per probe."""
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one() -> tuple[int, dict, float]:  # type: ignore[type-arg]
            t0 = time.monotonic()
            response = await client.get(url + "/readyz")
            return response.status_code, response.json(), time.monotonic() - t0

        return await asyncio.gather(*(one() for _ in range(n)))


def test_500_concurrent_probes_are_all_ready_and_ask_each_dependency_a_few_times(
    tmp_path: Path,
) -> None:
    with stub_server(healthy) as loader, stub_server(healthy) as runner:
        proc, url = orchestrator_at(
            str(tmp_path / "root"),
            loader.url,
            runner.url,
            tmp_path,
            env={"ORCHESTRATOR_READY_CACHE_S": "3", "ORCHESTRATOR_READY_TIMEOUT_S": "2"},
        )
        with running(proc, http_ok(url + "/healthz"), timeout_s=60):
            t0 = time.monotonic()
            answers = asyncio.run(_probe_all(url, 500))
            wall = time.monotonic() - t0
        asked = (loader.count("GET", "/healthz"), runner.count("GET", "/healthz"))
    codes = [code for code, _, _ in answers]
    assert codes == [200] * 500, sorted(set(codes))
    body = answers[0][1]
    assert body["ready"] is True and set(body["checks"]) == {"loader", "dbt-runner", "bucket"}
    assert body["checks"]["loader"] == "ok HTTP 200", body
    # One check per TTL window; a burst that straddles a window boundary may cost one more.
    assert 1 <= asked[0] <= 3 and 1 <= asked[1] <= 3, asked
    slowest = max(s for _, _, s in answers)
    print(
        f"[readyz] 500 concurrent: {codes.count(200)} x 200, loader /healthz x{asked[0]}, "
        f"dbt-runner /healthz x{asked[1]}, wall {wall:.2f}s, slowest probe {slowest:.2f}s"
    )


def test_probe_with_a_dependency_down_and_one_hanging_answers_503_with_reasons_in_bounded_time(
    tmp_path: Path,
) -> None:
    """The dbt-runner stand-in accepts and never answers: its check (started at startup, 5 s timeout)
    is still in flight when the probes arrive, and each probe gives up waiting after 1 s."""
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with stub_server(hanging) as runner:
        proc, url = orchestrator_at(
            str(tmp_path / "root"),
            down,
            runner.url,
            tmp_path,
            env={"ORCHESTRATOR_READY_CACHE_S": "3", "ORCHESTRATOR_READY_TIMEOUT_S": "1"},
        )
        with running(proc, http_ok(url + "/healthz"), timeout_s=60):
            answers = asyncio.run(_probe_all(url, 100))
            asked = runner.count("GET", "/healthz")
    assert [code for code, _, _ in answers] == [503] * 100
    checks = answers[0][1]["detail"]["checks"]
    assert checks["loader"].startswith("unreachable: ConnectError"), checks
    hung = checks["dbt-runner"]
    assert hung == "no answer within 1 s" or hung.startswith("unreachable: ReadTimeout"), checks
    assert checks["bucket"].startswith("ok "), checks
    slowest = max(s for _, _, s in answers)
    assert slowest < 1 + 2.0, f"a probe took {slowest:.2f}s with a 1 s bound"
    assert asked == 1, f"the hanging dbt-runner was asked {asked} times, not once"
    print(f"[readyz] dependency down + hanging: 100 x 503, slowest probe {slowest:.2f}s")
