"""The behaviours that make naive loaders wrong or slow: lossy paging of randomly ordered lists and the one
global rate limit, which /health, 401s and 404s all spend."""

from __future__ import annotations

import time

import httpx

from .conftest import KEY, Api


def test_naive_paging_of_repo_pulls_loses_rows_while_author_paging_is_exact(api: Api) -> None:
    totals = api.totals()
    naive_ids: set[int] = set()
    fetched = 0
    for repo in api.json("/repos"):
        assert repo["total_pull_requests_count"] > 50  # more than one page, so order matters
        page = 1
        while True:
            batch = api.json(f"/repos/{repo['full_name']}/pulls", per_page=50, page=page)
            fetched += len(batch)
            naive_ids.update(pr["id"] for pr in batch)
            if len(batch) < 50:
                break
            page += 1
    assert fetched == totals["total_prs"]  # the right number of rows...
    assert len(naive_ids) < totals["total_prs"]  # ...but duplicates in, rows out

    exact: set[int] = set()
    for member in api.json("/teams/members")["teamMembers"]:
        page = 1
        while True:
            body = api.json(
                "/analytics/github/prs", author=member["email"], page_size=100, page=page
            )
            exact.update(pr["id"] for pr in body["data"])
            if page * 100 >= body["pagination"]["total"]:
                break
            page += 1
    assert len(exact) == totals["total_prs"]


def test_unfiltered_analytics_paging_is_lossy_and_reviewer_paging_is_exact(api: Api) -> None:
    total = api.totals()["total_reviews"]
    seen: set[int] = set()
    pages = -(-total // 100)
    for page in range(1, pages + 1):
        seen.update(
            r["id"] for r in api.json("/analytics/github/reviews", page_size=100, page=page)["data"]
        )
    assert len(seen) < total
    exact: set[int] = set()
    for member in api.json("/teams/members")["teamMembers"]:
        body = api.json("/analytics/github/reviews", reviewer=member["email"], page_size=100)
        for page in range(2, -(-body["pagination"]["total"] // 100) + 1):
            exact.update(
                r["id"]
                for r in api.json(
                    "/analytics/github/reviews", reviewer=member["email"], page_size=100, page=page
                )["data"]
            )
        exact.update(r["id"] for r in body["data"])
    assert len(exact) == total


def test_one_global_bucket_spent_by_health_401s_and_404s_then_429_with_retry_after() -> None:
    from dev_stack.double import run_double

    with run_double(developers=2, rate_limit_per_minute=30) as url, httpx.Client(timeout=10) as c:
        statuses = [c.get(url + "/analytics/ai-code/commits").status_code for _ in range(10)]
        statuses += [c.get(url + "/nope", auth=(KEY, "")).status_code for _ in range(10)]
        statuses += [c.get(url + "/health").status_code for _ in range(10)]
        assert statuses == [401] * 10 + [404] * 10 + [200] * 10
        for path, auth in (("/health", None), ("/teams/members", (KEY, "")), ("/x", None)):
            limited = c.get(url + path, auth=auth)
            assert limited.status_code == 429, path
            assert limited.headers["retry-after"] == "1"
            assert limited.content == b'{"error":"Rate limit exceeded"}\n'
        for _ in range(5):  # the control surface is exempt
            assert c.get(url + "/_double/stats").status_code == 200
        assert c.get(url + "/_double/stats").json()["rate_limited"] == 3
        time.sleep(2.2)  # 30/min refills one token every 2 s
        assert c.get(url + "/teams/members", auth=(KEY, "")).status_code == 200
        assert c.get(url + "/teams/members", auth=(KEY, "")).status_code == 429
