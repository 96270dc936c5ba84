"""Who works in a generation: its repos and teams, the seed developers and, in replication mode, their
clones (contract 4.7 and 10.2)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from fake_cursor_sim.vocab import (
    ACTIVITY,
    FIRST_NAMES,
    OWNER,
    REGIONS,
    REPO_NAMES,
    SENIORITIES,
    TEAMS,
)


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


def repo_count(developers: int) -> int:
    if developers < 2:
        return 1
    return min(max(2, math.ceil(developers / 4)), 32)


def repo_names(count: int) -> list[str]:
    """`acme-corp/<name>`, with a `-2`, `-3`, ... suffix once the names run out."""
    return [
        f"{OWNER}/{REPO_NAMES[i % len(REPO_NAMES)]}"
        + (f"-{i // len(REPO_NAMES) + 1}" if i >= len(REPO_NAMES) else "")
        for i in range(count)
    ]


def team_names(count: int) -> list[str]:
    return [
        TEAMS[i % len(TEAMS)] + (f" {i // len(TEAMS) + 1}" if i >= len(TEAMS) else "")
        for i in range(count)
    ]


def seed_people(
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


def clones(seeds: list[Developer], developers: int) -> list[Developer]:
    """Developers `len(seeds)`.. `developers - 1` as clones: clone k of seed i is developer k*K + i."""
    k = len(seeds)
    result = []
    for j in range(k, developers):
        orig, n = seeds[j % k], j // k
        result.append(
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
    return result
