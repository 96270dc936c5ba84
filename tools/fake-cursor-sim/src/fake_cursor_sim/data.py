"""Deterministic synthetic data with the upstream cursor-sim's shapes and quirks (contract sections 2.1-2.6).

`generate(developers, days, seed, now)` returns plain JSON-ready dicts exactly as the wire sends them. The
same arguments always give the same data; the upstream itself is seeded from the clock, so tests pin `now`.

Replication mode (`seed_developers` < `developers`, the upstream's own default deployment: 50 developers from
its 2-developer seed file, contract 4.7 and 10.2) adds clones of the seed developers: `user_001_clone3`,
`clone3_alice@example.com`, "Alice Developer (Clone 3)", on their original's team and repo. Clone-authored PRs
carry `author_email` and `author_name` as "", and only seed developers review. `tz` renders every timestamp
in that zone with its offset (DST included), as the upstream does when its host has `TZ` set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fake_cursor_sim.people import (
    Developer,
    clones,
    repo_count,
    repo_names,
    seed_people,
    team_names,
)
from fake_cursor_sim.records import (
    draw_branch,
    draw_commit,
    draw_pull_request,
    draw_reviews,
    vary_precision,
)
from fake_cursor_sim.timefmt import DAY_NS, Formatter, datetime_to_ns, formatter
from fake_cursor_sim.vocab import ACTIVITY, COMMITS_PER_DEV_PER_90_DAYS

__all__ = ["Dataset", "Developer", "generate", "rerandomised"]

# a PR with its created and review-window end instants (ns)
TimedPr = tuple[dict[str, Any], int, int]


@dataclass
class Dataset:
    """One generation. The lists hold wire-exact dicts; the `*_ns` lists are parallel integer timestamps."""

    developers: int
    days: int
    seed: int
    generated_at: datetime
    seed_developers: int
    tz: str | None
    commits: list[dict[str, Any]]
    pull_requests: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    repos: list[dict[str, Any]]
    members: list[dict[str, str]]
    people: list[Developer]  # seed developers first, then clones
    teams: list[str]
    issues: int
    commit_ts_ns: list[int] = field(repr=False, default_factory=list)
    pr_created_ns: list[int] = field(repr=False, default_factory=list)

    @property
    def regions(self) -> list[str]:
        return sorted({p.region for p in self.people})

    @property
    def seed_people(self) -> list[Developer]:
        return self.people[: self.seed_developers]


def generate(
    developers: int,
    days: int,
    seed: int,
    now: datetime | None = None,
    *,
    seed_developers: int | None = None,
    tz: str | None = None,
) -> Dataset:
    """A full generation: commits over `[now - days, now]`, their PRs, reviews, repos and members.

    `seed_developers` (default: all) is the size of the seed file; the rest are its clones."""
    seed_developers = developers if seed_developers is None else seed_developers
    if developers < 1 or days < 1 or not 1 <= seed_developers <= developers:
        raise ValueError("developers and days must be at least 1, seed developers 1..developers")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    fmt = formatter(tz)
    rng = random.Random(seed)
    n_repos = repo_count(seed_developers)
    repos, teams = repo_names(n_repos), team_names(n_repos)
    seeds = seed_people(rng, seed_developers, repos, teams)
    people = seeds + clones(seeds, developers)
    end_ns = datetime_to_ns(now)
    commits, prs = _draw_activity(rng, people, seed_developers, end_ns, days, fmt)
    _number_prs(rng, prs)
    reviews = draw_reviews(rng, prs, seeds, fmt)
    for pr, _, _ in prs:
        del pr["_author"]
    commits.sort(key=lambda item: (item[0], item[1]["commitHash"]))
    prs.sort(key=lambda item: item[0]["id"])
    return Dataset(
        developers=developers,
        days=days,
        seed=seed,
        generated_at=now,
        seed_developers=seed_developers,
        tz=tz,
        commits=[c for _, c in commits],
        pull_requests=[p for p, _, _ in prs],
        reviews=reviews,
        repos=_repo_rows(repos, [p for p, _, _ in prs]),
        members=[{"name": p.name, "email": p.email, "role": "member"} for p in people],
        people=people,
        teams=teams,
        # issues are not served; the upstream opens one for about 40% of merged PRs (contract 2.7)
        issues=round(0.4 * sum(pr["state"] == "merged" for pr, _, _ in prs)),
        commit_ts_ns=[ts for ts, _ in commits],
        pr_created_ns=[created for _, created, _ in prs],
    )


def _draw_activity(
    rng: random.Random,
    people: list[Developer],
    seed_developers: int,
    end_ns: int,
    days: int,
    fmt: Formatter,
) -> tuple[list[tuple[int, dict[str, Any]]], list[TimedPr]]:
    """Every developer's commits (with their instants) in the `days` before `end_ns`, grouped into PRs as they are drawn.
    A PR carries `_author`, the seed developer's index (or -1 for a clone), until reviews are drawn."""
    start_ns = end_ns - days * DAY_NS
    per_day = COMMITS_PER_DEV_PER_90_DAYS / 90
    multipliers = dict(ACTIVITY)
    hashes: set[str] = set()
    commits: list[tuple[int, dict[str, Any]]] = []
    prs: list[TimedPr] = []
    for dev_index, dev in enumerate(people):
        mean = per_day * days * multipliers[dev.activity]
        count = max(1, round(rng.gauss(mean, mean * 0.1)))
        stamps = sorted(vary_precision(rng, rng.randrange(start_ns, end_ns)) for _ in range(count))
        i = 0
        while i < count:
            r = rng.random()
            size = min(1 if r < 0.97 else 2 if r < 0.99 else 3, count - i)
            branch = draw_branch(rng)
            group = []
            for ts in stamps[i : i + size]:
                commit = draw_commit(rng, dev, fmt(ts), branch)
                commit["commitHash"] = _unique_hash(rng, hashes)
                group.append(commit)
                commits.append((ts, commit))
            pr, created, end = draw_pull_request(rng, dev, group, stamps[i : i + size], fmt)
            pr["_author"] = dev_index if dev_index < seed_developers else -1
            prs.append((pr, created, end))
            i += size
    return commits, prs


def _unique_hash(rng: random.Random, taken: set[str]) -> str:
    """A 12-hex-digit commit hash not in `taken` (which it joins)."""
    commit_hash = f"{rng.getrandbits(48):012x}"
    while commit_hash in taken:
        commit_hash = f"{rng.getrandbits(48):012x}"
    taken.add(commit_hash)
    return commit_hash


def _number_prs(rng: random.Random, prs: list[TimedPr]) -> None:
    """PR numbers are global and not chronological: assigned in a random order of the groups."""
    numbering = list(range(len(prs)))
    rng.shuffle(numbering)
    for number, index in enumerate(numbering, start=1):
        prs[index][0]["id"] = prs[index][0]["number"] = number


def _repo_rows(repos: list[str], prs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_repo: dict[str, list[dict[str, Any]]] = {}
    for pr in prs:
        by_repo.setdefault(pr["repo_name"], []).append(pr)
    return [
        {
            "full_name": name,
            "default_branch": "main",
            "open_pull_requests_count": sum(p["state"] == "open" for p in by_repo[name]),
            "total_pull_requests_count": len(by_repo[name]),
        }
        for name in repos
        if name in by_repo  # repos without PRs are not listed
    ]


def rerandomised(ds: Dataset, seed: int) -> Dataset:
    """The same shape and totals with new identities: new commit hashes and a new PR numbering, as a
    regenerate that happens to land on the old totals would give (what a run identity must still catch)."""
    rng = random.Random(seed)
    hashes: dict[str, str] = {}
    taken: set[str] = set()
    for commit in ds.commits:
        hashes[commit["commitHash"]] = _unique_hash(rng, taken)
    numbering = list(range(1, len(ds.pull_requests) + 1))
    rng.shuffle(numbering)
    renumber = {pr["id"]: n for pr, n in zip(ds.pull_requests, numbering, strict=True)}
    commits = [{**c, "commitHash": hashes[c["commitHash"]]} for c in ds.commits]
    prs = [
        (
            {
                **pr,
                "id": renumber[pr["id"]],
                "number": renumber[pr["id"]],
                "commit_ids": [hashes[h] for h in pr["commit_ids"]],
            },
            created,
        )
        for pr, created in zip(ds.pull_requests, ds.pr_created_ns, strict=True)
    ]
    prs.sort(key=lambda item: item[0]["id"])
    reviews = [
        {
            **r,
            "pr_id": renumber[r["pr_id"]],
            **(
                {"comments": [{**c, "pr_number": renumber[r["pr_id"]]} for c in r["comments"]]}
                if "comments" in r
                else {}
            ),
        }
        for r in ds.reviews
    ]
    return Dataset(
        **{
            **vars(ds),
            "seed": seed,
            "commits": commits,
            "pull_requests": [pr for pr, _ in prs],
            "pr_created_ns": [created for _, created in prs],
            "reviews": reviews,
        }
    )
