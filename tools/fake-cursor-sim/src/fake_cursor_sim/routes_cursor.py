"""`/analytics/ai-code/commits`, `/analytics/github/{prs,reviews}`, `/teams/members` (contract 2.1, 2.5)."""

from __future__ import annotations

import random

from fake_cursor_sim.encoding import join_array
from fake_cursor_sim.params import calendar_day, commits_day, first, go_atoi
from fake_cursor_sim.responses import Resp, error, json_resp, raw_json
from fake_cursor_sim.store import PullRequest, Store
from fake_cursor_sim.timefmt import DAY_NS, NS, local_day

_BAD_DATE = "invalid {}: must be YYYY-MM-DD, ISO 8601, or relative format (7d, 30d, now, today)"


def commits(store: Store, q: dict[str, str], now_ns: int) -> Resp:
    page, page_size = 1, 100
    if q.get("page"):
        page = go_atoi(q["page"]) or 0
        if page < 1:
            return error("invalid page: must be >= 1", 400)
    if q.get("pageSize"):
        page_size = go_atoi(q["pageSize"]) or 0
        if page_size < 1:
            return error("invalid pageSize: must be >= 1", 400)
        if page_size > 1000:
            return error("invalid pageSize: must be <= 1000", 400)
    # the server-local date, read as a UTC date (contract 2.1, 3): with a zone behind UTC, late in the UTC
    # day "today" is still the day before
    today = local_day(now_ns, store.offset)
    start_day, end_day = today - 30, today
    for name, alias in (("startDate", "from"), ("endDate", "to")):
        text = first(q, name, alias)
        if text:
            day = commits_day(text, today)
            if day is None:
                return error(_BAD_DATE.format(name), 400)
            if name == "startDate":
                start_day = day
            else:
                end_day = day
    start_ns = start_day * DAY_NS
    end_ns = end_day * DAY_NS + 86_399 * NS  # inclusive only up to 23:59:59.000
    user = first(q, "user", "users", "userId")
    repo = q.get("repoName", "")
    if user:
        stamps, rows = store.commits_by_user.get(user, ([], []))
        matches = [raw for ts, raw in zip(stamps, rows, strict=True) if start_ns <= ts <= end_ns]
    elif repo:
        matches = [
            raw for ts, _, raw in store.commits_by_repo.get(repo, ()) if start_ns <= ts <= end_ns
        ]
    else:
        matches = store.commits_in(start_ns, end_ns)
    items = matches[(page - 1) * page_size : page * page_size]
    body = (
        b'{"items":'
        + join_array(items)
        + b',"totalCount":'
        + str(len(matches)).encode()
        + b',"page":'
        + str(page).encode()
        + b',"pageSize":'
        + str(page_size).encode()
        + b"}"
    )
    return raw_json(body)


def _paging(q: dict[str, str]) -> tuple[int, int] | Resp:
    page, page_size = 1, 20
    if q.get("page"):
        page = go_atoi(q["page"]) or 0
        if page < 1:
            return error("invalid page parameter", 400)
    if q.get("page_size"):
        page_size = go_atoi(q["page_size"]) or 0
        if page_size < 1:
            return error("invalid page_size parameter", 400)
    return page, min(page_size, 100)


def _wrapper(
    rows: list[bytes], total: int, page: int, page_size: int, params: dict[str, str | int]
) -> Resp:
    pagination = (
        b'{"page":'
        + str(page).encode()
        + b',"page_size":'
        + str(page_size).encode()
        + b',"total":'
        + str(total).encode()
        + b"}"
    )
    params_json = json_resp(dict(sorted(params.items()))).body.rstrip(b"\n")
    return raw_json(
        b'{"data":'
        + join_array(rows)
        + b',"pagination":'
        + pagination
        + b',"params":'
        + params_json
        + b"}"
    )


def _page(rows: list[bytes], page: int, page_size: int, rng: random.Random | None) -> list[bytes]:
    """A page of a stable list, or (rng given) a page of a fresh random permutation of it."""
    if rng is None:
        return rows[(page - 1) * page_size : page * page_size]
    k = max(0, min(page_size, len(rows) - (page - 1) * page_size))
    return rng.sample(rows, k)


def pull_requests(store: Store, q: dict[str, str], rng: random.Random) -> Resp:
    paging = _paging(q)
    if isinstance(paging, Resp):
        return paging
    page, page_size = paging
    status, author = q.get("status", ""), q.get("author", "")
    bounds = []
    for name in ("start_date", "end_date"):
        day = None
        if q.get(name):
            day = calendar_day(q[name])
            if day is None:
                return error(f"invalid {name} format (use YYYY-MM-DD)", 400)
        bounds.append(day)
    start_ns = bounds[0] * DAY_NS if bounds[0] is not None else None
    # inclusive only up to D 23:59:59.000, like the commits window (contract 10.3)
    end_ns = bounds[1] * DAY_NS + 86_399 * NS if bounds[1] is not None else None
    rows: list[PullRequest] = store.prs_by_author.get(author, []) if author else store.prs
    if status or start_ns is not None or end_ns is not None:
        rows = [
            pr
            for pr in rows
            if (not status or pr.state == status)
            and (start_ns is None or pr.created_ns >= start_ns)
            and (end_ns is None or pr.created_ns <= end_ns)
        ]
    bodies = [pr.body for pr in rows]
    params: dict[str, str | int] = {
        k: q[k] for k in ("status", "author", "start_date", "end_date") if q.get(k)
    }
    # stable (ascending id) only with `author` alone; any other filter iterates a Go map (contract 2.5)
    stable = bool(author) and not (status or start_ns is not None or end_ns is not None)
    data = _page(bodies, page, page_size, None if stable else rng)
    return _wrapper(data, len(bodies), page, page_size, params)


def reviews(store: Store, q: dict[str, str], rng: random.Random) -> Resp:
    paging = _paging(q)
    if isinstance(paging, Resp):
        return paging
    page, page_size = paging
    reviewer, pr_text = q.get("reviewer", ""), q.get("pr_id", "")
    pr_id = None
    if pr_text:
        pr_id = go_atoi(pr_text)
        if pr_id is None or pr_id < 1:
            return error("invalid pr_id parameter", 400)
    if pr_id is not None:
        rows = store.reviews_by_pr.get(pr_id, [])
        if reviewer:
            rows = [r for r in rows if _reviewer_of(r) == reviewer]
    elif reviewer:
        rows = store.reviews_by_reviewer.get(reviewer, [])
    else:
        rows = store.review_bytes
    # `pr_id` echoes as the parsed number (`01` -> 1), `reviewer` as sent (contract 10.3)
    params: dict[str, str | int] = {"reviewer": reviewer} if reviewer else {}
    if pr_id is not None:
        params["pr_id"] = pr_id
    stable = pr_id is not None or bool(reviewer)
    return _wrapper(
        _page(rows, page, page_size, None if stable else rng), len(rows), page, page_size, params
    )


def _reviewer_of(raw: bytes) -> str:
    start = raw.index(b'"reviewer":"') + 12
    return raw[start : raw.index(b'"', start)].decode()
