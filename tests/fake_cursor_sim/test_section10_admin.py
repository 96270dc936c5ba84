"""Contract section 10.3, the admin endpoints and Go's formatting: /admin/config, /admin/regenerate, admin
lists in random order, Go floats and durations, checked on a real double or, where a rule has edges the API
cannot reach, on the function that implements it."""

from __future__ import annotations

import re
import statistics
from collections import Counter

import httpx
import pytest

from dev_stack.double import run_double
from fake_cursor_sim.decoding import DecodeError, decode_first
from fake_cursor_sim.encoding import go_json
from fake_cursor_sim.timefmt import go_duration, go_round

from .conftest import KEY, Api

WIDE = {"startDate": "2000-01-01", "endDate": "2100-01-01"}
COMMITS = "/analytics/ai-code/commits"
BAD_DATE = b'{"error":"invalid {}: must be YYYY-MM-DD, ISO 8601, or relative format (7d, 30d, now, today)"}\n'


# --- 3. /admin/config answers only GET -------------------------------------------------------------


def test_admin_config_refuses_every_method_but_get(pinned: Api) -> None:
    auth = (KEY, "")
    assert pinned.client.get(pinned.url + "/admin/config", auth=auth).status_code == 200
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        refused = pinned.client.request(method, pinned.url + "/admin/config", auth=auth)
        assert refused.status_code == 405, method
        assert refused.content == b'{"error":"Method not allowed"}\n', method
    head = pinned.client.head(pinned.url + "/admin/config", auth=auth)
    assert (head.status_code, head.content) == (405, b"")
    # other read routes still ignore the method (contract section 1)
    assert pinned.client.post(pinned.url + "/admin/stats", auth=auth).status_code == 200


# --- 4. POST /admin/regenerate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "EOF"),
        (b" \r\n", "EOF"),
        (b"{", "unexpected EOF"),
        (b'{"mode":', "unexpected EOF"),
        (b"mode=override", "invalid character 'm' looking for beginning of value"),
        (b'{"mode" "override"}', "invalid character '\"' after object key"),
        (b"[]", "json: cannot unmarshal array into Go value of type api.RegenerateRequest"),
    ],
)
def test_regenerate_without_a_json_object_is_a_400_and_keeps_the_data(
    pinned: Api, body: bytes, message: str
) -> None:
    before = pinned.totals()
    response = pinned.client.post(pinned.url + "/admin/regenerate", auth=(KEY, ""), content=body)
    assert response.status_code == 400
    assert response.content == go_json({"error": f"Failed to parse request: {message}"}) + b"\n"
    assert pinned.totals() == before
    assert pinned.control()["regenerations"] == 0


def test_regenerate_reports_deltas_against_the_previous_totals_and_a_go_duration() -> None:
    with run_double(developers=2, rate_limit_per_minute=0) as url, httpx.Client(timeout=10) as c:
        auth = (KEY, "")
        before = c.get(url + "/admin/stats", auth=auth).json()["generation"]
        response = c.post(url + "/admin/regenerate", auth=auth, content=b'{"mode":"override"}')
        assert response.status_code == 200, response.text
        report = response.json()
        after = c.get(url + "/admin/stats", auth=auth).json()
        appended = c.post(url + "/admin/regenerate", auth=auth, json={"mode": "append"})
        null_body = c.post(url + "/admin/regenerate", auth=auth, content=b"null")
    assert after["generation"] != before
    for kind in ("commits", "prs", "reviews", "issues"):
        assert report[f"total_{kind}"] == after["generation"][f"total_{kind}"], kind
        assert report[f"{kind}_added"] == report[f"total_{kind}"] - before[f"total_{kind}"], kind
    assert (report["status"], report["mode"], report["data_cleaned"]) == (
        "success",
        "override",
        True,
    )
    # Go's Duration.String of a millisecond-rounded duration: 7ms, 1.234s, 0s
    assert re.fullmatch(r"0s|[1-9][0-9]{0,2}ms|[0-9]+(\.[0-9]{1,3})?s", report["duration"])
    assert after["performance"]["last_generation_time"] == report["duration"]
    assert appended.status_code == 501  # the double's own refusal: it has no append mode
    assert null_body.status_code == 200  # JSON null decodes into the request struct as nothing


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (7_000_000, "7ms"),
        (1_234_000_000, "1.234s"),
        (60_000_000_000, "1m0s"),
        (3_723_500_000_000, "1h2m3.5s"),
        (1_500, "1.5µs"),
        (999, "999ns"),
        (-7_000_000, "-7ms"),
    ],
)
def test_go_duration_prints_like_go(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def test_go_round_rounds_halves_away_from_zero() -> None:
    assert [go_round(v, 1_000_000) for v in (7_499_999, 7_500_000, 400_000, -7_500_000)] == [
        7_000_000,
        8_000_000,
        0,
        -8_000_000,
    ]


def test_decoding_reads_only_the_first_value() -> None:
    assert decode_first(b'{"mode":"override"} trailing') == {"mode": "override"}
    assert decode_first(b"{NaN}") == DecodeError(
        "invalid character 'N' looking for beginning of object key string"
    )


# --- 5. admin lists in random order, Go floats -----------------------------------------------------


def test_admin_lists_come_back_in_a_new_order_on_every_call(pinned: Api) -> None:
    orders: dict[str, set[tuple[str, ...]]] = {}
    for _ in range(30):
        stats = pinned.json("/admin/stats")["organization"]
        seed = pinned.json("/admin/config")["seed"]
        for name, values in (
            ("stats.teams", stats["teams"]),
            ("stats.repositories", stats["repositories"]),
            ("config.teams", seed["teams"]),
            ("config.regions", seed["regions"]),
        ):
            orders.setdefault(name, set()).add(tuple(values))
    varied = set()
    for name, seen in orders.items():
        assert len({tuple(sorted(order)) for order in seen}) == 1, name  # same contents
        if len(next(iter(seen))) > 1:  # (this seed's two developers share one region)
            assert len(seen) > 1, name  # two elements: all 30 calls alike has odds 2**-29
            varied.add(name)
    assert {"stats.teams", "stats.repositories", "config.teams"} <= varied
    assert pinned.json("/admin/config")["external_sources"]["harvey"]["models"] == [
        "gpt-4",
        "claude-3-sonnet",
        "claude-3-opus",
    ]  # a list from the seed file, not a map: its order is fixed


def test_integral_floats_print_without_a_fraction_in_admin_bodies(pinned: Api) -> None:
    commits = pinned.json(COMMITS, **WIDE, pageSize=1000)["items"]
    per_user = Counter(c["userId"] for c in commits)
    std_dev = statistics.pstdev(per_user.values())
    assert std_dev == 42.0  # the pinned generation's: a float64 with an integral value
    raw = pinned.get("/admin/stats").content
    assert b'"commits_std_dev":42,' in raw
    for body in (raw, pinned.get("/admin/config").content):
        without_strings = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', body)
        assert not re.search(rb"[0-9]\.0*[,}\]]", without_strings), body


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (32.0, b"32"),
        (0.0, b"0"),
        (-0.0, b"-0"),
        (0.5, b"0.5"),
        (1e-05, b"0.00001"),
        (1e-07, b"1e-7"),
        (1e20, b"100000000000000000000"),
        (1e21, b"1e+21"),
        (2.0**60, b"1152921504606847000"),
        (123.18932329954573, b"123.18932329954573"),
    ],
)
def test_floats_encode_as_go_s_encoding_json_prints_a_float64(value: float, text: bytes) -> None:
    assert go_json(value) == text
    assert go_json({"v": [value, "<"]}) == b'{"v":[' + text + b',"\\u003c"]}'
