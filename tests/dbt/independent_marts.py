"""An independent recomputation of every mart column from the raw tables, in plain Python.

It shares no SQL with the dbt models: the raw tables are read row by row, the definitions of
/work/shared/docs/marts.md are applied in Python (exact integer microsecond arithmetic, `math.fsum`,
linear-interpolation percentiles), and the result is compared with the mart tables dbt built. Timestamps are
truncated to microseconds, as the staging layer documents. Band edges come from the seed CSV (data, not logic).

`compare(db_path)` returns a `Report`: rows per mart on each side and every mismatch found.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from .mart_math import avg, band, bands, div, fetch, hours, pct, us, week

REL_TOL = 1e-9
ABS_TOL = 1e-12

GRAINS = {
    "velocity": ("week", "repo_name", "developer_id"),
    "review_costs": ("week", "repo_name"),
    "quality": ("week", "repo_name"),
    "ai_impact": ("week", "repo_name", "ai_usage_band"),
}


@dataclass
class Report:
    rows_expected: dict[str, int] = field(default_factory=dict)
    rows_actual: dict[str, int] = field(default_factory=dict)
    columns_checked: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.rows_expected == self.rows_actual


def expected_marts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[tuple, dict[str, Any]]]:
    """Every mart, keyed by its grain, recomputed from raw.* only."""
    commits = fetch(
        con,
        'select "commitHash" as h, "userId" as dev, "userEmail" as email, '
        '"repoName" as repo, "totalLinesAdded" as added, "tabLinesAdded" as tab, '
        '"composerLinesAdded" as comp, epoch_ns("commitTs") as ts from raw.commits',
    )
    prs = fetch(
        con,
        "select id, state, author_id, author_email, repo_name, additions, deletions, "
        "ai_ratio, reviewers, commit_ids, was_reverted, is_bug_fix, "
        "epoch_ns(created_at) as created, epoch_ns(merged_at) as merged "
        "from raw.pull_requests",
    )
    reviews = fetch(
        con,
        "select id, pr_id, reviewer, state, epoch_ns(submitted_at) as submitted from raw.reviews",
    )
    merged = _merged_prs(commits, prs, reviews)
    by_week_repo: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    by_band: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for m in merged:
        by_week_repo[(m["week"], m["repo"])].append(m)
        by_band[(m["week"], m["repo"], m["band"])].append(m)
    return {
        "velocity": _velocity(commits, merged),
        "review_costs": {key: _review_costs(ps) for key, ps in by_week_repo.items()},
        "quality": {key: _quality(ps) for key, ps in by_week_repo.items()},
        "ai_impact": {key: _ai_impact(ps) for key, ps in by_band.items()},
    }


def _merged_prs(
    commits: list[dict[str, Any]], prs: list[dict[str, Any]], reviews: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per merged PR with every measure the marts aggregate."""
    the_bands = bands()
    commit_ts = {c["h"]: us(c["ts"]) for c in commits}
    reviews_by_pr: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in reviews:
        reviews_by_pr[r["pr_id"]].append(r)
    return [
        _merged_pr(pr, reviews_by_pr.get(pr["id"], []), commit_ts, the_bands)
        for pr in prs
        if pr["state"].lower() == "merged" and pr["merged"] is not None
    ]


def _merged_pr(
    pr: dict[str, Any],
    revs: list[dict[str, Any]],
    commit_ts: dict[str, int | None],
    the_bands: list[tuple[str, float | None, float | None]],
) -> dict[str, Any]:
    created, merged_at = us(pr["created"]), us(pr["merged"])
    first_commit = min(
        (commit_ts[h] for h in set(pr["commit_ids"] or []) if h in commit_ts), default=None
    )
    first_review = min((us(r["submitted"]) for r in revs), default=None)
    changes = sum(1 for r in revs if r["state"].lower() == "changes_requested")
    if pr["reviewers"] is not None:
        reviewer_count = len(pr["reviewers"])
    else:
        reviewer_count = len({r["reviewer"] for r in revs})
    size = (
        None
        if pr["additions"] is None or pr["deletions"] is None
        else pr["additions"] + pr["deletions"]
    )
    return {
        "week": week(merged_at),
        "repo": pr["repo_name"],
        "author": pr["author_id"],
        "email": pr["author_email"] or None,
        "size": size,
        "ai_ratio": pr["ai_ratio"],
        "band": band(pr["ai_ratio"], the_bands),
        "coding": hours(first_commit, created),
        "pickup": hours(created, first_review),
        "review_lead": hours(first_review, merged_at),
        "cycle": hours(created, merged_at),
        "reviews": len(revs),
        "changes": changes,
        "reviewer_count": reviewer_count,
        "iterations": 1 + changes if revs else 0,
        "reverted": bool(pr["was_reverted"]),
        "bug_fix": bool(pr["is_bug_fix"]),
    }


def _velocity(
    commits: list[dict[str, Any]], merged: list[dict[str, Any]]
) -> dict[tuple, dict[str, Any]]:
    emails: dict[str, str] = {}
    for c in commits:
        if c["email"]:
            emails[c["dev"]] = max(emails.get(c["dev"], c["email"]), c["email"])
    pr_emails: dict[str, str] = {}
    for m in merged:
        if m["email"]:
            pr_emails[m["author"]] = max(pr_emails.get(m["author"], m["email"]), m["email"])
    cgroups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for c in commits:
        cgroups[(week(us(c["ts"])), c["repo"], c["dev"])].append(c)
    pgroups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for m in merged:
        pgroups[(m["week"], m["repo"], m["author"])].append(m)
    velocity = {}
    for key in set(cgroups) | set(pgroups):
        cs, ps = cgroups.get(key, []), pgroups.get(key, [])
        added = sum(c["added"] for c in cs)
        ai = sum((c["tab"] or 0) + (c["comp"] or 0) for c in cs)
        velocity[key] = {
            "developer_email": emails.get(key[2], pr_emails.get(key[2])),
            "commits": len(cs),
            "lines_added": added,
            "ai_lines_added": ai,
            "ai_ratio": div(ai, added) if cs else None,
            "prs_merged": len(ps),
            "avg_pr_size": avg(p["size"] for p in ps),
            "avg_coding_lead_time_hours": avg(p["coding"] for p in ps),
            "avg_pickup_time_hours": avg(p["pickup"] for p in ps),
            "avg_review_lead_time_hours": avg(p["review_lead"] for p in ps),
            "avg_total_cycle_time_hours": avg(p["cycle"] for p in ps),
            "p50_total_cycle_time_hours": pct((p["cycle"] for p in ps), 0.5),
        }
    return velocity


def _review_costs(ps: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(ps)
    reviews_total = sum(p["reviews"] for p in ps)
    sizes = [p["size"] for p in ps if p["size"] is not None]
    return {
        "prs_merged": n,
        "reviews": reviews_total,
        "reviews_per_pr": div(reviews_total, n),
        "avg_reviewer_count": avg(p["reviewer_count"] for p in ps),
        "avg_review_iterations": avg(p["iterations"] for p in ps),
        "changes_requested_rate": div(sum(p["changes"] for p in ps), reviews_total),
        "review_density": (
            None if not sizes or sum(sizes) == 0 else reviews_total / sum(sizes) * 100.0
        ),
        "avg_pickup_time_hours": avg(p["pickup"] for p in ps),
        "p50_pickup_time_hours": pct((p["pickup"] for p in ps), 0.5),
        "p90_pickup_time_hours": pct((p["pickup"] for p in ps), 0.9),
        "avg_review_lead_time_hours": avg(p["review_lead"] for p in ps),
    }


def _quality(ps: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(ps)
    reverted = sum(p["reverted"] for p in ps)
    bug = sum(p["bug_fix"] for p in ps)
    unreviewed = sum(1 for p in ps if p["reviews"] == 0)
    return {
        "prs_merged": n,
        "reverted_prs": reverted,
        "revert_rate": reverted / n,
        "bug_fix_prs": bug,
        "bug_fix_rate": bug / n,
        "unreviewed_prs": unreviewed,
        "unreviewed_rate": unreviewed / n,
    }


def _ai_impact(ps: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(ps)
    return {
        "prs_merged": n,
        "avg_ai_ratio": avg(p["ai_ratio"] for p in ps),
        "avg_pr_size": avg(p["size"] for p in ps),
        "avg_total_cycle_time_hours": avg(p["cycle"] for p in ps),
        "p50_total_cycle_time_hours": pct((p["cycle"] for p in ps), 0.5),
        "avg_pickup_time_hours": avg(p["pickup"] for p in ps),
        "avg_reviews_per_pr": avg(p["reviews"] for p in ps),
        "revert_rate": sum(p["reverted"] for p in ps) / n,
        "bug_fix_rate": sum(p["bug_fix"] for p in ps) / n,
    }


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def compare(db_path: Path | str) -> Report:
    """Recompute the marts from raw.* in `db_path` and compare them with mart.* column by column."""
    report = Report()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        expected = expected_marts(con)
        for mart, grain in GRAINS.items():
            actual_rows = fetch(con, f"select * from mart.{mart}")
            actual = {tuple(r[g] for g in grain): r for r in actual_rows}
            exp = expected[mart]
            report.rows_expected[mart] = len(exp)
            report.rows_actual[mart] = len(actual_rows)
            columns = [c for c in (actual_rows[0] if actual_rows else {}) if c not in grain]
            report.columns_checked[mart] = len(columns) + len(grain)
            for key in set(exp) - set(actual):
                report.mismatches.append(f"{mart}: missing row {key}")
            for key in set(actual) - set(exp):
                report.mismatches.append(f"{mart}: unexpected row {key}")
            for key in set(exp) & set(actual):
                missing_cols = set(exp[key]) - set(actual[key])
                if missing_cols:
                    report.mismatches.append(f"{mart}: columns {sorted(missing_cols)} not in mart")
                for col, value in exp[key].items():
                    if col in actual[key] and not _same(value, actual[key][col]):
                        report.mismatches.append(
                            f"{mart}{key}.{col}: expected {value!r}, mart has {actual[key][col]!r}"
                        )
    finally:
        con.close()
    return report


if __name__ == "__main__":
    import sys

    r = compare(sys.argv[1])
    print(
        {
            "ok": r.ok,
            "rows_expected": r.rows_expected,
            "rows_actual": r.rows_actual,
            "columns_checked": r.columns_checked,
            "mismatches": r.mismatches[:20],
        }
    )
