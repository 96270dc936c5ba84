"""Contract section 10.3, the analytics and GitHub-style endpoints: commit date parsing and the server-local
default window, the params echo, per-repo odd paths; each checked on a real double."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dev_stack.double import run_double
from etl_common.timestamps import parse_rfc3339_ns

from .conftest import Api

WIDE = {"startDate": "2000-01-01", "endDate": "2100-01-01"}
COMMITS = "/analytics/ai-code/commits"
BAD_DATE = b'{"error":"invalid {}: must be YYYY-MM-DD, ISO 8601, or relative format (7d, 30d, now, today)"}\n'


# --- 6. commit date parsing and the server-local default window --------------------------------------


def _count(api: Api, **params: str) -> int:
    return api.json(COMMITS, pageSize=1, **params)["totalCount"]


def test_relative_days_take_an_explicit_plus_sign(pinned: Api) -> None:
    assert _count(pinned, startDate="+5d", endDate="2100-01-01") == _count(
        pinned, startDate="5d", endDate="2100-01-01"
    )
    for bad in ("5 d", "d", "+d", "5D", "\u0665d"):  # the last: an Arabic-Indic five
        response = pinned.get(COMMITS, startDate=bad)
        assert (response.status_code, response.content) == (
            400,
            BAD_DATE.replace(b"{}", b"startDate"),
        )


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-01t10:00:00Z",
        "2026-11-01T10:00:00z",
        "2026-11-01T25:00:00Z",
        "2026-11-01T24:00:00Z",
        "2026-11-01T10:60:00Z",
        "2026-11-01T10:00:60Z",
        "2026-11-01T10:00:00+25:00",
        "2026-11-01T10:00:00+0500",
        "2026-11-01T10:00:00",
        "2026-11-31T10:00:00Z",
        "2026-11-01T10:00:00.Z",
    ],
)
def test_rfc3339_dates_follow_go_s_time_parse(pinned: Api, value: str) -> None:
    for name in ("startDate", "endDate"):
        response = pinned.get(COMMITS, **{name: value})
        assert (response.status_code, response.content) == (
            400,
            BAD_DATE.replace(b"{}", name.encode()),
        )


def test_rfc3339_forms_go_accepts_count_their_written_date(pinned: Api) -> None:
    day = {"startDate": "2026-11-01", "endDate": "2026-11-01"}
    expected = _count(pinned, **day)
    assert expected > 0
    for value in (
        "2026-11-01T10:00:00Z",
        "2026-11-01T9:00:00Z",  # Go reads the hour leniently
        "2026-11-01T23:59:59,5-12:00",  # and a fraction after a comma
        "2026-11-01T00:00:00+24:00",  # and offsets up to 24:00
    ):
        assert _count(pinned, startDate=value, endDate=value) == expected, value


def test_the_default_window_and_today_are_server_local_dates() -> None:
    """Both zones are a calendar day away from UTC for most of the UTC day: east of UTC from 10:00 UTC on,
    west of it before 12:00 UTC."""
    zone = "Etc/GMT+12" if datetime.now(UTC).hour < 11 else "Pacific/Kiritimati"
    with (
        run_double(developers=8, rate_limit_per_minute=0, tz=zone) as url,
        httpx.Client(timeout=10) as client,
    ):
        api = Api(url, client)
        stamps = sorted(parse_rfc3339_ns(c["commitTs"]) for c in _all_commits(api))
        local_before = datetime.now(ZoneInfo(zone)).date()
        default = _count(api)
        today = _count(api, startDate="today", endDate="today")
        week = _count(api, startDate="+7d", endDate="now")
        local_after = datetime.now(ZoneInfo(zone)).date()
        files_ts = _a_pr_files_timestamp(api)
    assert local_before == local_after, "the zone's date changed mid-test; run it again"
    utc_today = datetime.now(UTC).date()
    assert local_before != utc_today  # the premise: local and UTC dates differ right now

    def window(start: date, end: date) -> int:
        low = _day_ns(start)
        high = _day_ns(end) + 86_399 * 10**9  # inclusive to 23:59:59.000 UTC
        return sum(low <= ts <= high for ts in stamps)

    assert default == window(local_before - timedelta(days=30), local_before)
    assert default != window(utc_today - timedelta(days=30), utc_today)  # the UTC rule would differ
    assert today == window(local_before, local_before)
    assert week == window(local_before - timedelta(days=7), local_before)
    assert files_ts.endswith(("-12:00", "+14:00"))  # /repos timestamps carry the zone too


def _all_commits(api: Api) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in range(1, 100):
        body = api.json(COMMITS, **WIDE, pageSize=1000, page=page)
        rows += body["items"]
        if page * 1000 >= body["totalCount"]:
            return rows
    raise AssertionError("more than 99 pages")


def _day_ns(day: date) -> int:
    return (day - date(1970, 1, 1)).days * 86_400 * 10**9


def _a_pr_files_timestamp(api: Api) -> str:
    repo = api.json("/repos")[0]["full_name"]
    number = api.json(f"/repos/{repo}/pulls", per_page=1)[0]["number"]
    return str(api.json(f"/repos/{repo}/pulls/{number}/files")[0]["created_at"])


# --- 7. params echo --------------------------------------------------------------------------------


def test_reviews_echo_pr_id_as_the_parsed_number(pinned: Api) -> None:
    review = pinned.json("/analytics/github/reviews", page_size=1)["data"][0]
    padded = "0" + str(review["pr_id"])
    response = pinned.get("/analytics/github/reviews", pr_id=padded)
    assert response.status_code == 200
    assert f'"params":{{"pr_id":{review["pr_id"]}}}'.encode() in response.content
    assert (
        response.json()["data"]
        == pinned.json("/analytics/github/reviews", pr_id=review["pr_id"])["data"]
    )
    both = pinned.json("/analytics/github/reviews", pr_id="+" + padded, reviewer=review["reviewer"])
    assert both["params"] == {"pr_id": review["pr_id"], "reviewer": review["reviewer"]}


# --- 8. per-repo odd paths -------------------------------------------------------------------------


def test_per_repo_trailing_slashes_answer_like_none_and_negative_numbers_are_not_found(
    pinned: Api,
) -> None:
    repo = pinned.json("/repos")[0]["full_name"]
    plain = pinned.get(f"/repos/{repo}")
    slashed = pinned.get(f"/repos/{repo}/")
    assert (slashed.status_code, slashed.content) == (200, plain.content)
    open_prs = pinned.json(f"/repos/{repo}/pulls", state="open", per_page=100)
    slashed_prs = pinned.json(f"/repos/{repo}/pulls/", state="open", per_page=100)
    assert sorted(p["id"] for p in slashed_prs) == sorted(p["id"] for p in open_prs)
    assert pinned.get("/repos/nobody/nothing/").status_code == 404
    for tail in ("pulls/-1", "pulls/-1/files", "pulls/-1/commits"):
        gone = pinned.get(f"/repos/{repo}/{tail}")
        assert (gone.status_code, gone.content) == (404, b'{"message":"pull request not found"}\n')
    assert pinned.json(f"/repos/{repo}/pulls/-1/reviews") == []
    zero = pinned.get(f"/repos/{repo}/pulls/0")
    assert (zero.status_code, zero.json()) == (400, {"message": "invalid pull request number"})
