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

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fake_cursor_sim.timefmt import DAY_NS, NS, Formatter, datetime_to_ns, formatter

OWNER = "acme-corp"
REPO_NAMES = (
    "payment-service",
    "web-app",
    "backend-service",
    "search-service",
    "mobile-app",
    "data-pipeline",
    "auth-service",
    "notification-service",
    "analytics-dashboard",
    "api-gateway",
    "billing-service",
    "inventory-service",
)
TEAMS = (
    "Backend",
    "Frontend",
    "Platform",
    "Data",
    "Mobile",
    "Infra",
    "Payments",
    "Search",
    "Growth",
    "Security",
    "Identity",
    "Billing",
)
FIRST_NAMES = (
    "Alice",
    "Bob",
    "Carol",
    "Dave",
    "Erin",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "Mallory",
    "Niaj",
    "Olivia",
    "Peggy",
    "Rupert",
    "Sybil",
    "Trent",
    "Uma",
    "Victor",
    "Zoë",
)
SENIORITIES = ("junior", "mid", "senior")
REGIONS = ("US", "EU", "APAC")
ACTIVITY = (("low", 0.75), ("medium", 1.0), ("high", 1.25))
BRANCH_PREFIXES = ("feature", "bugfix", "refactor", "chore")
TEMPLATED_MESSAGES = (
    "feat({{ component }}): implement {{ feature_name }}",
    "feat: add {{ feature_name }}",
    "fix({{ component }}): fix {{ issue }}",
    "fix: resolve {{ issue }}",
    "refactor({{ component }}): restructure code",
    "docs({{ component }}): document {{ feature_name }}",
)
PLAIN_MESSAGES = (
    "chore: update dependencies",
    "chore: maintenance tasks",
    "test: add unit tests",
    "ci: update pipeline",
)
REVIEW_BODIES = (
    "LGTM!",
    "Looks good to me",
    "Great work!",
    "What happens if X is null?",
    "Is this edge case handled?",
    "Consider renaming this variable",
    "Could we use a helper here?",
    "Could we extract this function?",
    "Consider using const here",
)
COMMITS_PER_DEV_PER_90_DAYS = 160


@dataclass
class Developer:
    user_id: str
    name: str
    email: str
    team: str
    repo: str
    seniority: str
    region: str
    activity: str
    ai_level: float
    clone_of: str | None = None  # the seed developer's user id, for a replicated clone


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


def _vary_precision(rng: random.Random, ns: int) -> int:
    """Most instants keep 9 digits; a few are rounded so the wire shows 0, 3 and 6 digit fractions too."""
    r = rng.random()
    if r < 0.94:
        return ns
    if r < 0.97:
        return ns - ns % 1000
    if r < 0.99:
        return ns - ns % 1_000_000
    return ns - ns % NS


def _repo_count(developers: int) -> int:
    if developers < 2:
        return 1
    return min(max(2, math.ceil(developers / 4)), 32)


def _people(
    rng: random.Random, developers: int, repos: list[str], teams: list[str]
) -> list[Developer]:
    width = max(3, len(str(developers)))
    people = []
    for i in range(developers):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        slug = first.lower().replace("ë", "e")
        suffix = "" if i < len(FIRST_NAMES) else str(i + 1)
        activity, _ = ACTIVITY[rng.randrange(3)]
        people.append(
            Developer(
                user_id=f"user_{i + 1:0{width}d}",
                name=f"{first} Developer{' ' + suffix if suffix else ''}",
                email=f"{slug}{suffix}@example.com",
                team=teams[i % len(teams)],
                repo=repos[i % len(repos)],
                seniority=rng.choice(SENIORITIES),
                region=rng.choice(REGIONS),
                activity=activity,
                ai_level=rng.uniform(0.45, 0.9),
            )
        )
    return people


def _clones(seeds: list[Developer], developers: int) -> list[Developer]:
    """Developers `len(seeds)`.. `developers - 1` as clones: clone k of seed i is developer k*K + i."""
    k = len(seeds)
    clones = []
    for j in range(k, developers):
        orig, n = seeds[j % k], j // k
        clones.append(
            Developer(
                user_id=f"{orig.user_id}_clone{n}",
                name=f"{orig.name} (Clone {n})",
                email=f"clone{n}_{orig.email}",
                team=orig.team,
                repo=orig.repo,
                seniority=orig.seniority,
                region=orig.region,
                activity=orig.activity,
                ai_level=orig.ai_level,
                clone_of=orig.user_id,
            )
        )
    return clones


def _commit(rng: random.Random, dev: Developer, ts: str, branch: str) -> dict[str, Any]:
    added = max(10, int(rng.lognormvariate(5.1, 0.65)))
    deleted = max(1, int(added * rng.uniform(0.08, 0.3)))
    ai_added = int(added * dev.ai_level)
    tab = int(ai_added * rng.uniform(0.6, 0.75))
    tab_del = int((deleted - 1) * rng.uniform(0.6, 0.8))
    templated = rng.random() < 0.75
    message = rng.choice(TEMPLATED_MESSAGES if templated else PLAIN_MESSAGES)
    return {
        "commitHash": "",
        "userId": dev.user_id,
        "userEmail": dev.email,
        "userName": dev.name,
        "repoName": dev.repo,
        "branchName": branch,
        "isPrimaryBranch": rng.random() < 0.5,
        "totalLinesAdded": added,
        "totalLinesDeleted": deleted,
        "tabLinesAdded": tab,
        "tabLinesDeleted": tab_del,
        "composerLinesAdded": ai_added - tab,
        "composerLinesDeleted": deleted - 1 - tab_del,
        "nonAiLinesAdded": added - ai_added,
        "nonAiLinesDeleted": 1,
        "message": message,
        "commitTs": ts,
        "createdAt": ts,
    }


def _branch(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "main"
    return f"{rng.choice(BRANCH_PREFIXES)}/task-{rng.randrange(1000)}"


def _ratio(numerator: int, denominator: int) -> float | int:
    value = numerator / denominator if denominator else 0
    return int(value) if value == int(value) else value  # Go prints an integral float64 as 0 or 1


def _pull_request(
    rng: random.Random,
    dev: Developer,
    group: list[dict[str, Any]],
    stamps: list[int],
    fmt: Formatter,
) -> tuple[dict[str, Any], int, int]:
    """The PR wrapping `group`; also its created and review-window end instants (ns)."""
    created = stamps[0] - rng.randrange(60) * 60 * NS
    additions = sum(c["totalLinesAdded"] for c in group)
    tab = sum(c["tabLinesAdded"] for c in group)
    composer = sum(c["composerLinesAdded"] for c in group)
    r = rng.random()
    state = "merged" if r < 0.85 else "closed" if r < 0.95 else "open"
    pr: dict[str, Any] = {
        "id": 0,
        "number": 0,
        "title": group[0]["message"],
        "body": f"Auto-generated PR from {len(group)} commits",
        "state": state,
        "author_id": dev.user_id,
        # the upstream leaves a clone's email and name empty on its PRs (contract 4.7)
        "author_email": "" if dev.clone_of else dev.email,
        "author_name": "" if dev.clone_of else dev.name,
        "repo_name": dev.repo,
        "base_branch": "main",
        "head_branch": group[0]["branchName"],
        "reviewers": None,
        "labels": None,
        "additions": additions,
        "deletions": sum(c["totalLinesDeleted"] for c in group),
        "initial_additions": 0,
        "changed_files": 0,
        "commit_count": len(group),
        "ai_ratio": _ratio(tab + composer, additions),
        "tab_lines": tab,
        "composer_lines": composer,
        "commit_ids": [c["commitHash"] for c in group],
        "created_at": fmt(created),
        "updated_at": group[-1]["commitTs"],
    }
    end = created + 7 * DAY_NS
    if state == "merged":
        end = created + rng.randint(1, 7) * DAY_NS
        pr["merged_at"] = fmt(end)
    elif state == "closed":
        end = created + rng.randint(1, 14) * DAY_NS
        pr["closed_at"] = fmt(end)
    pr["was_reverted"] = False
    pr["is_bug_fix"] = False
    return pr, created, end


def _reviews(
    rng: random.Random,
    prs: list[tuple[dict[str, Any], int, int]],
    reviewers: list[Developer],
    fmt: Formatter,
) -> list[dict[str, Any]]:
    """1-3 reviews per PR by distinct seed developers other than the author; ids follow a random PR
    order, as upstream. Non-approved reviews draw 0-5 comments and carry no `comments` key with none."""
    order = list(range(len(prs)))
    rng.shuffle(order)
    reviews: list[dict[str, Any]] = []
    for index in order:
        pr, created, end = prs[index]
        author = pr["_author"]  # an index into `reviewers` for a seed author, else -1
        others = len(reviewers) - (author >= 0)
        if others < 1:
            continue
        for pick in rng.sample(range(others), min(rng.randint(1, 3), others)):
            reviewer = reviewers[pick + 1 if 0 <= author <= pick else pick].email
            r = rng.random()
            state = "approved" if r < 0.7 else "changes_requested" if r < 0.9 else "pending"
            submitted = _vary_precision(rng, created + rng.randrange(end - created + 1))
            review: dict[str, Any] = {
                "id": len(reviews) + 1,
                "pr_id": pr["id"],
                "reviewer": reviewer,
                "state": state,
                "submitted_at": fmt(submitted),
                "body": rng.choice(REVIEW_BODIES),
            }
            comments = 0 if state == "approved" else rng.randint(0, 5)
            if comments:
                review["comments"] = [
                    {
                        "id": rng.randrange(1_000_000),
                        "pr_number": pr["number"],
                        "repo_name": pr["repo_name"],
                        "author_id": reviewer,
                        "body": rng.choice(REVIEW_BODIES),
                        "state": "changes_requested",
                        "created_at": fmt(submitted + i * 60 * NS),
                    }
                    for i in range(comments)
                ]
            reviews.append(review)
    return reviews


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
    n_repos = _repo_count(seed_developers)
    repos = [
        f"{OWNER}/{REPO_NAMES[i % len(REPO_NAMES)]}"
        + (f"-{i // len(REPO_NAMES) + 1}" if i >= len(REPO_NAMES) else "")
        for i in range(n_repos)
    ]
    teams = [
        TEAMS[i % len(TEAMS)] + (f" {i // len(TEAMS) + 1}" if i >= len(TEAMS) else "")
        for i in range(n_repos)
    ]
    seeds = _people(rng, seed_developers, repos, teams)
    people = seeds + _clones(seeds, developers)
    end_ns = datetime_to_ns(now)
    start_ns = end_ns - days * DAY_NS
    per_day = COMMITS_PER_DEV_PER_90_DAYS / 90
    multipliers = dict(ACTIVITY)

    hashes: set[str] = set()
    commits: list[tuple[int, dict[str, Any]]] = []
    prs: list[tuple[dict[str, Any], int, int]] = []
    for dev_index, dev in enumerate(people):
        mean = per_day * days * multipliers[dev.activity]
        count = max(1, round(rng.gauss(mean, mean * 0.1)))
        stamps = sorted(_vary_precision(rng, rng.randrange(start_ns, end_ns)) for _ in range(count))
        i = 0
        while i < count:
            r = rng.random()
            size = min(1 if r < 0.97 else 2 if r < 0.99 else 3, count - i)
            branch = _branch(rng)
            group = []
            for ts in stamps[i : i + size]:
                commit = _commit(rng, dev, fmt(ts), branch)
                commit_hash = f"{rng.getrandbits(48):012x}"
                while commit_hash in hashes:
                    commit_hash = f"{rng.getrandbits(48):012x}"
                hashes.add(commit_hash)
                commit["commitHash"] = commit_hash
                group.append(commit)
                commits.append((ts, commit))
            pr, created, end = _pull_request(rng, dev, group, stamps[i : i + size], fmt)
            pr["_author"] = dev_index if dev_index < seed_developers else -1
            prs.append((pr, created, end))
            i += size

    # PR numbers are global and not chronological: assigned in a random order of the groups.
    numbering = list(range(len(prs)))
    rng.shuffle(numbering)
    for number, index in enumerate(numbering, start=1):
        prs[index][0]["id"] = prs[index][0]["number"] = number
    reviews = _reviews(rng, prs, seeds, fmt)
    for pr, _, _ in prs:
        del pr["_author"]

    commits.sort(key=lambda item: (item[0], item[1]["commitHash"]))
    prs.sort(key=lambda item: item[0]["id"])
    by_repo: dict[str, list[dict[str, Any]]] = {}
    for pr, _, _ in prs:
        by_repo.setdefault(pr["repo_name"], []).append(pr)
    repo_rows = [
        {
            "full_name": name,
            "default_branch": "main",
            "open_pull_requests_count": sum(p["state"] == "open" for p in by_repo[name]),
            "total_pull_requests_count": len(by_repo[name]),
        }
        for name in repos
        if name in by_repo  # repos without PRs are not listed
    ]
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
        repos=repo_rows,
        members=[{"name": p.name, "email": p.email, "role": "member"} for p in people],
        people=people,
        teams=teams,
        # issues are not served; the upstream opens one for about 40% of merged PRs (contract 2.7)
        issues=round(0.4 * sum(pr["state"] == "merged" for pr, _, _ in prs)),
        commit_ts_ns=[ts for ts, _ in commits],
        pr_created_ns=[created for _, created, _ in prs],
    )


def rerandomised(ds: Dataset, seed: int) -> Dataset:
    """The same shape and totals with new identities: new commit hashes and a new PR numbering, as a
    regenerate that happens to land on the old totals would give (what a run identity must still catch)."""
    rng = random.Random(seed)
    hashes: dict[str, str] = {}
    taken: set[str] = set()
    for commit in ds.commits:
        new = f"{rng.getrandbits(48):012x}"
        while new in taken:
            new = f"{rng.getrandbits(48):012x}"
        taken.add(new)
        hashes[commit["commitHash"]] = new
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
