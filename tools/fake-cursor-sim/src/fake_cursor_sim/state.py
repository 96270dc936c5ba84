"""Mutable server state shared by the middleware and the routes: the compiled generation, the fault book,
counters, and regeneration (which keeps the server's start time, so `uptime` does not reset)."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fake_cursor_sim.data import Dataset, generate, rerandomised
from fake_cursor_sim.faults import FaultBook
from fake_cursor_sim.store import Store, compile_store
from fake_cursor_sim.timefmt import go_duration, go_round


@dataclass
class Counters:
    total: int = 0
    rate_limited: int = 0
    unauthorized: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)


class DoubleState:
    def __init__(
        self,
        dataset: Dataset,
        *,
        rate_limit_per_minute: int,
        api_key: str,
        uptime_offset_s: float = 0.0,
    ) -> None:
        self.store: Store = compile_store(dataset)
        self.rate_limit_per_minute = rate_limit_per_minute
        self.api_key = api_key
        # a test knob: report uptime as if the server had started this much earlier (e.g. past a day)
        self.started = time.monotonic() - uptime_offset_s
        # how the current generation was made, so a same-totals regenerate can rebuild and re-identify it
        self._recipe = (dataset.seed, dataset.generated_at)
        self._salt = 0
        self.rng = random.Random()  # not seeded: list order is random on every request, as upstream
        self.faults = FaultBook()
        self.counters = Counters()
        self.regenerations = 0
        self.last_generation = "N/A"

    def uptime_s(self) -> float:
        return time.monotonic() - self.started

    def regenerate(self, *, same_totals: bool = False) -> int:
        """A new universe; returns the nanoseconds taken. By default another seed that never gives the same three
        totals; with `same_totals`, the same shape and totals under new hashes and PR numbers (the case a
        run identity built on totals alone would miss)."""
        t0 = time.perf_counter_ns()
        old = self.store

        def make(seed: int, now: datetime) -> Dataset:
            return generate(
                old.developers,
                old.days,
                seed,
                now,
                seed_developers=old.seed_developers,
                tz=old.tz,
            )

        if same_totals:
            self._salt += 1
            seed, now = self._recipe
            dataset = rerandomised(make(seed, now), seed * 1_000 + self._salt)
        else:
            seed = old.seed
            while True:
                seed += 1
                dataset = make(seed, datetime.now(UTC))
                if (len(dataset.commits), len(dataset.pull_requests), len(dataset.reviews)) != (
                    old.totals["commits"],
                    old.totals["prs"],
                    old.totals["reviews"],
                ):
                    break
            self._recipe = (seed, dataset.generated_at)
        self.store = compile_store(dataset)
        self.regenerations += 1
        took_ns = time.perf_counter_ns() - t0
        # as Go prints the duration (`7ms`, `1.234s`), like the regenerate report's `duration`
        self.last_generation = go_duration(go_round(took_ns, 1_000_000))
        return took_ns
