"""Run identity: is the upstream at the end of a load the same lifetime and generation as at its start?

Three independent facts are compared (contract sections 0.9 and 10.1):
- **the data's own identity**: the earliest commit (`commitHash`, `commitTs`) and the commit count. Every
  start and every regenerate re-randomises hashes and timestamps, and a generation never comes back, so a
  change at any moment between the two reads leaves a different first commit behind, even when the new
  universe happens to have the old totals;
- **the server's start time**, inferred from `server.uptime`. The upstream reports uptime coarsely (exact
  seconds below a minute, then rounded to whole minutes, past a day `XdYhZm`), so each reading gives an
  interval for the start, not an instant; a restart is a start interval that moved later than the earlier one
  allows. Readings never cry wolf on loads of any length, and name a restart when they can;
- **the scalar generation totals** of `/admin/stats` (never whole bodies: its lists come back reordered).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

# The two reads of one uptime are separate requests; a response may reach us this long after it was made.
LATENCY_SLACK_S = 2.0
_TOTALS = ("total_commits", "total_prs", "total_reviews", "total_developers")
_GO_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s|d)")
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
_UNITS["ns"] = 1e-9


def uptime_bounds(text: str | None) -> tuple[float, float] | None:
    """The true uptime (seconds) an upstream `server.uptime` string allows, as (low, high); None if absent
    or unreadable. Exact seconds below a minute; from a minute on, whole minutes (past a day printed as
    `XdYhZm`): rounded, so up to 30 s above the truth, and allowed to be up to 60 s below it in case the
    day format truncates instead."""
    if not text:
        return None
    pos, total = 0, 0.0
    for match in _GO_PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        return None
    if total < 60 and "d" not in text:
        return max(0.0, total - 1.0), total + 1.0
    return max(0.0, total - 30.0), total + 60.0


@dataclass(frozen=True)
class SourceSnapshot:
    """What identifies one upstream generation, read at the start and again at the end of a load."""

    uptime_raw: str | None
    version: str | None
    generation: dict[str, Any]
    first_commit: dict[str, Any] | None  # {"commitHash", "commitTs"} of the earliest commit
    commit_count: int | None
    taken_at: float = field(default_factory=time.monotonic)  # our clock, when the reads returned

    @property
    def totals(self) -> dict[str, Any]:
        return {k: self.generation.get(k) for k in _TOTALS}

    def start_interval(self) -> tuple[float, float] | None:
        """When the server started, on our monotonic clock, as the uptime reading allows."""
        bounds = uptime_bounds(self.uptime_raw)
        if bounds is None:
            return None
        low, high = bounds
        return self.taken_at - high - LATENCY_SLACK_S, self.taken_at - low

    def restarted_since(self, earlier: SourceSnapshot) -> str | None:
        """Why the upstream is not the generation `earlier` saw, or None if it is the same."""
        before, after = earlier.start_interval(), self.start_interval()
        if before is not None and after is not None and after[0] > before[1]:
            return (
                f"upstream restarted (uptime {earlier.uptime_raw} at the start of the load, "
                f"{self.uptime_raw} {self.taken_at - earlier.taken_at:.0f}s later)"
            )
        if self.first_commit != earlier.first_commit or self.commit_count != earlier.commit_count:
            return (
                "upstream regenerated or restarted: its earliest commit changed from "
                f"{_commit(earlier)} to {_commit(self)}"
            )
        if self.totals != earlier.totals:
            return (
                "upstream regenerated its data (admin/stats totals changed from "
                f"{earlier.totals} to {self.totals})"
            )
        return None

    def record(self) -> dict[str, Any]:
        """The compared facts, as the manifest records them."""
        return {
            "uptime": self.uptime_raw,
            "first_commit": self.first_commit,
            "commit_count": self.commit_count,
            "totals": self.totals,
        }


def _commit(snap: SourceSnapshot) -> str:
    if snap.first_commit is None:
        return f"none ({snap.commit_count} commits)"
    return (
        f"{snap.first_commit.get('commitHash')} at {snap.first_commit.get('commitTs')} "
        f"({snap.commit_count} commits)"
    )


def identity_record(start: SourceSnapshot, end: SourceSnapshot) -> dict[str, Any]:
    return {
        "compared": ["first_commit", "commit_count", "uptime_start_interval", "totals"],
        "start": start.record(),
        "end": end.record(),
        "seconds_between": round(end.taken_at - start.taken_at, 3),
    }
