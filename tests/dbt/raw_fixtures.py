"""Raw-layer DuckDB files for the dbt tests, built exactly as the loader delivers them.

Each builder turns upstream wire-format records into the Arrow tables of `etl_common.schemas.raw_schema` (via
`etl_common.records.to_arrow`) and loads them as `raw.commits`, `raw.pull_requests`, `raw.reviews`,
`raw.repos`. Three sources of records:
- `sample_records()`: the recorded upstream responses in ../shared/contract-samples/ (partial: the PRs'
  commits and the reviews' PRs are mostly not in the sample, so relationships do not hold);
- `edge_records()`: a tiny hand-made dataset for the cases the marts must get right (nulls, negative coding
  lead time, Sunday/Monday and year boundaries, PRs without reviews, arrays null, empty and present);
- `generated_records(...)`: the cursor-sim double (`fake_cursor_sim.data.generate`), when it is importable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from etl_common.records import to_arrow
from etl_common.schemas import ENTITIES, NATURAL_KEYS

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTRACTED_AT_NS = 1_798_761_600_000_000_000  # 2027-01-01T00:00:00Z, a fixed lineage stamp

Records = dict[str, list[dict[str, Any]]]

_SAMPLE_FILES: dict[str, tuple[str, ...]] = {
    "commits": ("analytics_ai-code_commits.page1.json",),
    "pull_requests": (
        "analytics_github_prs.author_partition_200dev.json",
        "analytics_github_prs.page1.json",
        "repos_owner_repo_pulls.page1.json",
    ),
    "reviews": (
        "analytics_github_reviews.reviewer_partition_200dev.json",
        "analytics_github_reviews.page1.json",
    ),
    "repos": ("repos.json",),
}


def _unwrap(body: Any) -> list[dict[str, Any]]:
    """The records of any of the upstream's three response shapes (items / data wrappers, raw arrays)."""
    if isinstance(body, list):
        return body
    for key in ("items", "data"):
        if isinstance(body, dict) and isinstance(body.get(key), list):
            return body[key]
    raise ValueError(f"not a list response: {str(body)[:200]}")


def _dedupe(entity: str, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """First record per natural key wins, as the loader does (samples from two runs reuse ids)."""
    key = NATURAL_KEYS[entity]
    seen: dict[Any, dict[str, Any]] = {}
    for record in records:
        seen.setdefault(record[key], dict(record))
    return list(seen.values())


def sample_records(samples_dir: Path) -> Records:
    """The recorded upstream samples, de-duplicated per entity."""
    out: Records = {}
    for entity, files in _SAMPLE_FILES.items():
        rows: list[dict[str, Any]] = []
        for name in files:
            rows.extend(_unwrap(json.loads((samples_dir / name).read_text())))
        out[entity] = _dedupe(entity, rows)
    return out


def generate_available() -> bool:
    try:
        from fake_cursor_sim.data import generate  # noqa: F401
    except ImportError:
        return False
    return True


def generated_records(developers: int, days: int = 90, seed: int = 42) -> Records:
    """Records from the cursor-sim double; ImportError when it is not there yet."""
    from fake_cursor_sim.data import generate

    dataset = generate(developers, days, seed)
    return {entity: list(getattr(dataset, entity)) for entity in ENTITIES}


def _commit(
    hash_: str,
    user: str,
    email: str | None,
    repo: str,
    ts: str,
    added: int,
    tab: int | None,
    composer: int | None,
) -> dict[str, Any]:
    return {
        "commitHash": hash_,
        "userId": user,
        "userEmail": email,
        "userName": None if email is None else email.split("@")[0].title(),
        "repoName": repo,
        "branchName": "feature/x",
        "isPrimaryBranch": False,
        "totalLinesAdded": added,
        "totalLinesDeleted": 3,
        "tabLinesAdded": tab,
        "tabLinesDeleted": 1,
        "composerLinesAdded": composer,
        "composerLinesDeleted": 1,
        "nonAiLinesAdded": added - (tab or 0) - (composer or 0),
        "nonAiLinesDeleted": 1,
        "message": "feat: {{ feature_name }}",
        "commitTs": ts,
        "createdAt": ts,
    }


def _pr(
    id_: int,
    state: str,
    author: str,
    email: str,
    repo: str,
    created: str,
    *,
    merged: str | None = None,
    closed: str | None = None,
    commit_ids: list[str] | None = None,
    reviewers: list[str] | None = None,
    additions: int = 100,
    deletions: int = 20,
    ai_ratio: float | None = 0.5,
    reverted: bool = False,
    bug_fix: bool = False,
) -> dict[str, Any]:
    pr: dict[str, Any] = {
        "id": id_,
        "number": id_,
        "title": f"PR {id_}",
        "body": "Auto-generated PR from 1 commits",
        "state": state,
        "author_id": author,
        "author_email": email,
        "author_name": email,
        "repo_name": repo,
        "base_branch": "main",
        "head_branch": f"feature/{id_}",
        "reviewers": reviewers,
        "labels": None,
        "additions": additions,
        "deletions": deletions,
        "initial_additions": 0,
        "changed_files": 0,
        "commit_count": len(commit_ids) if commit_ids else 0,
        "ai_ratio": ai_ratio,
        "tab_lines": 10,
        "composer_lines": 5,
        "commit_ids": commit_ids,
        "created_at": created,
        "updated_at": created,
        "was_reverted": reverted,
        "is_bug_fix": bug_fix,
    }
    if merged is not None:
        pr["merged_at"] = merged
    if closed is not None:
        pr["closed_at"] = closed
    return pr


def _review(
    id_: int, pr_id: int, reviewer: str, state: str, ts: str, comments: int = 0
) -> dict[str, Any]:
    review: dict[str, Any] = {
        "id": id_,
        "pr_id": pr_id,
        "reviewer": reviewer,
        "state": state,
        "submitted_at": ts,
        "body": "LGTM!",
    }
    if comments:
        review["comments"] = [
            {
                "id": 7,
                "pr_number": pr_id,
                "repo_name": "acme/edge",
                "author_id": reviewer,
                "body": "nit",
                "state": "changes_requested",
                "created_at": ts,
            }
            for _ in range(comments)
        ]
    return review


def edge_records() -> Records:
    """Hand-made edge cases. 2027-01-03 is a Sunday, 2027-01-04 a Monday; the ISO week starting Monday
    2026-12-28 spans the year boundary."""
    a, b, c = "user_a", "user_b", "user_c"
    commits = [
        _commit(
            "c_sun", a, "alice@x.io", "acme/edge", "2027-01-03T23:59:59.999999999Z", 100, 30, 20
        ),
        _commit("c_mon", a, "alice@x.io", "acme/edge", "2027-01-04T00:00:00Z", 50, 50, 0),
        _commit("c_ny", b, "bob@x.io", "acme/edge", "2027-01-01T12:00:00.5Z", 40, None, 10),
        _commit("c_p2", b, "bob@x.io", "acme/edge", "2026-12-31T23:00:00.12345+01:00", 10, 0, 0),
        _commit("c_zero", b, "bob@x.io", "acme/side", "2027-01-06T09:00:00.000001Z", 0, None, None),
        _commit("c_c", c, None, "acme/side", "2026-12-31T08:15:30.123456Z", 80, 40, 8),
        _commit("c_lone", c, None, "acme/side", "2027-01-11T10:00:00Z", 5, 5, 0),
    ]
    prs = [
        # created 30 min before its first commit: negative coding lead time; reviewed twice
        _pr(
            1,
            "merged",
            a,
            "alice@x.io",
            "acme/edge",
            "2027-01-03T23:30:00Z",
            merged="2027-01-05T10:00:00.25Z",
            commit_ids=["c_sun"],
            ai_ratio=0.5,
        ),
        # two commits, no review, merged on a Sunday just before midnight
        _pr(
            2,
            "merged",
            b,
            "bob@x.io",
            "acme/edge",
            "2026-12-31T20:00:00Z",
            merged="2027-01-03T23:59:59.9999999Z",
            commit_ids=["c_ny", "c_p2"],
            ai_ratio=0.2999,
        ),
        # open, reviewers array present (3) although only one review exists
        _pr(
            3,
            "open",
            a,
            "alice@x.io",
            "acme/edge",
            "2027-01-04T01:00:00Z",
            commit_ids=["c_mon"],
            reviewers=["r1@x.io", "r2@x.io", "r3@x.io"],
        ),
        # closed, reviewers array present but empty: reviewer_count 0 even with a review
        _pr(
            4,
            "closed",
            b,
            "bob@x.io",
            "acme/edge",
            "2027-01-02T00:00:00Z",
            closed="2027-01-09T00:00:00Z",
            commit_ids=[],
            reviewers=[],
        ),
        # clone-style author without email, ai_ratio exactly on the high edge, reverted bug fix
        _pr(
            5,
            "merged",
            c,
            "",
            "acme/side",
            "2026-12-31T08:00:00Z",
            merged="2027-01-02T08:00:00Z",
            commit_ids=["c_c"],
            ai_ratio=0.6,
            reverted=True,
            bug_fix=True,
        ),
        # exactly on the medium edge, zero-size PR alone in its (week, repo): review_density null
        _pr(
            6,
            "merged",
            b,
            "bob@x.io",
            "acme/side",
            "2027-01-06T08:30:00Z",
            merged="2027-01-08T08:30:00Z",
            commit_ids=["c_zero"],
            additions=0,
            deletions=0,
            ai_ratio=0.3,
        ),
        # state merged but no merged_at: not a merged PR; commit_ids null
        _pr(7, "merged", a, "alice@x.io", "acme/edge", "2027-01-04T02:00:00Z", commit_ids=None),
        # null ai_ratio and null additions: no band, null pr_size
        _pr(
            8,
            "merged",
            a,
            "alice@x.io",
            "acme/edge",
            "2027-01-04T03:00:00Z",
            merged="2027-01-07T03:00:00Z",
            commit_ids=["c_lone"],
            ai_ratio=None,
        ),
    ]
    prs[-1]["additions"] = None
    reviews = [
        _review(1, 1, "bob@x.io", "changes_requested", "2027-01-04T05:00:00.123+05:00", comments=2),
        _review(2, 1, "carol@x.io", "approved", "2027-01-05T09:00:00Z"),
        _review(3, 1, "bob@x.io", "APPROVED", "2027-01-05T09:30:00Z"),
        _review(4, 3, "bob@x.io", "pending", "2027-01-05T00:00:00Z", comments=1),
        _review(5, 4, "alice@x.io", "approved", "2027-01-03T00:00:00Z"),
        _review(
            6, 5, "alice@x.io", "changes_requested", "2026-12-31T09:00:00.987654321Z", comments=5
        ),
        _review(7, 6, "alice@x.io", "approved", "2027-01-07T08:30:00Z"),
        _review(8, 8, "bob@x.io", "approved", "2027-01-04T03:00:00Z"),
    ]
    repos = [
        {
            "full_name": "acme/edge",
            "default_branch": "main",
            "open_pull_requests_count": 1,
            "total_pull_requests_count": 5,
        },
        {
            "full_name": "acme/side",
            "default_branch": "main",
            "open_pull_requests_count": 0,
            "total_pull_requests_count": 2,
        },
    ]
    return {"commits": commits, "pull_requests": prs, "reviews": reviews, "repos": repos}


def without_field(records: Records, entity: str, field: str) -> Records:
    """A copy of `records` in which no `entity` record carries `field`: an upstream that dropped the field
    (or renamed it: the loader keeps an unknown key in `_extra`, so the raw column is null either way)."""
    out = {name: [dict(r) for r in rows] for name, rows in records.items()}
    for record in out[entity]:
        record.pop(field, None)
    return out


def without_merged_prs(records: Records) -> Records:
    """A copy of `records` without the PRs in state `merged` and their reviews: a small dataset in which the
    marts built from merged PRs are legitimately empty."""
    prs = [dict(r) for r in records["pull_requests"] if r["state"] != "merged"]
    kept = {r["id"] for r in prs}
    return {
        **{name: [dict(r) for r in rows] for name, rows in records.items()},
        "pull_requests": prs,
        "reviews": [dict(r) for r in records["reviews"] if r["pr_id"] in kept],
    }


def build_raw_duckdb(path: Path, records: Records, load_id: str = "test-load") -> dict[str, int]:
    """Create (or replace) the raw schema in the DuckDB file at `path`; returns the row count per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists raw")
        for entity in ENTITIES:
            table = to_arrow(
                entity, records.get(entity, []), load_id=load_id, extracted_at_ns=EXTRACTED_AT_NS
            )
            con.register("arrow_table", table)
            con.execute(f"create or replace table raw.{entity} as select * from arrow_table")
            con.unregister("arrow_table")
            counts[entity] = table.num_rows
    finally:
        con.close()
    return counts


if (
    __name__ == "__main__"
):  # manual use: python -m tests.dbt.raw_fixtures samples|edge|gen:N OUT.duckdb
    import sys

    kind, out = sys.argv[1], Path(sys.argv[2])
    if kind == "samples":
        from ..samples import SAMPLES_DIR

        recs = sample_records(SAMPLES_DIR)
    elif kind == "edge":
        recs = edge_records()
    else:
        recs = generated_records(int(kind.split(":")[1]))
    print(build_raw_duckdb(out, recs))
