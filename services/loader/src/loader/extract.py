"""Fetch every page the plan names, concurrently, through the one paced client.

Concurrency only hides latency: the shared token bucket decides the send rate. Each list reports its own
total on its first page; the remaining pages of that list are then scheduled at once. What each list claimed
to hold is kept, so verification can compare claims, rows and the source's global totals.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from etl_common.errors import EtlError, SourceApiError
from etl_common.http import PacedClient
from loader import fallback
from loader.partition import DayPartition
from loader.plan import COMMITS_PAGE_SIZE, GITHUB_PAGE_SIZE, WIDE_WINDOW, Plan
from loader.sink import EntitySink


@dataclass
class EntityProgress:
    pages_done: int = 0
    pages_planned: int = 0
    rows: int = 0


@dataclass
class ListClaims:
    """Totals the upstream claimed per list (per member, or the one commits listing)."""

    claimed: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)


ProgressCallback = Callable[[dict[str, EntityProgress]], None]


class Extraction:
    def __init__(
        self,
        client: PacedClient,
        plan: Plan,
        sinks: Mapping[str, EntitySink],
        *,
        concurrency: int = 6,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.client = client
        self.plan = plan
        self.sinks = sinks
        self._slots = asyncio.Semaphore(concurrency)
        self.progress = {name: EntityProgress() for name in sinks}
        self.claims = {name: ListClaims() for name in ("commits", "pull_requests", "reviews")}
        self._on_progress = on_progress
        # entity -> why the per-repo / per-PR fallback was used for it (absent: the filtered lists sufficed)
        self.fallbacks: dict[str, str] = {}
        self._unavailable: set[str] = set()
        self.partition: DayPartition | None = None  # set when PRs came from day partitions

    async def run(self) -> None:
        self.sinks["repos"].add(self.plan.repos)
        self._page_done("repos", len(self.plan.repos), planned=1)
        plan = self.plan
        by_author = plan.pr_mode == "per_author"
        self.progress["commits"].pages_planned = plan.commit_pages
        self.progress["pull_requests"].pages_planned = len(plan.member_emails) if by_author else 0
        self.progress["reviews"].pages_planned = len(plan.reviewer_emails)
        try:
            async with asyncio.TaskGroup() as tg:
                for page in range(1, plan.commit_pages + 1):
                    tg.create_task(self._commits_page(page, tg))
                if by_author:
                    for email in plan.member_emails:
                        tg.create_task(self._pr_list(email, tg))
                else:
                    tg.create_task(self._partitioned_prs())
                for email in plan.reviewer_emails:
                    tg.create_task(self._review_list(email, tg))
            await self._complete_pull_requests()
            await self._ask_other_reviewers()
            await self._complete_reviews()
        except ExceptionGroup as group:
            # The first failure cancels its siblings; report it, not the group that wraps it.
            raise _first_cause(group) from None

    async def _get(self, path: str, params: dict[str, str | int]) -> Any:
        async with self._slots:
            return await self.client.get_json(path, params)

    async def _commits_page(self, page: int, tg: asyncio.TaskGroup) -> None:
        params: dict[str, str | int] = {**WIDE_WINDOW, "page": page, "pageSize": COMMITS_PAGE_SIZE}
        body = await self._get("/analytics/ai-code/commits", params)
        items, total = _wrapper(body, "items", "totalCount", "/analytics/ai-code/commits")
        claims = self.claims["commits"]
        claims.claimed["all"] = total
        claims.received["all"] = claims.received.get("all", 0) + len(items)
        added = self.sinks["commits"].add(items)
        if page == 1:
            # The stats total planned the pages; if the listing holds more, fetch the rest too so the
            # mismatch is measured, not hidden (verification will refuse the load either way).
            actual_pages = max(1, math.ceil(total / COMMITS_PAGE_SIZE))
            for extra in range(self.plan.commit_pages + 1, actual_pages + 1):
                self.progress["commits"].pages_planned += 1
                tg.create_task(self._commits_page(extra, tg))
        self._page_done("commits", added)

    def _pr_list(self, email: str, tg: asyncio.TaskGroup) -> Any:
        return self._member_list(
            "pull_requests", "/analytics/github/prs", {"author": email}, email, tg
        )

    def _review_list(self, email: str, tg: asyncio.TaskGroup) -> Any:
        return self._member_list(
            "reviews", "/analytics/github/reviews", {"reviewer": email}, email, tg
        )

    async def _ask_other_reviewers(self) -> None:
        """In replication mode only seed developers review; should their lists fall short of the
        source's total, every other member is asked too before anything slower is tried."""
        asked = set(self.plan.reviewer_emails)
        rest = [e for e in self.plan.member_emails if e not in asked]
        claimed = sum(self.claims["reviews"].claimed.values())
        if not rest or "reviews" in self._unavailable or claimed >= self.plan.total_reviews:
            return
        self.progress["reviews"].pages_planned += len(rest)
        async with asyncio.TaskGroup() as tg:
            for email in rest:
                tg.create_task(self._review_list(email, tg))

    async def _partitioned_prs(self) -> None:
        """All PRs from day partitions (replication mode, or per-author lists that came up short)."""
        first, last = self.plan.pr_days or (None, None)
        if first is None or last is None:
            raise SourceApiError("no day range for the PR partitions")
        progress = self.progress["pull_requests"]

        def on_request(rows: int) -> None:
            progress.pages_planned = max(progress.pages_planned, progress.pages_done + 1)
            self._page_done("pull_requests", rows)

        self.partition = DayPartition(
            self._get,
            first_day=first,
            last_day=last,
            total_prs=self.plan.total_prs,
            repos=self.plan.repos,
            on_request=on_request,
        )
        progress.pages_planned += self.partition.planned_requests
        try:
            prs = await self.partition.run()
        except ExceptionGroup as group:
            cause = _first_cause(group)
            if (
                isinstance(cause, SourceApiError)
                and cause.status == 404
                and not self.partition.found
            ):
                self._unavailable.add("pull_requests")  # the route is absent on this upstream
                return
            raise cause from None
        self.sinks["pull_requests"].add(prs)
        self.claims["pull_requests"].claimed.update(self.partition.report.claimed)

    async def _member_list(
        self,
        entity: str,
        path: str,
        filt: dict[str, str],
        member: str,
        tg: asyncio.TaskGroup,
        page: int = 1,
    ) -> None:
        if entity in self._unavailable:
            return
        params: dict[str, str | int] = {**filt, "page": page, "page_size": GITHUB_PAGE_SIZE}
        try:
            body = await self._get(path, params)
        except SourceApiError as exc:
            if exc.status == 404 and page == 1:  # route absent on this upstream: use the fallback
                self._unavailable.add(entity)
                return
            raise
        data, total = _analytics(body, path)
        claims = self.claims[entity]
        claims.claimed[member] = total
        claims.received[member] = claims.received.get(member, 0) + len(data)
        added = self.sinks[entity].add(data)
        if page == 1:
            pages = math.ceil(total / GITHUB_PAGE_SIZE)
            self.progress[entity].pages_planned += max(0, pages - 1)
            for nxt in range(2, pages + 1):
                tg.create_task(self._member_list(entity, path, filt, member, tg, nxt))
        self._page_done(entity, added)

    async def _complete_pull_requests(self) -> None:
        """Complete the PRs when the author-filtered lists fall short of `/admin/stats` (authors without
        an email): day partitions, which prove themselves. Only when `/analytics/github/prs` is absent,
        per-repo sampling of every repo."""
        sink = self.sinks["pull_requests"]
        if (
            "pull_requests" not in self._unavailable
            and self.partition is None
            and sink.rows_seen < self.plan.total_prs
        ):
            self.fallbacks["pull_requests"] = (
                f"author-filtered lists gave {sink.rows_seen} of {self.plan.total_prs} PRs; "
                "completed by day partitions"
            )
            await self._partitioned_prs()
        if "pull_requests" not in self._unavailable:
            return  # verification judges what the lists and partitions gave
        self.fallbacks["pull_requests"] = "/analytics/github/prs unavailable (404)"
        repos = list(self.plan.repos)
        self.progress["pull_requests"].pages_planned += len(repos)
        results = await asyncio.gather(*(self._repo_prs(repo) for repo in repos))
        for prs in results:
            self._page_done("pull_requests", sink.add(prs))

    async def _repo_prs(self, repo: dict[str, Any]) -> list[dict[str, Any]]:
        async with self._slots:
            return await fallback.repo_pull_requests(self.client, repo)

    async def _complete_reviews(self) -> None:
        """One request per PR when the reviewer-filtered lists are unavailable or came up short."""
        sink = self.sinks["reviews"]
        if "reviews" not in self._unavailable and sink.rows_seen >= self.plan.total_reviews:
            return
        self.fallbacks["reviews"] = (
            "/analytics/github/reviews unavailable (404)"
            if "reviews" in self._unavailable
            else f"reviewer-filtered lists gave {sink.rows_seen} of {self.plan.total_reviews} reviews"
        )
        prs = self.sinks["pull_requests"].collected
        targets = [
            {"id": i, "number": n, "repo_name": r}
            for i, n, r in zip(prs["id"], prs["number"], prs["repo_name"], strict=True)
        ]
        self.progress["reviews"].pages_planned += len(targets)

        async def one(pr: dict[str, Any]) -> None:
            async with self._slots:
                reviews = await fallback.pr_reviews(self.client, pr)
            self._page_done("reviews", sink.add(reviews))

        async with asyncio.TaskGroup() as tg:
            for pr in targets:
                tg.create_task(one(pr))

    def _page_done(self, entity: str, rows: int, planned: int | None = None) -> None:
        p = self.progress[entity]
        if planned is not None:
            p.pages_planned = planned
        p.pages_done += 1
        p.rows += rows
        if self._on_progress:
            self._on_progress(self.progress)


def _first_cause(group: BaseExceptionGroup) -> BaseException:
    """The first leaf of a (possibly nested) exception group, preferring our own typed errors."""
    leaves: list[BaseException] = []

    def walk(g: BaseExceptionGroup) -> None:
        for exc in g.exceptions:
            walk(exc) if isinstance(exc, BaseExceptionGroup) else leaves.append(exc)

    walk(group)
    return next((e for e in leaves if isinstance(e, EtlError)), leaves[0])


def _wrapper(body: Any, items_key: str, total_key: str, where: str) -> tuple[list[Any], int]:
    if not isinstance(body, dict) or not isinstance(body.get(items_key), list):
        raise SourceApiError(f"GET {where}: expected an object with an `{items_key}` array")
    total = body.get(total_key)
    if not isinstance(total, int):
        raise SourceApiError(f"GET {where}: `{total_key}` missing or not an integer")
    return body[items_key], total


def _analytics(body: Any, where: str) -> tuple[list[Any], int]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SourceApiError(f"GET {where}: expected an object with a `data` array")
    total = (body.get("pagination") or {}).get("total")
    if not isinstance(total, int):
        raise SourceApiError(f"GET {where}: `pagination.total` missing or not an integer")
    return body["data"], total
