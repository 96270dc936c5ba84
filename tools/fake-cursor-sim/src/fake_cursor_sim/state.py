"""Mutable server state shared by the middleware and the routes: the compiled generation, the fault book,
counters, and regeneration (which keeps the server's start time, so `uptime` does not reset)."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fake_cursor_sim.data import Dataset, generate
from fake_cursor_sim.faults import FaultBook
from fake_cursor_sim.store import Store, compile_store


@dataclass
class Counters:
    total: int = 0
    rate_limited: int = 0
    unauthorized: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)


class DoubleState:
    def __init__(self, dataset: Dataset, *, rate_limit_per_minute: int, api_key: str) -> None:
        self.store: Store = compile_store(dataset)
        self.rate_limit_per_minute = rate_limit_per_minute
        self.api_key = api_key
        self.started = time.monotonic()
        self.rng = random.Random()  # not seeded: list order is random on every request, as upstream
        self.faults = FaultBook()
        self.counters = Counters()
        self.regenerations = 0
        self.last_generation = "N/A"

    def uptime_s(self) -> float:
        return time.monotonic() - self.started

    def regenerate(self) -> float:
        """A new universe with another seed (never with the same three totals); returns seconds taken."""
        t0 = time.perf_counter()
        old = self.store
        seed = old.seed
        while True:
            seed += 1
            dataset = generate(old.developers, old.days, seed, datetime.now(UTC))
            if (len(dataset.commits), len(dataset.pull_requests), len(dataset.reviews)) != (
                old.totals["commits"],
                old.totals["prs"],
                old.totals["reviews"],
            ):
                break
        self.store = compile_store(dataset)
        self.regenerations += 1
        seconds = time.perf_counter() - t0
        self.last_generation = f"{seconds * 1000:.0f}ms"
        return seconds
