"""Hand-made edge records in the upstream's wire format: week and year boundaries, nanosecond and offset
timestamps, nulls and missing values, reviews in every state (see `edge_records`)."""

from __future__ import annotations

from typing import Any

from .raw_fixtures import Records


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
    return {
        "commits": _edge_commits(),
        "pull_requests": _edge_prs(),
        "reviews": _edge_reviews(),
        "repos": _edge_repos(),
    }


def _edge_commits() -> list[dict[str, Any]]:
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
    return commits


def _edge_prs() -> list[dict[str, Any]]:
    return [*_edge_prs_reviewed(), *_edge_prs_banded()]


def _edge_prs_reviewed() -> list[dict[str, Any]]:
    """Lead times and reviewer counts: negative coding time, no review, reviewers arrays."""
    a, b = "user_a", "user_b"
    return [
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
    ]


def _edge_prs_banded() -> list[dict[str, Any]]:
    """AI-usage band edges, sizes, a merged state without merged_at, nulls."""
    a, b, c = "user_a", "user_b", "user_c"
    prs = [
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
    return prs


def _edge_reviews() -> list[dict[str, Any]]:
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
    return reviews


def _edge_repos() -> list[dict[str, Any]]:
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
    return repos
