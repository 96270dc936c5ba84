"""The fallback when the filtered analytics lists are unavailable: per-repo pulls and per-PR reviews.

`/repos/{o}/{r}/pulls` comes back in a new random order on every request, so paging it loses rows. What *is*
reliable: a response shorter than `per_page` holds the whole filtered set, and `/repos` tells each repo's PR
total. So per repo and state we take one page; a state with 100 or more PRs is sampled again (each response is
a fresh random subset) until the repo's distinct PRs reach its known total, within a bounded number of
requests. Reviews then need one request per PR (`/pulls/{n}/reviews` is complete and stable per PR): slow at
the upstream's rate limit, which is why this is the fallback and not the plan.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from etl_common.errors import IncompleteExtractError
from etl_common.http import PacedClient

log = logging.getLogger(__name__)

PULLS_PER_PAGE = 100  # the per-repo list's silent clamp
STATES = ("open", "closed", "merged")  # disjoint upstream states; `closed` excludes merged


def sample_budget(total: int) -> int:
    """Requests allowed to collect `total` PRs by random pages of 100: the coupon collector's expected
    n*H(n)/100, doubled, plus slack. Past it the load fails rather than spinning."""
    if total <= 0:
        return 3
    harmonic = math.log(total) + 0.5772 + 1 / (2 * total)
    return 3 + math.ceil(2 * total * harmonic / PULLS_PER_PAGE) + 10


async def repo_pull_requests(client: PacedClient, repo: dict[str, Any]) -> list[dict[str, Any]]:
    """Every PR of one repo, proven complete against `total_pull_requests_count`."""
    owner_repo = repo["full_name"]
    total = repo.get("total_pull_requests_count")
    path = f"/repos/{owner_repo}/pulls"
    found: dict[int, dict[str, Any]] = {}
    saturated: list[str] = []
    for state in STATES:
        page = await client.get_json(path, {"state": state, "per_page": PULLS_PER_PAGE, "page": 1})
        found.update((pr["id"], pr) for pr in page)
        if len(page) >= PULLS_PER_PAGE:
            saturated.append(state)
    if not isinstance(total, int):
        if saturated:
            raise IncompleteExtractError(
                f"{owner_repo}: no total_pull_requests_count in /repos, cannot prove a sampled list complete"
            )
        return list(found.values())
    budget = sample_budget(total)
    spent = len(STATES)
    while len(found) < total and saturated:
        if spent >= budget:
            raise IncompleteExtractError(
                f"{owner_repo}: {len(found)} of {total} PRs after {spent} sampling requests (budget {budget})"
            )
        batch = await asyncio.gather(
            *(
                client.get_json(path, {"state": s, "per_page": PULLS_PER_PAGE, "page": 1})
                for s in saturated
            )
        )
        spent += len(saturated)
        for page in batch:
            found.update((pr["id"], pr) for pr in page)
    if len(found) != total:
        raise IncompleteExtractError(
            f"{owner_repo}: {len(found)} of {total} PRs from the per-repo list"
        )
    log.info("per-repo PRs complete", extra={"repo": owner_repo, "prs": total, "requests": spent})
    return list(found.values())


async def pr_reviews(client: PacedClient, pr: dict[str, Any]) -> list[dict[str, Any]]:
    """All reviews of one PR (the per-PR list is unpaginated and stable)."""
    body = await client.get_json(f"/repos/{pr['repo_name']}/pulls/{pr['number']}/reviews")
    if not isinstance(body, list):
        raise IncompleteExtractError(f"reviews of PR {pr['id']}: expected a JSON array")
    return body
