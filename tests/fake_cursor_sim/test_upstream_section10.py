"""The upstream behaviours of contract section 10.3 the double once lacked, each observed on the wire of a
real double (a subprocess on a free 127.0.0.1 port) or, where a rule has edges the API cannot reach, on the
function that implements it."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import statistics
from collections import Counter
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from dev_stack.double import run_double
from etl_common.timestamps import parse_rfc3339_ns
from fake_cursor_sim.app import clean_path
from fake_cursor_sim.decoding import DecodeError, decode_first
from fake_cursor_sim.encoding import go_json
from fake_cursor_sim.responses import CHUNKING_THRESHOLD, Resp, send_resp
from fake_cursor_sim.timefmt import go_duration, go_round

from ..samples import samples_dir
from .conftest import KEY, Api

PINNED = datetime(2026, 11, 30, 17, 25, 12, tzinfo=UTC)  # seed 42 then has commits_std_dev 42.0
WIDE = {"startDate": "2000-01-01", "endDate": "2100-01-01"}
COMMITS = "/analytics/ai-code/commits"
BAD_DATE = b'{"error":"invalid {}: must be YYYY-MM-DD, ISO 8601, or relative format (7d, 30d, now, today)"}\n'


@dataclass
class Raw:
    """One HTTP/1.1 exchange read straight off the socket: header names exactly as sent."""

    status: int
    headers: list[tuple[str, str]]
    framed_body: bytes  # as on the wire (chunk sizes included when chunked)
    body: bytes  # de-chunked

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, (name, values)
        return values[0] if values else None


def raw_request(
    url: str, target: str, method: str = "GET", *, auth: bool = True, body: bytes = b""
) -> Raw:
    parts = urlsplit(url)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    if auth:
        lines.append("Authorization: Basic " + base64.b64encode(f"{KEY}:".encode()).decode())
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):  # the server closes after the reply (Connection: close)
            data += chunk
    head, _, framed = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in header_lines]
    raw = Raw(int(status_line.split()[1]), headers, framed, framed)  # type: ignore[arg-type]
    if (raw.header("Transfer-Encoding") or "").lower() == "chunked":
        raw.body = _dechunk(framed)
    return raw


def _dechunk(framed: bytes) -> bytes:
    out, rest = b"", framed
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n", "a chunked body ends with the zero chunk and an empty line"
            return out
        out, rest = out + rest[:size], rest[size:]
        assert rest[:2] == b"\r\n"
        rest = rest[2:]


@pytest.fixture(scope="module")
def pinned() -> Iterator[Api]:
    """A 2-developer double at a pinned instant (its data is fixed), no rate limit."""
    with (
        run_double(developers=2, seed=42, now=PINNED, rate_limit_per_minute=0) as url,
        httpx.Client(timeout=10) as client,
    ):
        yield Api(url, client)


# --- 1. response framing and header names ---------------------------------------------------------


def test_recorded_upstream_chunks_exactly_the_bodies_over_2048_bytes() -> None:
    """The evidence for the rule the double follows: every recorded sample with its body size."""
    recorded = samples_dir()
    seen = 0
    for meta_path in recorded.glob("*.meta.json"):
        meta = json.loads(meta_path.read_text())
        size = (recorded / meta["body_file"]).stat().st_size
        headers = meta["headers"]
        if size > CHUNKING_THRESHOLD:
            assert headers.get("Transfer-Encoding") == "chunked", meta_path.name
            assert "Content-Length" not in headers, meta_path.name
        else:
            assert headers.get("Content-Length") == str(size), meta_path.name
        seen += 1
    assert seen >= 40


def test_large_bodies_are_chunked_without_content_length_and_small_ones_keep_it(
    pinned: Api,
) -> None:
    small = raw_request(pinned.url, f"{COMMITS}?pageSize=1&startDate=2000-01-01")
    assert small.status == 200 and small.header("Transfer-Encoding") is None
    assert small.header("Content-Length") == str(len(small.body)) and len(small.body) < 2048
    large = raw_request(pinned.url, f"{COMMITS}?pageSize=50&startDate=2000-01-01")
    assert large.status == 200
    assert large.header("Transfer-Encoding") == "chunked" and large.header("Content-Length") is None
    assert large.framed_body != large.body  # really chunk-framed on the wire
    assert len(json.loads(large.body)["items"]) == 50
    health = raw_request(pinned.url, "/health", auth=False)
    assert (health.header("Content-Length"), health.body) == ("16", b'{"status":"ok"}\n')


@pytest.mark.parametrize(("size", "chunked"), [(2047, False), (2048, False), (2049, True)])
def test_the_chunking_threshold_is_go_s_2048_byte_buffer(size: int, chunked: bool) -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(send_resp(send, Resp(200, b"x" * size)))
    names = [name for name, _ in sent[0]["headers"]]
    assert (b"Content-Length" not in names) is chunked
    assert sent[1]["body"] == b"x" * size


def test_header_names_are_canonical_on_the_wire_with_one_date(pinned: Api) -> None:
    exchanges = {
        "200": raw_request(pinned.url, "/teams/members"),
        "401": raw_request(pinned.url, "/teams/members", auth=False),
        "404": raw_request(pinned.url, "/nope"),
        "307": raw_request(pinned.url, "//health"),
        "chunked": raw_request(pinned.url, f"{COMMITS}?pageSize=50&startDate=2000-01-01"),
    }
    for label, raw in exchanges.items():
        names = [name for name, _ in raw.headers]
        for name in names:  # Go's CanonicalHeaderKey: each dash-separated word capitalised
            assert name == "-".join(w.capitalize() for w in name.split("-")), (label, name)
        assert names.count("Date") == 1 and "Server" not in names, label
        datetime.strptime(raw.header("Date") or "", "%a, %d %b %Y %H:%M:%S GMT")
    assert exchanges["401"].header("Www-Authenticate") == "Basic"
    assert exchanges["404"].header("X-Content-Type-Options") == "nosniff"
    assert ("Transfer-Encoding", "chunked") in exchanges["chunked"].headers


def test_the_429_keeps_its_canonical_retry_after() -> None:
    with run_double(developers=2, rate_limit_per_minute=1) as url:
        assert raw_request(url, "/health", auth=False).status == 200
        limited = raw_request(url, "/health", auth=False)
    assert limited.status == 429 and ("Retry-After", "1") in limited.headers


# --- 2. unclean paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("//health", "/health"),
        ("/a/../health", "/health"),
        ("/./health", "/health"),
        ("/../../health", "/health"),
        ("//analytics/ai-code/commits?x=1", "/analytics/ai-code/commits?x=1"),
        ("/analytics//github/prs?a=1&b=%20", "/analytics/github/prs?a=1&b=%20"),
        ("/repos/acme-corp//web-app/pulls/", "/repos/acme-corp/web-app/pulls/"),
    ],
)
def test_unclean_paths_get_a_307_to_the_cleaned_path_with_the_query(
    pinned: Api, target: str, location: str
) -> None:
    raw = raw_request(pinned.url, target)
    assert (raw.status, raw.header("Location")) == (307, location)
    assert raw.header("Content-Type") == "text/html; charset=utf-8"
    href = location.replace("&", "&amp;")
    assert raw.body == f'<a href="{href}">Temporary Redirect</a>.\n\n'.encode()


def test_a_redirected_post_has_no_body_and_clean_paths_are_not_redirected(pinned: Api) -> None:
    posted = raw_request(pinned.url, "//teams/members", "POST")
    assert (posted.status, posted.header("Location")) == (307, "/teams/members")
    assert posted.body == b"" and posted.header("Content-Type") is None
    for target in ("/health", "/repos/acme-corp/web-app", "/teams/members"):
        assert raw_request(pinned.url, target).status == 200, target
    assert (
        raw_request(pinned.url, "/health/").status == 404
    )  # a trailing slash is clean, not /health


def test_the_redirect_comes_after_auth_and_spends_a_token() -> None:
    """The limiter and auth wrap the mux: an unclean path is refused without credentials (the exemption
    is for `/health` as sent) and every redirect costs a token."""
    with run_double(developers=2, rate_limit_per_minute=4) as url:
        assert raw_request(url, "//health", auth=False).status == 401
        assert raw_request(url, "/health", auth=False).status == 200
        assert raw_request(url, "//health").status == 307
        assert raw_request(url, "/a/../health").status == 307
        assert raw_request(url, "//health").status == 429  # four tokens, four requests before it
        stats = httpx.get(url + "/_double/stats", timeout=10).json()
    assert stats["by_status"] == {"401": 1, "200": 1, "307": 2, "429": 1}


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("/", "/"),
        ("", "/"),
        ("health", "/health"),
        ("/abc//def", "/abc/def"),
        ("/abc/./def/", "/abc/def/"),
        ("/abc/def/..", "/abc"),
        ("/abc/def/../", "/abc/"),
        ("/..", "/"),
        ("/../x/..//y/.", "/y"),
        ("/a/b/c/../../d", "/a/d"),
        ("///", "/"),
        ("/a/.../b", "/a/.../b"),
    ],
)
def test_clean_path_is_go_s_mux_clean_path(path: str, cleaned: str) -> None:
    assert clean_path(path) == cleaned


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
