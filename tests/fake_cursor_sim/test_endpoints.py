"""Endpoint behaviours through real HTTP against the subprocess double (contract sections 1, 2, 3, 7)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from etl_common.timestamps import parse_rfc3339_ns

from .conftest import Api

WIDE = {"startDate": "2000-01-01", "endDate": "2100-01-01"}


def all_commits(api: Api) -> list[dict]:
    return api.json("/analytics/ai-code/commits", **WIDE, pageSize=1000)["items"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "0"}, "invalid page: must be \\u003e= 1"),
        ({"page": "-2"}, "invalid page: must be \\u003e= 1"),
        ({"page": "x"}, "invalid page: must be \\u003e= 1"),
        ({"pageSize": "0"}, "invalid pageSize: must be \\u003e= 1"),
        ({"pageSize": "10.5"}, "invalid pageSize: must be \\u003e= 1"),
        ({"pageSize": "1001"}, "invalid pageSize: must be \\u003c= 1000"),
        (
            {"startDate": "2026/01/01"},
            "invalid startDate: must be YYYY-MM-DD, ISO 8601, or relative "
            "format (7d, 30d, now, today)",
        ),
        (
            {"from": "yesterday"},
            "invalid startDate: must be YYYY-MM-DD, ISO 8601, or relative "
            "format (7d, 30d, now, today)",
        ),
        (
            {"to": "2026-02-30"},
            "invalid endDate: must be YYYY-MM-DD, ISO 8601, or relative "
            "format (7d, 30d, now, today)",
        ),
    ],
)
def test_commit_parameter_errors_have_the_exact_go_bodies(
    api: Api, params: dict, message: str
) -> None:
    response = api.get("/analytics/ai-code/commits", **params)
    assert response.status_code == 400
    assert response.content == b'{"error":"' + message.encode() + b'"}\n'


def test_default_window_is_thirty_days_plus_today_and_the_wide_window_is_everything(
    api: Api,
) -> None:
    everything = all_commits(api)
    wide = api.json("/analytics/ai-code/commits", **WIDE, pageSize=1)
    default = api.json("/analytics/ai-code/commits", pageSize=1)
    assert wide["totalCount"] == len(everything) == api.totals()["total_commits"]
    today = datetime.now(UTC).date()
    cutoff = (today - timedelta(days=30)).isoformat()
    expected = [c for c in everything if c["commitTs"] >= cutoff]
    assert default["totalCount"] == len(expected) < wide["totalCount"]
    assert default["items"][0]["commitHash"] == expected[0]["commitHash"]
    assert 0.25 < default["totalCount"] / wide["totalCount"] < 0.4


def test_commits_are_ascending_and_paging_is_stable(api: Api) -> None:
    everything = all_commits(api)
    stamps = [parse_rfc3339_ns(c["commitTs"]) for c in everything]
    assert stamps == sorted(stamps)
    paged = []
    for page in (1, 2, 3):
        body = api.json("/analytics/ai-code/commits", **WIDE, pageSize=100, page=page)
        assert (body["page"], body["pageSize"]) == (page, 100)
        paged += body["items"]
    assert paged == everything[:300]
    past = api.json("/analytics/ai-code/commits", **WIDE, pageSize=1000, page=999)
    assert past == {"items": [], "totalCount": len(everything), "page": 999, "pageSize": 1000}


def test_dates_are_whole_days_in_every_accepted_format(api: Api) -> None:
    everything = all_commits(api)
    day = everything[len(everything) // 2]["commitTs"][:10]
    on_day = [
        c["commitHash"]
        for c in everything
        if c["commitTs"].startswith(day)
        and (c["commitTs"][11:19] < "23:59:59" or c["commitTs"].endswith("59:59Z"))
    ]
    for start in (day, f"{day}T18:30:00Z", f"{day}T23:00:00.5+05:00"):
        body = api.json("/analytics/ai-code/commits", startDate=start, endDate=day, pageSize=1000)
        assert [c["commitHash"] for c in body["items"]] == on_day
    aliased = api.json("/analytics/ai-code/commits", **{"from": day, "to": day}, pageSize=1000)
    assert [c["commitHash"] for c in aliased["items"]] == on_day
    recent = api.json("/analytics/ai-code/commits", startDate="7d", endDate="today")["totalCount"]
    cutoff = (datetime.now(UTC).date() - timedelta(days=7)).isoformat()
    assert recent == sum(c["commitTs"] >= cutoff for c in everything)
    assert api.json("/analytics/ai-code/commits", startDate="now", endDate="now")[
        "totalCount"
    ] == sum(c["commitTs"] >= datetime.now(UTC).date().isoformat() for c in everything)
    backwards = api.json("/analytics/ai-code/commits", startDate="2100-01-01", endDate="2000-01-01")
    assert backwards["totalCount"] == 0 and backwards["items"] == []


def test_user_filters_by_id_only_and_repo_name_is_ignored_with_it(api: Api) -> None:
    everything = all_commits(api)
    alice = [c for c in everything if c["userId"] == "user_001"]
    body = api.json(
        "/analytics/ai-code/commits",
        **WIDE,
        user="user_001",
        pageSize=1000,
        repoName="acme-corp/web-app",
    )
    assert body["items"] == alice and body["totalCount"] == len(alice)
    by_email = api.json("/analytics/ai-code/commits", **WIDE, user=alice[0]["userEmail"])
    assert by_email["totalCount"] == 0
    repo = api.json(
        "/analytics/ai-code/commits", **WIDE, repoName=alice[0]["repoName"], pageSize=1000
    )
    assert repo["totalCount"] == len(alice)


def test_repos_list_is_a_raw_array_in_random_order(api: Api) -> None:
    orders = {tuple(r["full_name"] for r in api.json("/repos")) for _ in range(20)}
    assert len(orders) > 1
    (first,) = [r for r in api.json("/repos") if r["full_name"] == "acme-corp/payment-service"]
    assert api.json("/repos/acme-corp/payment-service") == first
    missing = api.get("/repos/no-such-org/no-such-repo")
    assert (missing.status_code, missing.content) == (404, b'{"message":"repository not found"}\n')


def test_per_repo_pulls_filter_clamp_and_fall_back_silently(api: Api) -> None:
    path = "/repos/acme-corp/payment-service/pulls"
    total = api.json("/repos/acme-corp/payment-service")["total_pull_requests_count"]
    assert len(api.json(path)) == 30
    assert len(api.json(path, per_page=500)) == 100
    assert len(api.json(path, per_page=0)) == len(api.json(path, per_page="x")) == 30
    assert api.json(path, per_page=100, page=99) == []
    assert len(api.json(path, per_page=100, page="abc")) == 100
    assert api.json(path, state="OPEN") == [] and api.json(path, state="bogus") == []
    closed = api.json(path, state="closed", per_page=100)
    assert closed and {p["state"] for p in closed} == {"closed"}
    assert all("closed_at" in p and "merged_at" not in p for p in closed)
    assert len(api.json(path, state="all", per_page=100)) == min(total, 100)
    assert api.json("/repos/no-such-org/no-such-repo/pulls") == []


def test_single_pr_reviews_and_errors(api: Api) -> None:
    pr = api.json("/repos/acme-corp/web-app/pulls", per_page=1)[0]
    number = pr["number"]
    assert api.json(f"/repos/acme-corp/web-app/pulls/{number}") == pr
    other = api.get(f"/repos/acme-corp/payment-service/pulls/{number}")  # numbers are global
    assert (other.status_code, other.content) == (404, b'{"message":"pull request not found"}\n')
    for bad in ("abc", "0"):
        response = api.get(f"/repos/acme-corp/web-app/pulls/{bad}/reviews")
        assert (response.status_code, response.content) == (
            400,
            b'{"message":"invalid pull request number"}\n',
        )
    reviews = api.json(f"/repos/acme-corp/web-app/pulls/{number}/reviews")
    assert reviews and {r["pr_id"] for r in reviews} == {number}
    assert reviews == api.json("/analytics/github/reviews", pr_id=number)["data"]
    assert api.json("/repos/acme-corp/web-app/pulls/99999999/reviews") == []
    assert api.json(f"/repos/acme-corp/payment-service/pulls/{number}/reviews") == []
    commits = api.json(f"/repos/acme-corp/web-app/pulls/{number}/commits")
    assert set(pr["commit_ids"]) <= {c["commitHash"] for c in commits}
    assert {c["branchName"] for c in commits} == {pr["head_branch"]}
    route = api.get("/repos/acme-corp/web-app/issues")
    assert (route.status_code, route.content) == (404, b'{"message":"route not found"}\n')


def test_analytics_prs_wrapper_validation_and_author_order(api: Api) -> None:
    default = api.json("/analytics/github/prs")
    total = api.totals()["total_prs"]
    assert len(default["data"]) == 20 and default["pagination"] == {
        "page": 1,
        "page_size": 20,
        "total": total,
    }
    assert default["params"] == {}
    assert api.json("/analytics/github/prs", page_size=1000)["pagination"]["page_size"] == 100
    for params, message in (
        ({"page": 0}, b"invalid page parameter"),
        ({"page_size": "0"}, b"invalid page_size parameter"),
        ({"start_date": "2026-1-1"}, b"invalid start_date format (use YYYY-MM-DD)"),
    ):
        response = api.get("/analytics/github/prs", **params)
        assert (response.status_code, response.content) == (400, b'{"error":"' + message + b'"}\n')
    email = api.json("/teams/members")["teamMembers"][0]["email"]
    # Contract 2.5 (corrected): `author` alone is served in id order, stable
    # across calls; adding `status` brings back the random order.
    alone = api.json("/analytics/github/prs", author=email, page_size=100)
    ids = [p["id"] for p in alone["data"]]
    assert ids == sorted(ids) and len(ids) >= 5
    assert [
        p["id"] for p in api.json("/analytics/github/prs", author=email, page_size=100)["data"]
    ] == ids
    # Stable order makes plain paging complete for `author` alone.
    pages = alone["data"] + [
        p
        for page in range(2, -(-alone["pagination"]["total"] // 100) + 1)
        for p in api.json("/analytics/github/prs", author=email, page_size=100, page=page)["data"]
    ]
    assert len({p["id"] for p in pages}) == alone["pagination"]["total"]
    status = min(("open", "closed", "merged"), key=lambda s: sum(p["state"] == s for p in pages))
    chosen = {p["id"] for p in pages if p["state"] == status}
    assert len(chosen) <= 100, "the test needs one status of the author's PRs on one page"
    orders = []
    for _ in range(3):
        one = api.json("/analytics/github/prs", author=email, page_size=100, status=status)
        assert list(one["params"]) == ["author", "status"]
        assert {p["state"] for p in one["data"]} <= {status}
        orders.append([p["id"] for p in one["data"]])
        assert set(orders[-1]) == chosen
    assert len(chosen) < 5 or len({tuple(o) for o in orders}) > 1
    day = alone["data"][0]["created_at"][:10]
    dated = api.json("/analytics/github/prs", start_date=day, end_date=day, page_size=100)
    assert dated["data"] and all(p["created_at"].startswith(day) for p in dated["data"])


def test_analytics_reviews_are_stable_only_when_filtered(api: Api) -> None:
    email = api.json("/teams/members")["teamMembers"][1]["email"]
    first = api.json("/analytics/github/reviews", reviewer=email, page_size=100)
    ids = [r["id"] for r in first["data"]]
    assert ids == sorted(ids) and first["params"] == {"reviewer": email}
    assert {r["reviewer"] for r in first["data"]} == {email}
    response = api.get("/analytics/github/reviews", pr_id=0)
    assert response.status_code == 400
    pages = [
        tuple(r["id"] for r in api.json("/analytics/github/reviews", page_size=5)["data"])
        for _ in range(5)
    ]
    assert len(set(pages)) > 1


def test_methods_are_ignored_except_on_regenerate_and_head_has_no_body(api: Api) -> None:
    auth = ("cursor-sim-dev-key", "")
    posted = api.client.post(api.url + "/teams/members", auth=auth)
    assert posted.status_code == 200 and posted.json() == api.json("/teams/members")
    head = api.client.head(api.url + "/teams/members", auth=auth)
    assert head.status_code == 200 and head.content == b""
    refused = api.get("/admin/regenerate")
    assert (refused.status_code, refused.content) == (405, b'{"error":"Only POST is allowed"}\n')


def test_auth_and_404_flavours(api: Api) -> None:
    assert api.get("/health", auth=None).json() == {"status": "ok"}
    missing = api.get("/teams/members", auth=None)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Basic"
    wrong = api.get("/teams/members", auth=("nope", ""))
    assert wrong.status_code == 401 and "www-authenticate" not in wrong.headers
    assert api.get("/teams/members", auth=("cursor-sim-dev-key", "any password")).status_code == 200
    for path in ("/healthz", "/", "/ready"):
        assert api.get(path, auth=None).status_code == 401
        response = api.get(path)
        assert (response.status_code, response.text) == (404, "404 page not found\n")
        assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_admin_config_uptime_grows_and_regenerate_changes_data_not_uptime(api: Api) -> None:
    config = api.json("/admin/config")
    assert config["server"]["version"] == "2.0.0" and config["generation"]["days"] == 90
    assert re.fullmatch(r"(\d+h)?(\d+m)?\d+s", config["server"]["uptime"])
    before = api.totals()
    hashes = {c["commitHash"] for c in all_commits(api)}
    time.sleep(1.05)
    response = api.client.post(
        api.url + "/admin/regenerate", auth=("cursor-sim-dev-key", ""), json={"mode": "override"}
    )
    assert response.status_code == 200
    after = api.totals()
    assert after != before
    assert hashes.isdisjoint(c["commitHash"] for c in all_commits(api))
    assert (
        _seconds(api.json("/admin/config")["server"]["uptime"])
        >= _seconds(config["server"]["uptime"]) + 1
    )


def _seconds(duration: str) -> int:
    parts = {unit: int(n) for n, unit in re.findall(r"(\d+)([hms])", duration)}
    return parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)


def test_error_escaping_matches_go(api: Api) -> None:
    body = api.get("/analytics/ai-code/commits", pageSize=5000).content
    assert b"\\u003c=" in body and b"<" not in body


def test_unknown_control_path_is_not_part_of_the_upstream(api: Api) -> None:
    assert httpx.get(api.url + "/_double/nothing").status_code == 404
