"""An independent recomputation of every mart column from the raw tables, in plain Python.

It shares no SQL with the dbt models: the raw tables are read row by row, the definitions of
/work/shared/docs/marts.md are applied in Python (exact integer microsecond arithmetic, `math.fsum`,
linear-interpolation percentiles), and the result is compared with the mart tables dbt built. Timestamps are
truncated to microseconds, as the staging layer documents. Band edges come from the seed CSV (data, not logic).

`compare(db_path)` returns a `Report`: rows per mart on each side and every mismatch found.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

SEED = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "ai_usage_bands.csv"
REL_TOL = 1e-9
ABS_TOL = 1e-12
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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


def _week(us: int) -> date:
    d = (_EPOCH + timedelta(microseconds=us)).date()
    return d - timedelta(days=d.weekday())


def _hours(start_us: int | None, end_us: int | None) -> float | None:
    if start_us is None or end_us is None:
        return None
    return (end_us - start_us) / 3_600_000_000.0


def _div(n: float | None, d: float | None) -> float | None:
    if n is None or d is None or d == 0:
        return None
    return float(n) / float(d)


def _avg(values: Iterable[float | None]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return math.fsum(xs) / len(xs) if xs else None


def _pct(values: Iterable[float | None], p: float) -> float | None:
    xs = sorted(float(v) for v in values if v is not None)
    if not xs:
        return None
    pos = p * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


def _us(ns: int | None) -> int | None:
    return None if ns is None else ns // 1000


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _bands() -> list[tuple[str, float | None, float | None]]:
    with SEED.open() as fh:
        return [
            (
                r["ai_usage_band"],
                float(r["lower_bound"]) if r["lower_bound"] else None,
                float(r["upper_bound"]) if r["upper_bound"] else None,
            )
            for r in csv.DictReader(fh)
        ]


def _band(ratio: float | None, bands: list[tuple[str, float | None, float | None]]) -> str | None:
    if ratio is None:
        return None
    for name, lo, hi in bands:
        if (lo is None or ratio >= lo) and (hi is None or ratio < hi):
            return name
    return None


def expected_marts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[tuple, dict[str, Any]]]:
    """Every mart, keyed by its grain, recomputed from raw.* only."""
    commits = _fetch(
        con,
        'select "commitHash" as h, "userId" as dev, "userEmail" as email, '
        '"repoName" as repo, "totalLinesAdded" as added, "tabLinesAdded" as tab, '
        '"composerLinesAdded" as comp, epoch_ns("commitTs") as ts from raw.commits',
    )
    prs = _fetch(
        con,
        "select id, state, author_id, author_email, repo_name, additions, deletions, "
        "ai_ratio, reviewers, commit_ids, was_reverted, is_bug_fix, "
        "epoch_ns(created_at) as created, epoch_ns(merged_at) as merged "
        "from raw.pull_requests",
    )
    reviews = _fetch(
        con,
        "select id, pr_id, reviewer, state, epoch_ns(submitted_at) as submitted from raw.reviews",
    )
    bands = _bands()

    commit_ts = {c["h"]: _us(c["ts"]) for c in commits}
    reviews_by_pr: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in reviews:
        reviews_by_pr[r["pr_id"]].append(r)

    merged: list[dict[str, Any]] = []
    for pr in prs:
        if pr["state"].lower() != "merged" or pr["merged"] is None:
            continue
        created, merged_at = _us(pr["created"]), _us(pr["merged"])
        revs = reviews_by_pr.get(pr["id"], [])
        first_commit = min(
            (commit_ts[h] for h in set(pr["commit_ids"] or []) if h in commit_ts), default=None
        )
        first_review = min((_us(r["submitted"]) for r in revs), default=None)
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
        merged.append(
            {
                "week": _week(merged_at),
                "repo": pr["repo_name"],
                "author": pr["author_id"],
                "email": pr["author_email"] or None,
                "size": size,
                "ai_ratio": pr["ai_ratio"],
                "band": _band(pr["ai_ratio"], bands),
                "coding": _hours(first_commit, created),
                "pickup": _hours(created, first_review),
                "review_lead": _hours(first_review, merged_at),
                "cycle": _hours(created, merged_at),
                "reviews": len(revs),
                "changes": changes,
                "reviewer_count": reviewer_count,
                "iterations": 1 + changes if revs else 0,
                "reverted": bool(pr["was_reverted"]),
                "bug_fix": bool(pr["is_bug_fix"]),
            }
        )

    # velocity
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
        cgroups[(_week(_us(c["ts"])), c["repo"], c["dev"])].append(c)
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
            "ai_ratio": _div(ai, added) if cs else None,
            "prs_merged": len(ps),
            "avg_pr_size": _avg(p["size"] for p in ps),
            "avg_coding_lead_time_hours": _avg(p["coding"] for p in ps),
            "avg_pickup_time_hours": _avg(p["pickup"] for p in ps),
            "avg_review_lead_time_hours": _avg(p["review_lead"] for p in ps),
            "avg_total_cycle_time_hours": _avg(p["cycle"] for p in ps),
            "p50_total_cycle_time_hours": _pct((p["cycle"] for p in ps), 0.5),
        }

    by_week_repo: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    by_band: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for m in merged:
        by_week_repo[(m["week"], m["repo"])].append(m)
        by_band[(m["week"], m["repo"], m["band"])].append(m)

    review_costs, quality = {}, {}
    for key, ps in by_week_repo.items():
        n = len(ps)
        reviews_total = sum(p["reviews"] for p in ps)
        sizes = [p["size"] for p in ps if p["size"] is not None]
        review_costs[key] = {
            "prs_merged": n,
            "reviews": reviews_total,
            "reviews_per_pr": _div(reviews_total, n),
            "avg_reviewer_count": _avg(p["reviewer_count"] for p in ps),
            "avg_review_iterations": _avg(p["iterations"] for p in ps),
            "changes_requested_rate": _div(sum(p["changes"] for p in ps), reviews_total),
            "review_density": (
                None if not sizes or sum(sizes) == 0 else reviews_total / sum(sizes) * 100.0
            ),
            "avg_pickup_time_hours": _avg(p["pickup"] for p in ps),
            "p50_pickup_time_hours": _pct((p["pickup"] for p in ps), 0.5),
            "p90_pickup_time_hours": _pct((p["pickup"] for p in ps), 0.9),
            "avg_review_lead_time_hours": _avg(p["review_lead"] for p in ps),
        }
        reverted = sum(p["reverted"] for p in ps)
        bug = sum(p["bug_fix"] for p in ps)
        unreviewed = sum(1 for p in ps if p["reviews"] == 0)
        quality[key] = {
            "prs_merged": n,
            "reverted_prs": reverted,
            "revert_rate": reverted / n,
            "bug_fix_prs": bug,
            "bug_fix_rate": bug / n,
            "unreviewed_prs": unreviewed,
            "unreviewed_rate": unreviewed / n,
        }

    ai_impact = {}
    for key, ps in by_band.items():
        n = len(ps)
        ai_impact[key] = {
            "prs_merged": n,
            "avg_ai_ratio": _avg(p["ai_ratio"] for p in ps),
            "avg_pr_size": _avg(p["size"] for p in ps),
            "avg_total_cycle_time_hours": _avg(p["cycle"] for p in ps),
            "p50_total_cycle_time_hours": _pct((p["cycle"] for p in ps), 0.5),
            "avg_pickup_time_hours": _avg(p["pickup"] for p in ps),
            "avg_reviews_per_pr": _avg(p["reviews"] for p in ps),
            "revert_rate": sum(p["reverted"] for p in ps) / n,
            "bug_fix_rate": sum(p["bug_fix"] for p in ps) / n,
        }
    return {
        "velocity": velocity,
        "review_costs": review_costs,
        "quality": quality,
        "ai_impact": ai_impact,
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
            actual_rows = _fetch(con, f"select * from mart.{mart}")
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
