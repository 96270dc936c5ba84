"""Completeness is verified, not assumed.

Blocking checks reconcile what was extracted with the source's own totals (`/admin/stats`, each list's
`total`, `/repos` counts); any failure aborts the load before a manifest exists, naming the entity and the
shortfall. Orphan counts (reviews without their PR, PR commit hashes without their commit) are recorded but do
not block: with complete totals they describe the upstream's data, not our extraction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from etl_common.errors import IncompleteExtractError
from etl_common.manifest import Check
from loader.extract import ListClaims
from loader.plan import Plan
from loader.sink import EntitySink


def _equal(name: str, expected: int, actual: int, detail: str = "") -> Check:
    ok = expected == actual
    if not ok and not detail:
        diff = actual - expected
        detail = f"{'short' if diff < 0 else 'over'} by {abs(diff)}"
    return Check(name=name, expected=expected, actual=actual, ok=ok, detail=detail)


def completeness_checks(
    plan: Plan,
    sinks: Mapping[str, EntitySink],
    claims: Mapping[str, ListClaims],
    fallbacks: Mapping[str, str] | None = None,
) -> list[Check]:
    """Blocking reconciliation; a list-claims check is informational for an entity completed by the
    fallback (its rows then exceed what the filtered lists claimed, by design)."""
    fallbacks = fallbacks or {}
    commits, prs, reviews, repos = (
        sinks[e] for e in ("commits", "pull_requests", "reviews", "repos")
    )
    checks = [
        _equal("commits = admin/stats total_commits", plan.total_commits, commits.rows_seen),
        _equal(
            "commits = listing totalCount",
            claims["commits"].claimed.get("all", 0),
            commits.rows_seen,
        ),
        _equal("pull_requests = admin/stats total_prs", plan.total_prs, prs.rows_seen),
        _claims(
            "pull_requests = sum of per-author totals"
            if plan.pr_mode == "per_author"
            else "pull_requests = sum of day-partition totals + PRs in no window",
            claims["pull_requests"],
            prs,
            fallbacks.get("pull_requests"),
        ),
        _equal("reviews = admin/stats total_reviews", plan.total_reviews, reviews.rows_seen),
        _claims(
            "reviews = sum of per-reviewer totals",
            claims["reviews"],
            reviews,
            fallbacks.get("reviews"),
        ),
        _equal("repos = /repos entries", len(plan.repos), repos.rows_seen),
    ]
    checks.append(_per_repo_pr_counts(plan, prs))
    checks.append(_dense_pr_ids(plan, prs))
    return checks


def _dense_pr_ids(plan: Plan, prs: EntitySink) -> Check:
    """PR ids are exactly 1..total_prs on the upstream (contract 10.2): every id present, none else."""
    ids = prs.keys
    missing = sum(1 for n in range(1, plan.total_prs + 1) if n not in ids)
    extra = sum(1 for i in ids if not (isinstance(i, int) and 1 <= i <= plan.total_prs))
    return Check(
        name="pull_requests ids = 1..total_prs",
        expected=plan.total_prs,
        actual=plan.total_prs - missing,
        ok=missing == 0 and extra == 0,
        # informational in seed mode (nothing there depends on density); the partitions rely on it
        blocking=plan.pr_mode == "day_partition",
        detail=f"{missing} missing, {extra} outside the range" if missing or extra else "",
    )


def _claims(name: str, claims: ListClaims, sink: EntitySink, fallback: str | None) -> Check:
    check = _equal(name, sum(claims.claimed.values()), sink.rows_seen)
    if fallback:
        return check.model_copy(update={"blocking": False, "detail": f"fallback used: {fallback}"})
    return check


def _per_repo_pr_counts(plan: Plan, prs: EntitySink) -> Check:
    extracted = Counter(prs.collected.get("repo_name", []))
    extracted_open = Counter(
        r
        for r, s in zip(
            prs.collected.get("repo_name", []), prs.collected.get("state", []), strict=True
        )
        if s == "open"
    )
    problems = []
    for repo in plan.repos:
        name = repo.get("full_name")
        total, open_ = repo.get("total_pull_requests_count"), repo.get("open_pull_requests_count")
        if isinstance(total, int) and extracted[name] != total:
            problems.append(f"{name}: {extracted[name]} of {total} PRs")
        if isinstance(open_, int) and extracted_open[name] != open_:
            problems.append(f"{name}: {extracted_open[name]} of {open_} open PRs")
    return Check(
        name="pull_requests per repo = /repos counts",
        expected=len(plan.repos),
        actual=len(plan.repos) - len({p.split(":")[0] for p in problems}),
        ok=not problems,
        detail="; ".join(problems[:10]),
    )


def orphan_checks(sinks: Mapping[str, EntitySink]) -> list[Check]:
    commit_hashes = sinks["commits"].keys
    pr_ids = sinks["pull_requests"].keys
    pr_commit_ids = [
        h for ids in sinks["pull_requests"].collected.get("commit_ids", []) for h in ids or ()
    ]
    missing_commits = sum(1 for h in pr_commit_ids if h not in commit_hashes)
    commits_in_prs = set(pr_commit_ids)
    commits_without_pr = sum(1 for h in commit_hashes if h not in commits_in_prs)
    reviews_without_pr = sum(
        1 for p in sinks["reviews"].collected.get("pr_id", []) if p not in pr_ids
    )
    return [
        Check(
            name="orphans: reviews whose pr_id is not an extracted PR",
            expected=0,
            actual=reviews_without_pr,
            ok=reviews_without_pr == 0,
            blocking=False,
        ),
        Check(
            name="orphans: PR commit_ids not among extracted commits",
            expected=0,
            actual=missing_commits,
            ok=missing_commits == 0,
            blocking=False,
        ),
        Check(
            name="orphans: commits in no PR's commit_ids",
            expected=0,
            actual=commits_without_pr,
            ok=commits_without_pr == 0,
            blocking=False,
        ),
    ]


def require(checks: list[Check]) -> None:
    failed = [c for c in checks if c.blocking and not c.ok]
    if failed:
        summary = "; ".join(
            f"{c.name}: expected {c.expected}, got {c.actual}"
            + (f" ({c.detail})" if c.detail else "")
            for c in failed
        )
        raise IncompleteExtractError(f"extraction incomplete, no manifest written: {summary}")
