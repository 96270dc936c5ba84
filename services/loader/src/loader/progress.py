"""A one-line progress display for terminals: pages and rows per entity, requests left, time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from loader.extract import EntityProgress
from loader.plan import Plan

_LABELS = {"commits": "commits", "pull_requests": "PRs", "reviews": "reviews", "repos": "repos"}


class TerminalProgress:
    """Redraws one line on stderr at most 10 times a second; `close()` ends the line."""

    def __init__(self, pacer_rate_per_s: float, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.rate = pacer_rate_per_s
        self.plan: Plan | None = None
        self._last = 0.0
        self._started = time.monotonic()

    def on_plan(self, plan: Plan) -> None:
        self.plan = plan
        self.stream.write(
            f"plan: {plan.total_commits:,} commits, {plan.total_prs:,} PRs, {plan.total_reviews:,} reviews, "
            f"{len(plan.member_emails)} members, {len(plan.repos)} repos; PRs "
            + (
                "by author"
                if plan.pr_mode == "per_author"
                else f"by {plan.pr_windows} day partitions (clones have no email)"
            )
            + f"; about {plan.estimated_requests} requests\n"
        )

    def __call__(self, progress: dict[str, EntityProgress]) -> None:
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        parts = [
            f"{_LABELS[e]} {p.pages_done}/{max(p.pages_planned, p.pages_done)}p {p.rows:,}r"
            for e, p in progress.items()
        ]
        left = sum(max(0, p.pages_planned - p.pages_done) for p in progress.values())
        sent = sum(p.pages_done for p in progress.values()) + (
            self.plan.discovery_requests if self.plan else 0
        )
        eta = self.seconds_left(left, sent, now - self._started)
        line = (
            " | ".join(parts) + f" | {left} requests left, ~{eta:.0f}s | {now - self._started:.0f}s"
        )
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()

    def seconds_left(self, left: int, sent: int, elapsed_s: float) -> float:
        """Time for `left` requests at the paced rate, after whatever burst is still unspent (the bucket
        started full at 60 s worth of tokens and has refilled since)."""
        if not self.rate:
            return 0.0
        capacity = self.rate * 60
        available = max(0.0, min(capacity, capacity - sent + elapsed_s * self.rate))
        return max(0.0, left - available) / self.rate

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
