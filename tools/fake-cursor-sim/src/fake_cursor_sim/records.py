"""The records of a generation, each drawn from the shared random stream in the upstream's order: a commit,
its branch, the PR wrapping a group of commits, and the reviews of all PRs. Every dict is wire-exact."""

from __future__ import annotations

import random
from typing import Any

from fake_cursor_sim.people import Developer
from fake_cursor_sim.timefmt import DAY_NS, NS, Formatter
from fake_cursor_sim.vocab import BRANCH_PREFIXES, PLAIN_MESSAGES, REVIEW_BODIES, TEMPLATED_MESSAGES


def vary_precision(rng: random.Random, ns: int) -> int:
    """Most instants keep 9 digits; a few are rounded so the wire shows 0, 3 and 6 digit fractions too."""
    r = rng.random()
    if r < 0.94:
        return ns
    if r < 0.97:
        return ns - ns % 1000
    if r < 0.99:
        return ns - ns % 1_000_000
    return ns - ns % NS


def draw_commit(rng: random.Random, dev: Developer, ts: str, branch: str) -> dict[str, Any]:
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


def draw_branch(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "main"
    return f"{rng.choice(BRANCH_PREFIXES)}/task-{rng.randrange(1000)}"


def go_ratio(numerator: int, denominator: int) -> float | int:
    value = numerator / denominator if denominator else 0
    return int(value) if value == int(value) else value  # Go prints an integral float64 as 0 or 1


def draw_pull_request(
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
        "ai_ratio": go_ratio(tab + composer, additions),
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


def draw_reviews(
    rng: random.Random,
    prs: list[tuple[dict[str, Any], int, int]],
    reviewers: list[Developer],
    fmt: Formatter,
) -> list[dict[str, Any]]:
    """1-3 reviews per PR by distinct seed developers other than the author; ids follow a random PR
    order, as upstream. Non-approved reviews draw 0-5 comments and carry no `comments` key with none."""
    order = list(range(len(prs)))
    rng.shuffle(order)
    result: list[dict[str, Any]] = []
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
            submitted = vary_precision(rng, created + rng.randrange(end - created + 1))
            review: dict[str, Any] = {
                "id": len(result) + 1,
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
            result.append(review)
    return result
