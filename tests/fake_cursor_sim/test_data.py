"""Properties of `generate()`: the upstream's volumes, shapes and quirks (contract 2.1, 2.4, 2.6, 4.2-4.5)."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from etl_common.timestamps import format_rfc3339_ns
from fake_cursor_sim.data import Dataset, generate
from fake_cursor_sim.store import compile_store
from fake_cursor_sim.timefmt import fmt_ns

NOW = datetime(2026, 11, 30, 17, 25, 12, tzinfo=UTC)
TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,8}[1-9])?Z\Z")
COMMIT_KEYS = [
    "commitHash",
    "userId",
    "userEmail",
    "userName",
    "repoName",
    "branchName",
    "isPrimaryBranch",
    "totalLinesAdded",
    "totalLinesDeleted",
    "tabLinesAdded",
    "tabLinesDeleted",
    "composerLinesAdded",
    "composerLinesDeleted",
    "nonAiLinesAdded",
    "nonAiLinesDeleted",
    "message",
    "commitTs",
    "createdAt",
]
PR_KEYS = [
    "id",
    "number",
    "title",
    "body",
    "state",
    "author_id",
    "author_email",
    "author_name",
    "repo_name",
    "base_branch",
    "head_branch",
    "reviewers",
    "labels",
    "additions",
    "deletions",
    "initial_additions",
    "changed_files",
    "commit_count",
    "ai_ratio",
    "tab_lines",
    "composer_lines",
    "commit_ids",
    "created_at",
    "updated_at",
    "was_reverted",
    "is_bug_fix",
]


def ns(text: str) -> int:
    seconds = int(datetime.fromisoformat(text[:19] + "+00:00").timestamp())
    frac = text[20:-1] if len(text) > 20 else ""
    return seconds * 10**9 + int(frac.ljust(9, "0") or 0)


@pytest.fixture(scope="module")
def small() -> Dataset:
    return generate(2, 90, 42, NOW)


@pytest.fixture(scope="module")
def big() -> Dataset:
    return generate(50, 90, 42, NOW)


def test_same_arguments_same_data_and_another_seed_other_data() -> None:
    a, b, c = generate(3, 30, 7, NOW), generate(3, 30, 7, NOW), generate(3, 30, 8, NOW)
    assert (a.commits, a.pull_requests, a.reviews, a.repos) == (
        b.commits,
        b.pull_requests,
        b.reviews,
        b.repos,
    )
    assert {x["commitHash"] for x in a.commits}.isdisjoint(x["commitHash"] for x in c.commits)


def test_volumes_per_developer_and_linear_in_days(big: Dataset) -> None:
    assert 140 <= len(big.commits) / 50 <= 180
    assert 140 <= len(big.pull_requests) / 50 <= 180
    assert 1.8 <= len(big.reviews) / len(big.pull_requests) <= 2.2
    half = generate(50, 45, 42, NOW)
    assert 0.4 <= len(half.commits) / len(big.commits) <= 0.6


def test_commits_have_the_18_wire_keys_and_consistent_line_counts(big: Dataset) -> None:
    hashes = [c["commitHash"] for c in big.commits]
    assert len(set(hashes)) == len(hashes)
    for c in big.commits:
        assert list(c) == COMMIT_KEYS
        assert re.fullmatch(r"[0-9a-f]{12}", c["commitHash"])
        assert c["commitTs"] == c["createdAt"]
        assert (
            c["tabLinesAdded"] + c["composerLinesAdded"] + c["nonAiLinesAdded"]
            == c["totalLinesAdded"]
        )
        assert (
            c["tabLinesDeleted"] + c["composerLinesDeleted"] + c["nonAiLinesDeleted"]
            == c["totalLinesDeleted"]
        )
        assert c["nonAiLinesDeleted"] == 1 and c["totalLinesAdded"] >= 1
        assert c["branchName"] == "main" or re.fullmatch(
            r"(feature|bugfix|refactor|chore)/task-\d{1,3}", c["branchName"]
        )
    n = len(big.commits)
    assert 0.25 < sum(c["branchName"] == "main" for c in big.commits) / n < 0.35
    assert 0.7 < sum("{{" in c["message"] for c in big.commits) / n < 0.8
    on_main = [c["isPrimaryBranch"] for c in big.commits if c["branchName"] == "main"]
    assert 0.4 < sum(on_main) / len(on_main) < 0.6  # random, independent of the branch


def test_timestamps_are_rfc3339_z_with_trimmed_fractions_of_every_width(big: Dataset) -> None:
    stamps = [c["commitTs"] for c in big.commits] + [r["submitted_at"] for r in big.reviews]
    stamps += [p["created_at"] for p in big.pull_requests]
    widths = Counter(len(t) - 21 if "." in t else 0 for t in stamps)
    assert all(TS.match(t) for t in stamps)
    assert widths[9] > 0.8 * len(stamps)
    assert widths[0] > 0 and widths[3] > 0 and widths[6] > 0 and widths[8] > 0
    start, end = ns(fmt_ns(0)) + (NOW - timedelta(days=90)).timestamp() * 1e9, NOW.timestamp() * 1e9
    commit_ns = [ns(c["commitTs"]) for c in big.commits]
    assert commit_ns == sorted(commit_ns) and start <= commit_ns[0] and commit_ns[-1] <= end


def test_fast_formatter_matches_the_shared_one() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        value = rng.randrange(0, 4 * 10**18)
        value -= value % rng.choice([1, 1000, 10**6, 10**9])
        assert fmt_ns(value) == format_rfc3339_ns(value)


def test_pull_requests_keep_the_upstream_quirks(big: Dataset) -> None:
    commits = {c["commitHash"]: c for c in big.commits}
    owner = Counter(h for pr in big.pull_requests for h in pr["commit_ids"])
    # every commit is in exactly one PR
    assert set(owner) == set(commits) and set(owner.values()) == {1}
    assert [pr["id"] for pr in big.pull_requests] == list(range(1, len(big.pull_requests) + 1))
    created = [ns(pr["created_at"]) for pr in big.pull_requests]
    assert created != sorted(created)  # numbers are not chronological
    now_ns = NOW.timestamp() * 1e9
    sizes, states, future = Counter(), Counter(), 0
    for pr in big.pull_requests:
        group = [commits[h] for h in pr["commit_ids"]]
        expected_keys = [
            *PR_KEYS[:24],
            *{"merged": ["merged_at"], "closed": ["closed_at"]}.get(pr["state"], []),
            *PR_KEYS[24:],
        ]
        assert list(pr) == expected_keys
        assert pr["id"] == pr["number"] and pr["reviewers"] is None and pr["labels"] is None
        assert (
            pr["initial_additions"],
            pr["changed_files"],
            pr["was_reverted"],
            pr["is_bug_fix"],
        ) == (0, 0, False, False)
        assert pr["commit_count"] == len(group) and pr["title"] == group[0]["message"]
        assert pr["body"] == f"Auto-generated PR from {len(group)} commits"
        assert pr["head_branch"] == group[0]["branchName"] and pr["base_branch"] == "main"
        assert {(c["userId"], c["repoName"]) for c in group} == {(pr["author_id"], pr["repo_name"])}
        assert pr["additions"] == sum(c["totalLinesAdded"] for c in group)
        assert pr["deletions"] == sum(c["totalLinesDeleted"] for c in group)
        assert pr["tab_lines"] == sum(c["tabLinesAdded"] for c in group)
        assert pr["ai_ratio"] == (pr["tab_lines"] + pr["composer_lines"]) / pr["additions"]
        lead = ns(group[0]["commitTs"]) - ns(pr["created_at"])
        assert lead % (60 * 10**9) == 0 and 0 <= lead // (60 * 10**9) <= 59
        assert pr["updated_at"] == group[-1]["commitTs"]
        end = pr.get("merged_at") or pr.get("closed_at")
        if end:
            days, rest = divmod(ns(end) - ns(pr["created_at"]), 86_400 * 10**9)
            assert rest == 0 and 1 <= days <= (7 if pr["state"] == "merged" else 14)
            future += ns(end) > now_ns
        sizes[len(group)] += 1
        states[pr["state"]] += 1
    n = len(big.pull_requests)
    assert sizes[1] > 0.9 * n and sizes[2] + sizes[3] > 0
    assert 0.82 < states["merged"] / n < 0.88 and 0.08 < states["closed"] / n < 0.12
    assert 0.03 < states["open"] / n < 0.07 and future > 0


def test_reviews_are_by_other_developers_inside_the_pr_window(big: Dataset) -> None:
    prs = {pr["id"]: pr for pr in big.pull_requests}
    emails = {m["email"] for m in big.members}
    assert [r["id"] for r in big.reviews] == list(range(1, len(big.reviews) + 1))
    by_pr: dict[int, list[str]] = {}
    states = Counter()
    without_comments = 0
    for r in big.reviews:
        pr = prs[r["pr_id"]]
        assert r["reviewer"] in emails and r["reviewer"] != pr["author_email"]
        by_pr.setdefault(r["pr_id"], []).append(r["reviewer"])
        start = ns(pr["created_at"])
        end = ns(pr.get("merged_at") or pr.get("closed_at") or fmt_ns(start + 7 * 86_400 * 10**9))
        assert start <= ns(r["submitted_at"]) <= end
        states[r["state"]] += 1
        if r["state"] == "approved":
            assert list(r) == ["id", "pr_id", "reviewer", "state", "submitted_at", "body"]
        else:
            # the key is missing (not []) when the 0-5 draw gave none (contract 2.4)
            without_comments += "comments" not in r
            assert "comments" not in r or 1 <= len(r["comments"]) <= 5
            for i, comment in enumerate(r.get("comments", [])):
                assert list(comment) == [
                    "id",
                    "pr_number",
                    "repo_name",
                    "author_id",
                    "body",
                    "state",
                    "created_at",
                ]
                assert (
                    comment["pr_number"],
                    comment["repo_name"],
                    comment["author_id"],
                    comment["state"],
                ) == (pr["number"], pr["repo_name"], r["reviewer"], "changes_requested")
                assert ns(comment["created_at"]) - ns(r["submitted_at"]) == i * 60 * 10**9
    non_approved = sum(n for state, n in states.items() if state != "approved")
    assert 0.10 < without_comments / non_approved < 0.23  # about 16% upstream
    assert set(by_pr) == set(prs)  # every PR has a review when there are 2+ developers
    assert all(1 <= len(v) <= 3 and len(set(v)) == len(v) for v in by_pr.values())
    n = len(big.reviews)
    assert 0.66 < states["approved"] / n < 0.74 and 0.17 < states["changes_requested"] / n < 0.23


def test_two_developers_have_one_review_per_pr_by_the_other(small: Dataset) -> None:
    assert len(small.reviews) == len(small.pull_requests)
    assert [m["email"] for m in small.members] == ["alice@example.com", "bob@example.com"]


def test_repos_members_and_the_team_to_repo_mapping(small: Dataset, big: Dataset) -> None:
    for ds, repos in ((small, 2), (big, 13), (generate(1, 10, 1, NOW), 1)):
        assert len(ds.repos) == repos
        per_dev = {}
        for c in ds.commits:
            per_dev.setdefault(c["userId"], set()).add(c["repoName"])
        assert all(len(v) == 1 for v in per_dev.values())
        for repo in ds.repos:
            mine = [p for p in ds.pull_requests if p["repo_name"] == repo["full_name"]]
            assert repo == {
                "full_name": repo["full_name"],
                "default_branch": "main",
                "open_pull_requests_count": sum(p["state"] == "open" for p in mine),
                "total_pull_requests_count": len(mine),
            }
    assert [p.user_id for p in big.people[:2]] == ["user_001", "user_002"]
    assert len({m["email"] for m in big.members}) == 50
    assert all(list(m) == ["name", "email", "role"] and m["role"] == "member" for m in big.members)
    assert small.repos[0]["full_name"] == "acme-corp/payment-service"


def test_two_hundred_developers_generate_and_compile() -> None:
    """Start-up time is measured by bench/bench_double.py, not asserted here."""
    store = compile_store(generate(200, 90, 42, NOW))
    assert store.totals["commits"] > 28_000
