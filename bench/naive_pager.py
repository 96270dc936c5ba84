"""The baseline: what a loader built from the user story's literal endpoints does.

Commits from `/analytics/ai-code/commits` without dates (the 30-day default window) at the default page size;
PRs by paging `/repos/{o}/{r}/pulls` until a short page (random order on every request: duplicates in, rows
out); reviews with one request per PR. It uses the same paced client as the loader, so the comparison is of
request plans, not of HTTP stacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from etl_common.http import PacedClient


@dataclass
class NaiveResult:
    commits: int
    pull_requests: int
    reviews: int
    requests: int


async def naive_extract(client: PacedClient, *, max_requests: int | None = None) -> NaiveResult:
    """Run the naive crawl; with `max_requests` it stops early (its request count is then projected)."""
    commits: set[str] = set()
    page = 1
    while True:
        body = await client.get_json("/analytics/ai-code/commits", {"page": page})
        commits.update(c["commitHash"] for c in body["items"])
        if len(body["items"]) < body["pageSize"] or page * body["pageSize"] >= body["totalCount"]:
            break
        page += 1
    prs: dict[int, dict] = {}
    for repo in await client.get_json("/repos"):
        page = 1
        while True:
            batch = await client.get_json(
                f"/repos/{repo['full_name']}/pulls", {"per_page": 100, "page": page}
            )
            prs.update((pr["id"], pr) for pr in batch)
            if len(batch) < 100:
                break
            page += 1
    reviews: set[int] = set()
    for pr in prs.values():
        if max_requests is not None and client.stats.sent >= max_requests:
            break
        for review in await client.get_json(
            f"/repos/{pr['repo_name']}/pulls/{pr['number']}/reviews"
        ):
            reviews.add(review["id"])
    return NaiveResult(len(commits), len(prs), len(reviews), client.stats.sent)
