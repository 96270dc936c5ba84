"""The GitHub-style tree under `/repos` (contract 2.2-2.5): raw arrays, `{"message":...}` errors, lenient
parameters, random order where the upstream iterates a Go map."""

from __future__ import annotations

import random
import zlib

from fake_cursor_sim.encoding import go_json, join_array
from fake_cursor_sim.params import calendar_day, go_atoi, lenient_int
from fake_cursor_sim.responses import Resp, gh_message, raw_json
from fake_cursor_sim.store import PullRequest, Store
from fake_cursor_sim.timefmt import DAY_NS, Formatter

_FILES = (
    "src/{}/handler.go",
    "lib/{}_handler.jsx",
    "app/{}/service.py",
    "pkg/{}/client.ts",
    "internal/{}/store.go",
)
_WORDS = ("pay", "user", "search", "auth", "cart", "report", "queue", "cache")


def repo_list(store: Store, rng: random.Random) -> Resp:
    rows = list(store.repo_bytes.values())
    rng.shuffle(rows)
    return raw_json(join_array(rows))


def route(store: Store, rest: str, q: dict[str, str], rng: random.Random, now_ns: int) -> Resp:
    """`rest` is the path after `/repos/`."""
    parts = rest.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return gh_message("route not found", 404)
    repo = f"{parts[0]}/{parts[1]}"
    tail = parts[2:]
    if tail in (["pulls", ""], [""]):  # a trailing slash answers like none (contract 10.3)
        tail = tail[:-1]
    if not tail:
        raw = store.repo_bytes.get(repo)
        return raw_json(raw) if raw is not None else gh_message("repository not found", 404)
    if tail == ["pulls"]:
        return _pulls(store, repo, q, rng)
    if tail[0] == "pulls" and len(tail) in (2, 3):
        number = go_atoi(tail[1])
        # 0 and non-numbers are a 400; a negative number parses and, like any unknown one, is not found
        if number is None or number == 0:
            return gh_message("invalid pull request number", 400)
        pr = store.pr_by_number.get(number)
        if pr is not None and pr.repo != repo:
            pr = None
        if len(tail) == 2:
            return raw_json(pr.body) if pr else gh_message("pull request not found", 404)
        if tail[2] == "reviews":
            return raw_json(join_array(store.reviews_by_pr.get(number, []) if pr else []))
        if tail[2] == "commits":
            if pr is None:
                return gh_message("pull request not found", 404)
            return raw_json(
                join_array(
                    [
                        raw
                        for _, branch, raw in store.commits_by_repo.get(repo, ())
                        if branch == pr.head_branch
                    ]
                )
            )
        if tail[2] == "files":
            return _files(pr, store.fmt) if pr else gh_message("pull request not found", 404)
    if tail == ["commits"]:
        return _repo_commits(store, repo, q, now_ns)
    if tail[0] == "commits" and len(tail) == 2:
        raw = store.commit_by_hash.get(tail[1])
        return raw_json(raw) if raw is not None else gh_message("commit not found", 404)
    return gh_message("route not found", 404)


def _pulls(store: Store, repo: str, q: dict[str, str], rng: random.Random) -> Resp:
    state = q.get("state", "")
    per_page = min(lenient_int(q.get("per_page", ""), 30), 100)
    page = lenient_int(q.get("page", ""), 1)
    rows = store.prs_by_repo.get(repo, [])
    if state not in ("", "all"):
        rows = [pr for pr in rows if pr.state == state]
    # a fresh random permutation per request (Go map iteration); one page of it is a random sample
    k = max(0, min(per_page, len(rows) - (page - 1) * per_page))
    return raw_json(join_array([pr.body for pr in rng.sample(rows, k)]))


def _files(pr: PullRequest, fmt: Formatter) -> Resp:
    seed = zlib.crc32(str(pr.number).encode())
    name = _FILES[seed % len(_FILES)].format(_WORDS[(seed >> 8) % len(_WORDS)])
    greenfield = (seed >> 16) % 2
    row = {
        "filename": name,
        "additions": pr.additions,
        "deletions": pr.deletions,
        "changes": pr.additions + pr.deletions,
        "greenfield_index": greenfield,
        "is_greenfield": bool(greenfield),
        "created_at": fmt(pr.created_ns - ((seed >> 20) % 30) * DAY_NS),
    }
    return raw_json(b"[" + go_json(row) + b"]")


def _repo_commits(store: Store, repo: str, q: dict[str, str], now_ns: int) -> Resp:
    """since/until take YYYY-MM-DD only (anything else is ignored); default: 30 days before now+24 h."""
    horizon = now_ns + DAY_NS
    since_day = calendar_day(q.get("since", ""))
    until_day = calendar_day(q.get("until", ""))
    start = since_day * DAY_NS if since_day is not None else horizon - 30 * DAY_NS
    end = (until_day + 1) * DAY_NS if until_day is not None else horizon
    per_page = min(lenient_int(q.get("per_page", ""), 30), 100)
    page = lenient_int(q.get("page", ""), 1)
    rows = [raw for ts, _, raw in store.commits_by_repo.get(repo, ()) if start <= ts < end]
    return raw_json(join_array(rows[(page - 1) * per_page : page * per_page]))
