"""Every fault kind, observed through real HTTP, plus the rule window (`after`, `times`) and counters."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from dev_stack.double import run_double

from .conftest import KEY, Api

COMMITS = "/analytics/ai-code/commits"


@pytest.fixture(scope="module")
def module_double() -> Iterator[Api]:
    with (
        run_double(developers=2, seed=9, rate_limit_per_minute=0) as url,
        httpx.Client(timeout=10) as client,
    ):
        yield Api(url, client)


@pytest.fixture
def double(module_double: Api) -> Iterator[Api]:
    yield module_double
    module_double.client.delete(module_double.url + "/_double/faults")


def add(api: Api, *rules: dict) -> None:
    response = api.client.post(api.url + "/_double/faults", json={"rules": list(rules)})
    assert response.status_code == 200, response.text


def test_status_fault_hits_only_matching_paths_within_its_window(double: Api) -> None:
    add(double, {"kind": "status", "status": 503, "times": 2, "after": 1, "path_prefix": COMMITS})
    codes = [double.get(COMMITS).status_code for _ in range(4)]
    assert codes == [200, 503, 503, 200]
    assert double.get("/teams/members").status_code == 200
    add(double, {"kind": "status", "status": 404, "path_prefix": "/analytics/github/prs"})
    gone = double.get("/analytics/github/prs")
    assert (gone.status_code, gone.text) == (404, "404 page not found\n")


def test_drop_breaks_the_body_mid_stream(double: Api) -> None:
    add(double, {"kind": "drop", "path_prefix": "/analytics/github/reviews"})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        double.get("/analytics/github/reviews", page_size=100)
    assert double.get("/analytics/github/reviews").status_code == 200


def test_truncate_sends_half_a_body_in_a_complete_response(double: Api) -> None:
    full = double.get(COMMITS, pageSize=50).content
    add(double, {"kind": "truncate", "path_prefix": COMMITS})
    cut = double.get(
        COMMITS, pageSize=50
    )  # framed like any body of its size (chunked here), not cut
    assert cut.status_code == 200
    assert len(cut.content) == len(full) // 2 > 2048
    assert cut.headers["transfer-encoding"] == "chunked" and "content-length" not in cut.headers
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)


def test_remove_field_drops_the_key_from_every_record(double: Api) -> None:
    add(double, {"kind": "remove_field", "field": "commitHash", "times": 2, "path_prefix": COMMITS})
    body = double.json(COMMITS, pageSize=20)
    assert body["items"] and all("commitHash" not in c and "userId" in c for c in body["items"])
    add(double, {"kind": "remove_field", "field": "author_id", "path_prefix": "/repos/"})
    prs = double.json("/repos/acme-corp/payment-service/pulls")
    assert prs and all("author_id" not in p for p in prs)
    assert double.json(COMMITS)["items"][0].get("commitHash") is None  # second of two
    assert "commitHash" in double.json(COMMITS)["items"][0]


def test_rename_and_null_field_rewrite_the_key_only_where_it_was_sent(double: Api) -> None:
    prs = "/analytics/github/prs"
    # one author's list is stable (ascending id), so answers can be compared record for record
    author = double.json("/teams/members")["teamMembers"][0]["email"]
    before = double.json(prs, author=author, page_size=100)["data"]
    merged = {p["id"]: p["merged_at"] for p in before if "merged_at" in p}
    assert merged and len(merged) < len(before)  # merged_at is present iff state = merged
    rename = {"kind": "rename_field", "field": "merged_at", "to": "mergedAt", "path_prefix": prs}
    add(double, rename)
    renamed = double.json(prs, author=author, page_size=100)["data"]
    assert all("merged_at" not in p for p in renamed)
    assert {p["id"]: p["mergedAt"] for p in renamed if "mergedAt" in p} == merged
    add(double, {"kind": "null_field", "field": "merged_at", "path_prefix": prs})
    nulled = double.json(prs, author=author, page_size=100)["data"]
    assert {p["id"] for p in nulled if "merged_at" in p} == set(merged)
    assert all(p.get("merged_at") is None for p in nulled)
    assert double.json(prs, author=author, page_size=100)["data"] == before  # each fired once


def test_delay_holds_the_answer(double: Api) -> None:
    add(double, {"kind": "delay", "seconds": 0.6, "path_prefix": "/repos"})
    with pytest.raises(httpx.ReadTimeout):
        double.client.get(double.url + "/repos", auth=(KEY, ""), timeout=0.2)
    add(double, {"kind": "delay", "seconds": 0.3, "path_prefix": "/repos"})
    t0 = time.monotonic()
    assert double.get("/repos").status_code == 200
    assert time.monotonic() - t0 >= 0.3


def test_regenerate_changes_the_universe_before_serving_that_request(double: Api) -> None:
    before = double.totals()
    add(double, {"kind": "regenerate", "after": 1, "path_prefix": "/admin/stats"})
    assert double.totals() == before
    assert double.totals() != before
    assert double.control()["regenerations"] == 1


def test_bad_rules_are_refused_and_counters_report_paths(double: Api) -> None:
    for rules in (
        [{"kind": "explode"}],
        [{"kind": "remove_field"}],
        [{"kind": "rename_field", "field": "merged_at"}],
        [{"kind": "drop", "x": 1}],
    ):
        response = double.client.post(double.url + "/_double/faults", json={"rules": rules})
        assert response.status_code == 400
    before = double.control()
    double.get("/repos/acme-corp/web-app/pulls/1/reviews")
    after = double.control()
    assert after["total"] == before["total"] + 1
    assert after["by_route"]["/repos/*/*/pulls/*/reviews"] >= 1
    assert after["by_path"]["/repos/acme-corp/web-app/pulls/1/reviews"] >= 1


def test_faulted_requests_spend_rate_limit_tokens() -> None:
    with run_double(developers=2, rate_limit_per_minute=5) as url, httpx.Client(timeout=10) as c:
        c.post(
            url + "/_double/faults",
            json={"rules": [{"kind": "status", "status": 500, "times": 100}]},
        )
        assert [c.get(url + "/health").status_code for _ in range(6)] == [500] * 5 + [429]
        stats = c.get(url + "/_double/stats").json()
        assert stats["rate_limited"] == 1 and stats["by_status"]["500"] == 5
