"""Contract section 10.3, on the wire of a real double (a subprocess on a free 127.0.0.1 port): response
framing, header names, unclean paths and their redirects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

import httpx
import pytest

from dev_stack.double import run_double
from fake_cursor_sim.app import clean_path
from fake_cursor_sim.responses import CHUNKING_THRESHOLD, Resp, send_resp

from ..samples import samples_dir
from .conftest import Api, raw_request

WIDE = {"startDate": "2000-01-01", "endDate": "2100-01-01"}
COMMITS = "/analytics/ai-code/commits"
BAD_DATE = b'{"error":"invalid {}: must be YYYY-MM-DD, ISO 8601, or relative format (7d, 30d, now, today)"}\n'


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
