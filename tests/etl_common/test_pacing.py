import asyncio

import pytest

from etl_common.pacing import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(capacity=100, refill_per_s=100 / 60, clock=clock)
    for _ in range(100):
        assert bucket.delay_needed() == 0
        bucket._tokens -= 1
    assert bucket.delay_needed() == pytest.approx(0.6)
    clock.now = 6.0
    assert bucket.tokens == pytest.approx(10.0)


def test_throttle_blocks_for_retry_after_and_slows_refill_then_recovers() -> None:
    clock = FakeClock()
    bucket = TokenBucket(capacity=10, refill_per_s=2.0, clock=clock)
    bucket.on_throttled(1.0)
    assert bucket.tokens == 0
    assert bucket.refill_per_s == pytest.approx(1.4)
    assert bucket.delay_needed() == pytest.approx(
        1.0
    )  # Retry-After dominates the 0.71 s refill wait
    for _ in range(100):
        bucket.on_success()
    assert bucket.refill_per_s == 2.0


def test_repeated_throttles_never_stop_the_bucket() -> None:
    bucket = TokenBucket(capacity=10, refill_per_s=2.0, clock=FakeClock())
    for _ in range(50):
        bucket.on_throttled(1.0)
    assert bucket.refill_per_s == pytest.approx(0.25)


def test_concurrent_acquirers_share_the_rate() -> None:
    # 5 tokens of burst plus 20/s refill: 15 acquisitions need about 0.5 s whatever the concurrency.
    async def main() -> float:
        bucket = TokenBucket(capacity=5, refill_per_s=20)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.gather(*(bucket.acquire() for _ in range(15)))
        return loop.time() - start

    elapsed = asyncio.run(main())
    assert 0.45 <= elapsed < 1.5
