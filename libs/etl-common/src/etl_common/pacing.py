"""A client-side token bucket shared by every concurrent request to one upstream.

The upstream enforces one global bucket (capacity 100, refill 100/min). Mirroring it on our side means an idle
upstream never answers 429: we spend the burst at once, then send exactly as fast as tokens come back. When
somebody else spends tokens too, the upstream's 429 + Retry-After tells us; we then empty our bucket, wait
the advised time and lower our refill rate multiplicatively, recovering it additively on success (AIMD), so a
competing client costs us a few 429s rather than a storm of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        capacity: float,
        refill_per_s: float,
        *,
        initial: float | None = None,
        min_refill_per_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1 or refill_per_s <= 0:
            raise ValueError("capacity must be >= 1 and refill_per_s > 0")
        self.capacity = capacity
        self.nominal_refill = refill_per_s
        self.refill_per_s = refill_per_s
        self.min_refill = min_refill_per_s if min_refill_per_s is not None else refill_per_s / 8
        self._tokens = capacity if initial is None else initial
        self._clock = clock
        self._last = clock()
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def per_minute(
        cls, requests_per_minute: float, *, safety: float = 0.99, headroom: float = 2
    ) -> TokenBucket:
        """Sized to an upstream limit of N requests/minute. After the burst both buckets sit near zero and
        a few milliseconds of network jitter decide whether a request finds a token on the server, so we
        start `headroom` tokens short (about a second of margin) and refill 1% slower (the margin grows)."""
        return cls(
            capacity=requests_per_minute,
            refill_per_s=requests_per_minute / 60.0 * safety,
            initial=max(1.0, requests_per_minute - headroom),
        )

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.refill_per_s)
        self._last = now

    def delay_needed(self) -> float:
        """Seconds until a token is available, without taking one (for progress estimates)."""
        now = self._clock()
        self._refill(now)
        wait = max(0.0, self._blocked_until - now)
        if self._tokens < 1:
            wait = max(wait, (1 - self._tokens) / self.refill_per_s)
        return wait

    async def acquire(self) -> None:
        """Take one token, waiting as long as needed. Waiters are served in arrival order."""
        async with self._lock:
            while True:
                wait = self.delay_needed()
                if wait <= 0:
                    self._tokens -= 1
                    return
                await asyncio.sleep(wait)

    def on_throttled(self, retry_after_s: float) -> None:
        """The upstream said 429: it has no tokens, so neither do we, and we were sending too fast."""
        now = self._clock()
        self._refill(now)
        self._tokens = 0.0
        self._blocked_until = max(self._blocked_until, now + retry_after_s)
        self.refill_per_s = max(self.min_refill, self.refill_per_s * 0.7)

    def on_success(self) -> None:
        """Recover the refill rate slowly towards nominal after a throttle."""
        if self.refill_per_s < self.nominal_refill:
            self.refill_per_s = min(
                self.nominal_refill, self.refill_per_s + self.nominal_refill * 0.02
            )

    @property
    def tokens(self) -> float:
        self._refill(self._clock())
        return self._tokens
