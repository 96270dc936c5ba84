"""Discovery and the request plan: what to fetch, from which endpoints, in how many requests.

Four cheap requests (`/admin/config`, `/admin/stats`, `/teams/members`, `/repos`) tell us the source's own
totals and its people before any data is fetched. From them the plan picks the endpoints that are both stable
under paging and complete (see the contract, sections 4.1 and 6):
- commits: one explicit wide window at pageSize=1000, paged while page*1000 < totalCount;
- pull requests: `/analytics/github/prs?author=<email>` per member (stable, ascending id);
- reviews: `/analytics/github/reviews?reviewer=<email>` per member (stable, ascending id);
- repos: `/repos`, once (it returns every repo in one response).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from etl_common.errors import SourceApiError
from etl_common.http import PacedClient

COMMITS_PAGE_SIZE = 1000  # the upstream's maximum; more is a 400
GITHUB_PAGE_SIZE = 100  # the /analytics/github/* maximum; more is silently clamped
# Any far-past/far-future pair disables the 30-day default window (contract section 3).
WIDE_WINDOW = {"startDate": "2000-01-01", "endDate": "2100-01-01"}


@dataclass(frozen=True)
class SourceSnapshot:
    """Identity of one upstream lifetime: if it differs before and after a load, the load is void."""

    uptime_s: float | None
    uptime_raw: str | None
    version: str | None
    generation: dict[str, Any]
    taken_at: float = field(default_factory=time.monotonic)  # our clock, to compare uptimes against

    # Uptime is reported in whole seconds at best and the two reads are separate requests.
    UPTIME_SLACK_S: ClassVar[float] = 2.0

    def restarted_since(self, earlier: SourceSnapshot) -> str | None:
        """Why the upstream is not the one `earlier` saw, or None if it is the same.

        A restart shows as uptime that advanced less than our own clock did between the two reads (a
        quickly restarted process may well report *more* uptime than the old one had at the first read)."""
        if self.uptime_s is not None and earlier.uptime_s is not None:
            expected = earlier.uptime_s + (self.taken_at - earlier.taken_at)
            if self.uptime_s + self.UPTIME_SLACK_S < expected:
                return (
                    f"upstream restarted (uptime {earlier.uptime_raw} at the start of the load, "
                    f"{self.uptime_raw} {self.taken_at - earlier.taken_at:.0f}s later)"
                )
        if self.generation != earlier.generation:
            return (
                "upstream regenerated its data (admin/stats generation changed from "
                f"{earlier.generation} to {self.generation})"
            )
        return None


@dataclass(frozen=True)
class Plan:
    snapshot: SourceSnapshot
    total_commits: int
    total_prs: int
    total_reviews: int
    member_emails: tuple[str, ...]
    repos: list[dict[str, Any]] = field(repr=False)
    discovery_requests: int = 4

    @property
    def commit_pages(self) -> int:
        return max(1, math.ceil(self.total_commits / COMMITS_PAGE_SIZE))

    @property
    def estimated_requests(self) -> int:
        """Requests for the whole load: exact for commits, an upper bound for the per-member lists
        (sum of ceil(n_i/100) <= n/100 + members), plus the closing identity check."""
        members = len(self.member_emails)
        prs_pages = members + math.ceil(self.total_prs / GITHUB_PAGE_SIZE)
        review_pages = members + math.ceil(self.total_reviews / GITHUB_PAGE_SIZE)
        return self.discovery_requests + self.commit_pages + prs_pages + review_pages + 2


def parse_go_duration(text: str | None) -> float | None:
    """Seconds in a Go duration string such as `1h2m3.5s` or `6m0s`; None if absent or unreadable."""
    if not text:
        return None
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    total, number = 0.0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = text[i : i + 2] if text[i : i + 2] in units else ch
        if unit not in units or not number:
            return None
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    return total if not number else None


async def snapshot(client: PacedClient) -> SourceSnapshot:
    config, stats = await asyncio.gather(
        client.get_json("/admin/config"), client.get_json("/admin/stats")
    )
    return _snapshot_from(config, stats)


def _snapshot_from(config: Any, stats: Any) -> SourceSnapshot:
    server = (config or {}).get("server") or {}
    generation = (stats or {}).get("generation")
    if not isinstance(generation, dict):
        raise SourceApiError("GET /admin/stats: no `generation` object; cannot verify completeness")
    uptime_raw = server.get("uptime")
    return SourceSnapshot(
        uptime_s=parse_go_duration(uptime_raw),
        uptime_raw=uptime_raw,
        version=server.get("version"),
        generation=generation,
    )


async def discover(client: PacedClient) -> Plan:
    config, stats, members, repos = await asyncio.gather(
        client.get_json("/admin/config"),
        client.get_json("/admin/stats"),
        client.get_json("/teams/members"),
        client.get_json("/repos"),
    )
    snap = _snapshot_from(config, stats)
    gen = snap.generation
    for key in ("total_commits", "total_prs", "total_reviews"):
        if not isinstance(gen.get(key), int):
            raise SourceApiError(f"GET /admin/stats: generation.{key} missing or not an integer")
    team = (members or {}).get("teamMembers")
    if not isinstance(team, list):
        raise SourceApiError("GET /teams/members: no `teamMembers` list")
    emails = tuple(sorted({m["email"] for m in team if isinstance(m, dict) and m.get("email")}))
    if not isinstance(repos, list):
        raise SourceApiError("GET /repos: expected a JSON array")
    return Plan(
        snapshot=snap,
        total_commits=gen["total_commits"],
        total_prs=gen["total_prs"],
        total_reviews=gen["total_reviews"],
        member_emails=emails,
        repos=repos,
    )
