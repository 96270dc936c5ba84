"""A generation compiled for serving: every record serialised to JSON bytes once, plus the indexes the
endpoints need, so a response is a slice and a `b",".join(...)`."""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fake_cursor_sim.data import Dataset
from fake_cursor_sim.encoding import go_body, go_json
from fake_cursor_sim.people import Developer
from fake_cursor_sim.timefmt import DAY_NS, Formatter, Offset, formatter, zone_offset


@dataclass
class PullRequest:
    number: int
    repo: str
    state: str
    author_email: str
    head_branch: str
    created_ns: int
    created_at: str
    additions: int
    deletions: int
    body: bytes


@dataclass
class Store:
    developers: int
    days: int
    seed: int
    generated_at: datetime
    seed_developers: int  # what /admin/stats calls total_developers (the seed file's developers)
    tz: str | None
    fmt: Formatter  # timestamps in the server's zone
    offset: Offset  # that zone's offset at an instant (the server-local date of "today")
    people: list[Developer]  # the seed developers, which /admin/* describe
    teams: list[str]
    repo_names: list[str]
    totals: dict[str, int]
    data_size: str
    stats_extra: dict[str, Any]
    # commits, ascending commitTs
    commit_ts: list[int] = field(default_factory=list)
    commit_bytes: list[bytes] = field(default_factory=list)
    commits_by_user: dict[str, tuple[list[int], list[bytes]]] = field(default_factory=dict)
    commits_by_repo: dict[str, list[tuple[int, str, bytes]]] = field(default_factory=dict)
    commit_by_hash: dict[str, bytes] = field(default_factory=dict)
    # pull requests, ascending id
    prs: list[PullRequest] = field(default_factory=list)
    pr_by_number: dict[int, PullRequest] = field(default_factory=dict)
    prs_by_repo: dict[str, list[PullRequest]] = field(default_factory=dict)
    prs_by_author: dict[str, list[PullRequest]] = field(default_factory=dict)
    # reviews, ascending id
    review_bytes: list[bytes] = field(default_factory=list)
    reviews_by_pr: dict[int, list[bytes]] = field(default_factory=dict)
    reviews_by_reviewer: dict[str, list[bytes]] = field(default_factory=dict)
    repo_bytes: dict[str, bytes] = field(default_factory=dict)
    members_body: bytes = b""

    def commits_in(self, start_ns: int, end_ns: int) -> list[bytes]:
        """Commits with `start_ns <= commitTs <= end_ns`, ascending."""
        return self.commit_bytes[
            bisect_left(self.commit_ts, start_ns) : bisect_right(self.commit_ts, end_ns)
        ]


def compile_store(ds: Dataset) -> Store:
    store = Store(
        developers=ds.developers,
        days=ds.days,
        seed=ds.seed,
        generated_at=ds.generated_at,
        seed_developers=ds.seed_developers,
        tz=ds.tz,
        fmt=formatter(ds.tz),
        offset=zone_offset(ds.tz),
        people=ds.seed_people,
        teams=ds.teams,
        repo_names=[r["full_name"] for r in ds.repos],
        totals={
            "commits": len(ds.commits),
            "prs": len(ds.pull_requests),
            "reviews": len(ds.reviews),
            "issues": ds.issues,
        },
        data_size="",
        stats_extra=_stats_extra(ds),
    )
    size = _index_commits(store, ds) + _index_prs(store, ds) + _index_reviews(store, ds)
    store.repo_bytes = {r["full_name"]: go_json(r, floats=False) for r in ds.repos}
    store.members_body = go_body({"teamMembers": ds.members})
    store.data_size = _human_size(size)
    return store


def _index_commits(store: Store, ds: Dataset) -> int:
    """Serialise the commits into `store` and its commit indexes; returns the bytes serialised."""
    size = 0
    by_user: dict[str, tuple[list[int], list[bytes]]] = defaultdict(lambda: ([], []))
    by_repo: dict[str, list[tuple[str, int, str, bytes]]] = defaultdict(list)
    for ts, commit in zip(ds.commit_ts_ns, ds.commits, strict=True):
        raw = go_json(commit, floats=False)  # records carry Go-shaped numbers (records.go_ratio)
        size += len(raw)
        store.commit_ts.append(ts)
        store.commit_bytes.append(raw)
        stamps, rows = by_user[commit["userId"]]
        stamps.append(ts)
        rows.append(raw)
        by_repo[commit["repoName"]].append((commit["userId"], ts, commit["branchName"], raw))
        store.commit_by_hash[commit["commitHash"]] = raw
    store.commits_by_user = dict(by_user)
    # per-repo lists are in insertion order: grouped by developer, each chronological
    store.commits_by_repo = {
        repo: [
            (ts, branch, raw)
            for _, ts, branch, raw in sorted(rows, key=lambda row: (row[0], row[1]))
        ]
        for repo, rows in by_repo.items()
    }
    return size


def _index_prs(store: Store, ds: Dataset) -> int:
    size = 0
    for created_ns, pr in zip(ds.pr_created_ns, ds.pull_requests, strict=True):
        raw = go_json(pr, floats=False)
        size += len(raw)
        row = PullRequest(
            pr["number"],
            pr["repo_name"],
            pr["state"],
            pr["author_email"],
            pr["head_branch"],
            created_ns,
            pr["created_at"],
            pr["additions"],
            pr["deletions"],
            raw,
        )
        store.prs.append(row)
        store.pr_by_number[row.number] = row
        store.prs_by_repo.setdefault(row.repo, []).append(row)
        store.prs_by_author.setdefault(row.author_email, []).append(row)
    return size


def _index_reviews(store: Store, ds: Dataset) -> int:
    size = 0
    for review in ds.reviews:
        raw = go_json(review, floats=False)
        size += len(raw)
        store.review_bytes.append(raw)
        store.reviews_by_pr.setdefault(review["pr_id"], []).append(raw)
        store.reviews_by_reviewer.setdefault(review["reviewer"], []).append(raw)
    return size


def _human_size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _stats_extra(ds: Dataset) -> dict[str, Any]:
    """The descriptive parts of /admin/stats, computed from the generation."""
    per_dev = Counter(c["userId"] for c in ds.commits)
    sizes = [pr["additions"] + pr["deletions"] for pr in ds.pull_requests]
    cycle = [
        (_day(pr["merged_at"]) - _day(pr["created_at"]))
        for pr in ds.pull_requests
        if "merged_at" in pr
    ]
    comments = sum(len(r.get("comments", ())) for r in ds.reviews)
    return {
        "commits_std_dev": _std(list(per_dev.values())),
        "pr_size_std_dev": _std(sizes),
        "cycle_time_std_dev": _std(cycle),
        "avg_review_thoroughness": comments / max(1, len(ds.reviews)) / 10,
    }


def _day(text: str) -> float:
    return datetime.fromisoformat(text[:19]).timestamp() / (DAY_NS / 1e9)


def _std(values: list[float] | list[int]) -> float:
    return statistics.pstdev(values) if len(values) > 1 else 0
