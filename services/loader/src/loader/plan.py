"""Discovery and the request plan: what to fetch, from which endpoints, in how many requests.

Five cheap requests (`/admin/config`, `/admin/stats`, `/teams/members`, `/repos` and the earliest commit) tell
us the source's own totals, its people and its identity before any data is fetched. From them the plan picks
the endpoints that are both stable under paging and complete (see the contract, sections 4.1, 6 and 10.2):
- commits: one explicit wide window at pageSize=1000, paged while page*1000 < totalCount;
- pull requests, seed mode (every member is in the seed file): `/analytics/github/prs?author=<email>` per
  member (stable, ascending id);
- pull requests, replication mode (`/teams/members` lists more people than `total_developers`, so clones
  exist and their PRs carry no author email): day partitions of `/analytics/github/prs` (`loader.partition`);
- reviews: `/analytics/github/reviews?reviewer=<email>` per reviewing member (stable, ascending id); in
  replication mode only seed developers review, so clones are asked only if the seed lists come up short;
- repos: `/repos`, once (it returns every repo in one response).
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from etl_common.errors import SourceApiError
from etl_common.http import PacedClient
from loader.identity import SourceSnapshot
from loader.partition import day_windows

COMMITS_PAGE_SIZE = 1000  # the upstream's maximum; more is a 400
GITHUB_PAGE_SIZE = 100  # the /analytics/github/* maximum; more is silently clamped
# Any far-past/far-future pair disables the 30-day default window (contract section 3).
WIDE_WINDOW = {"startDate": "2000-01-01", "endDate": "2100-01-01"}
# How the upstream names a replicated clone's email (contract 4.7): `clone3_alice@example.com`.
_CLONE_EMAIL = re.compile(r"^clone\d+_")
PrMode = Literal["per_author", "day_partition"]


@dataclass(frozen=True)
class Plan:
    snapshot: SourceSnapshot
    total_commits: int
    total_prs: int
    total_reviews: int
    member_emails: tuple[str, ...]
    repos: list[dict[str, Any]] = field(repr=False)
    seed_developers: int | None = None  # /admin/stats total_developers
    pr_mode: PrMode = "per_author"
    pr_days: tuple[date, date] | None = None  # first and last day of the PR day partitions
    discovery_requests: int = 5
    closing_requests: int = 3

    @property
    def commit_pages(self) -> int:
        return max(1, math.ceil(self.total_commits / COMMITS_PAGE_SIZE))

    @property
    def reviewer_emails(self) -> tuple[str, ...]:
        """Who is asked for reviews first: everyone in seed mode; only seed developers when replicated."""
        if self.pr_mode == "per_author":
            return self.member_emails
        return tuple(e for e in self.member_emails if not _CLONE_EMAIL.match(e))

    @property
    def pr_windows(self) -> int:
        return len(day_windows(*self.pr_days)) if self.pr_days else 0

    @property
    def estimated_requests(self) -> int:
        """Requests for the whole load: exact for commits and day partitions that fit a page, an upper
        bound for the per-member lists (sum of ceil(n_i/100) <= n/100 + members), plus the closing
        identity check. A day holding over 100 PRs adds its status split (and, past 100 of one status,
        a few bounded samples): that part is known only once the day's total is."""
        if self.pr_mode == "per_author":
            prs_pages = len(self.member_emails) + math.ceil(self.total_prs / GITHUB_PAGE_SIZE)
        else:
            prs_pages = self.pr_windows
        reviewers = len(self.reviewer_emails)
        review_pages = reviewers + math.ceil(self.total_reviews / GITHUB_PAGE_SIZE)
        return (
            self.discovery_requests
            + self.commit_pages
            + prs_pages
            + review_pages
            + self.closing_requests
        )


FINGERPRINT_PARAMS: dict[str, str | int] = {**WIDE_WINDOW, "page": 1, "pageSize": 1}


async def snapshot(client: PacedClient) -> SourceSnapshot:
    """The closing read of the upstream's identity (three requests)."""
    config, stats, first = await asyncio.gather(
        client.get_json("/admin/config"),
        client.get_json("/admin/stats"),
        client.get_json("/analytics/ai-code/commits", FINGERPRINT_PARAMS),
    )
    return _snapshot_from(config, stats, first)


def _snapshot_from(config: Any, stats: Any, first: Any) -> SourceSnapshot:
    server = (config.get("server") if isinstance(config, dict) else None) or {}
    generation = stats.get("generation") if isinstance(stats, dict) else None
    if not isinstance(generation, dict):
        raise SourceApiError("GET /admin/stats: no `generation` object; cannot verify completeness")
    if not isinstance(first, dict) or not isinstance(first.get("items"), list):
        raise SourceApiError("GET /analytics/ai-code/commits: expected an object with `items`")
    items = first["items"]
    head = items[0] if items and isinstance(items[0], dict) else None
    return SourceSnapshot(
        uptime_raw=server.get("uptime"),
        version=server.get("version"),
        generation=generation,
        first_commit=(
            {"commitHash": head.get("commitHash"), "commitTs": head.get("commitTs")}
            if head
            else None
        ),
        commit_count=first.get("totalCount") if isinstance(first.get("totalCount"), int) else None,
    )


def _pr_days(snap: SourceSnapshot, config: Any) -> tuple[date, date]:
    """The day partitions' range: from the earliest commit's day (a PR opens at most 59 minutes before
    its first commit) to today. Both edge windows are open-ended, so a wrong guess costs requests, never
    rows."""
    today = datetime.now(UTC).date()
    first_ts = (snap.first_commit or {}).get("commitTs")
    try:
        first = (datetime.fromisoformat(str(first_ts)).astimezone(UTC) - timedelta(hours=1)).date()
    except ValueError:
        days = ((config or {}).get("generation") or {}).get("days")
        first = today - timedelta(days=(days if isinstance(days, int) else 90) + 1)
    return min(first, today), today


async def discover(client: PacedClient) -> Plan:
    config, stats, members, repos, first = await asyncio.gather(
        client.get_json("/admin/config"),
        client.get_json("/admin/stats"),
        client.get_json("/teams/members"),
        client.get_json("/repos"),
        client.get_json("/analytics/ai-code/commits", FINGERPRINT_PARAMS),
    )
    snap = _snapshot_from(config, stats, first)
    gen = snap.generation
    for key in ("total_commits", "total_prs", "total_reviews"):
        if not isinstance(gen.get(key), int):
            raise SourceApiError(f"GET /admin/stats: generation.{key} missing or not an integer")
    team = (members or {}).get("teamMembers") if isinstance(members, dict) else None
    if not isinstance(team, list):
        raise SourceApiError("GET /teams/members: no `teamMembers` list")
    emails = tuple(sorted({m["email"] for m in team if isinstance(m, dict) and m.get("email")}))
    if not isinstance(repos, list):
        raise SourceApiError("GET /repos: expected a JSON array")
    seed = gen.get("total_developers")
    # More people than the seed file holds: the rest are clones, whose PRs carry no author email.
    replicated = isinstance(seed, int) and len(team) > seed
    return Plan(
        snapshot=snap,
        total_commits=gen["total_commits"],
        total_prs=gen["total_prs"],
        total_reviews=gen["total_reviews"],
        member_emails=emails,
        repos=repos,
        seed_developers=seed if isinstance(seed, int) else None,
        pr_mode="day_partition" if replicated else "per_author",
        pr_days=_pr_days(snap, config),
    )
