"""Every pull request when authors have no email (replication mode), by partitions that prove themselves.

`/analytics/github/prs` answers in a random order unless filtered by author alone, and clone-authored PRs have
no author email (contract 4.7, 10.2), so neither paging nor per-author lists can be complete there. What is
reliable: a filter combination whose `pagination.total` fits one page (100) is complete in one request,
whatever the order. So PRs are partitioned by the day they were created (`start_date`/`end_date`, whole UTC
days; the two edge windows are open-ended so nothing can fall outside), a day over 100 is split by `status`
(three disjoint states), and a day with over 100 of one status is sampled a fixed number of times chosen
from its total (expected leftovers below one half; no open-ended resampling).

PR ids are dense (`1..total_prs`), so whatever the partitions missed is visible as the missing ids: the
sampling tail, and PRs opened in the last second of a day (`end_date=D` stops at `D 23:59:59.000`). Each is
fetched by id from `/repos/{o}/{r}/pulls/{n}`, trying first the repos whose `/repos` count is still short.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from etl_common.errors import IncompleteExtractError, SourceApiError
from etl_common.timestamps import parse_rfc3339_ns

PATH = "/analytics/github/prs"
PAGE_SIZE = 100  # the endpoint's silent clamp
STATUSES = ("open", "closed", "merged")  # disjoint upstream states
_DAY_NS = 86_400 * 10**9
_LAST_SECOND_NS = 86_399 * 10**9  # `end_date=D` includes D up to 23:59:59.000 and no further

Get = Callable[[str, dict[str, str | int]], Awaitable[Any]]


def samples_for(total: int, page: int = PAGE_SIZE) -> int:
    """Random pages of `page` rows to draw from `total` so fewer than half a row is expected missing:
    the smallest s with total * (1 - page/total)^s < 1/2."""
    if total <= page:
        return 1
    return max(1, math.ceil(math.log(2 * total) / -math.log(1 - page / total)))


def day_windows(first: date, last: date) -> list[tuple[str, dict[str, str | int]]]:
    """Disjoint whole-day windows covering every instant: `..first`, each day between, `last..`."""
    if first >= last:
        return [("all days", {})]
    windows: list[tuple[str, dict[str, str | int]]] = [
        (f"..{first}", {"end_date": first.isoformat()})
    ]
    day = first + timedelta(days=1)
    while day < last:
        windows.append((str(day), {"start_date": day.isoformat(), "end_date": day.isoformat()}))
        day += timedelta(days=1)
    windows.append((f"{last}..", {"start_date": last.isoformat()}))
    return windows


@dataclass
class PartitionReport:
    """What the partitioned extraction did, for the manifest."""

    windows: int = 0
    split_by_status: int = 0
    sampled: dict[str, int] = field(default_factory=dict)  # window -> requests spent sampling it
    gap_filled: int = 0
    gap_probes: int = 0  # per-id requests, including those that found the PR in another repo
    claimed: dict[str, int] = field(default_factory=dict)  # leaf window -> its total

    def as_dict(self) -> dict[str, Any]:
        return {
            "windows": self.windows,
            "split_by_status": self.split_by_status,
            "sampled_windows": len(self.sampled),
            "sampling_requests": sum(self.sampled.values()),
            "gap_filled": self.gap_filled,
            "gap_probes": self.gap_probes,
        }


class DayPartition:
    def __init__(
        self,
        get: Get,
        *,
        first_day: date,
        last_day: date,
        total_prs: int,
        repos: list[dict[str, Any]],
        on_request: Callable[[int], None],
    ) -> None:
        self._get = get
        self._windows = day_windows(first_day, last_day)
        self._total = total_prs
        self._repos = repos
        self._on_request = on_request  # called with the rows each request added
        self.found: dict[int, dict[str, Any]] = {}
        self.report = PartitionReport(windows=len(self._windows))

    @property
    def planned_requests(self) -> int:
        return len(self._windows)

    async def run(self) -> list[dict[str, Any]]:
        async with asyncio.TaskGroup() as tg:
            for label, params in self._windows:
                tg.create_task(self._window(label, params))
        await self._fill_gaps()
        return list(self.found.values())

    async def _page(self, params: dict[str, str | int]) -> int:
        """One first page: its rows join what was found; returns the list's total."""
        body = await self._get(PATH, {**params, "page": 1, "page_size": PAGE_SIZE})
        data = body.get("data") if isinstance(body, dict) else None
        total = (body.get("pagination") or {}).get("total") if isinstance(body, dict) else None
        if not isinstance(data, list) or not isinstance(total, int):
            raise SourceApiError(f"GET {PATH}: expected `data` and `pagination.total`")
        before = len(self.found)
        self.found.update((pr["id"], pr) for pr in data)
        self._on_request(len(self.found) - before)
        if len(data) != min(total, PAGE_SIZE):
            raise IncompleteExtractError(
                f"GET {PATH} {params}: {len(data)} rows on a first page of a list of {total}"
            )
        return total

    async def _window(self, label: str, params: dict[str, str | int]) -> None:
        total = await self._page(params)
        if total <= PAGE_SIZE:
            self.report.claimed[label] = total
            return
        if "status" not in params:
            self.report.split_by_status += 1
            async with asyncio.TaskGroup() as tg:
                for status in STATUSES:
                    tg.create_task(self._window(f"{label} {status}", {**params, "status": status}))
            return
        # Over a page of one status on one day: a fixed number of fresh random samples; what they
        # still miss is fetched by id afterwards.
        extra = samples_for(total) - 1
        self.report.sampled[label] = extra + 1
        self.report.claimed[label] = total
        await asyncio.gather(*(self._page(params) for _ in range(extra)))

    async def _fill_gaps(self) -> None:
        outside = [i for i in self.found if not (isinstance(i, int) and 1 <= i <= self._total)]
        if outside:
            raise IncompleteExtractError(
                f"PR ids are not 1..{self._total} (saw {sorted(outside)[:5]}), so the PRs the "
                "partitions missed cannot be located by id"
            )
        missing = [n for n in range(1, self._total + 1) if n not in self.found]
        if not missing:
            return
        seen = Counter(pr.get("repo_name") for pr in self.found.values())
        totals = {
            r["full_name"]: r.get("total_pull_requests_count")
            for r in self._repos
            if isinstance(r.get("full_name"), str)
        }

        def candidates() -> list[str]:
            """Repos whose PR count is still short go first, the shortest first; then the rest."""
            short = sorted(
                (n for n, t in totals.items() if isinstance(t, int) and seen[n] < t),
                key=lambda n: seen[n] - (totals[n] or 0),
            )
            return short + [n for n in totals if n not in short]

        async def fill(number: int) -> None:
            for repo in candidates():
                self.report.gap_probes += 1
                try:
                    pr = await self._get(f"/repos/{repo}/pulls/{number}", {})
                except SourceApiError as exc:
                    if exc.status == 404:  # PR numbers are global: it belongs to another repo
                        self._on_request(0)
                        continue
                    raise
                if not isinstance(pr, dict) or pr.get("id") != number:
                    raise SourceApiError(f"GET /repos/{repo}/pulls/{number}: not PR {number}")
                self.found[number] = pr
                seen[pr.get("repo_name")] += 1
                self.report.gap_filled += 1
                self._on_request(1)
                return
            raise IncompleteExtractError(f"PR {number} is in none of the {len(totals)} repos")

        async with asyncio.TaskGroup() as tg:
            for number in missing:
                tg.create_task(fill(number))
        # The ids a sampled window missed are inside its total already; only PRs opened after
        # 23:59:59.000 of a day lie in no window, and only they add to the windows' totals.
        self.report.claimed["in no window (opened in a day's last second)"] = sum(
            1 for n in missing if _in_no_window(self.found[n])
        )


def _in_no_window(pr: dict[str, Any]) -> bool:
    try:
        return parse_rfc3339_ns(str(pr.get("created_at"))) % _DAY_NS > _LAST_SECOND_NS
    except ValueError:
        return False
