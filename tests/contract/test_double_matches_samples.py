"""Replay every recorded upstream request against the double and compare status, content type, the headers
that matter, and the body: byte-identical for errors and constant bodies, same JSON shape otherwise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from dev_stack.double import run_double

from ..samples import SAMPLES_DIR, find_samples_dir, samples_dir
from .shapes import mismatches, schema_of

KEY = "cursor-sim-dev-key"
# Endpoints the double deliberately does not serve (derived analytics the loader never reads).
NOT_SERVED = (
    "/analytics/ai-code/commits.csv",
    "/analytics/by-user/",
    "/analytics/github/issues",
    "/analytics/github/pr-cycle-time",
    "/analytics/github/review-quality",
    "/analytics/team/",
)
HEADERS_THAT_MATTER = (
    "www-authenticate",
    "retry-after",
    "x-content-type-options",
    "content-disposition",
)
TRANSPORT_HEADERS = {"date", "content-length", "transfer-encoding", "connection", "content-type"}
# Identities in recorded URLs that only exist in the recorded universe, replaced by the double's own.
RECORDED_EMAIL = "dev0001%40example.com"
RECORDED_PR = "/pulls/6"


@dataclass
class Sample:
    name: str
    method: str
    target: str  # path + query, {BASE} removed
    auth: tuple[str, str] | None
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def load_samples() -> list[Sample]:
    directory = samples_dir()
    out = []
    for meta_path in sorted(directory.glob("*.meta.json")):
        meta = json.loads(meta_path.read_text())
        request = meta["request"]
        auth = None
        if request.get("auth"):
            scheme, _, creds = request["auth"].partition(" ")
            assert scheme == "basic", meta_path
            user, _, password = creds.partition(":")
            auth = (user, password)
        name = meta_path.name.removesuffix(".meta.json")
        if "wrong_key" in name:
            # The recording's meta names the right key for this sample, but the request it documents
            # (and the 401 without a challenge it got) used a wrong one: replay what it documents.
            auth = ("not-the-key", "")
        out.append(
            Sample(
                name=name,
                method=request["method"],
                target=request["url"].replace("{BASE}", ""),
                auth=auth,
                status=meta["status"],
                headers={k.lower(): v for k, v in meta["headers"].items()},
                body=(directory / meta["body_file"]).read_bytes(),
            )
        )
    return out


# absent: the presence test skips (or fails in CI)
SAMPLES = load_samples() if find_samples_dir() else []
SERVED = [s for s in SAMPLES if not s.path.startswith(NOT_SERVED) and s.status != 429]
RATE_LIMITED = [s for s in SAMPLES if s.status == 429]


def _cases(samples: list[Sample]) -> list[Any]:
    """One case per sample; without samples one skipped case that says why (not pytest's bare
    "got empty parameter set"). The presence test above fails in CI instead."""
    if samples:
        return [pytest.param(s, id=s.name) for s in samples]
    reason = f"recorded cursor-sim samples not found at {SAMPLES_DIR} nor in $CONTRACT_SAMPLES_DIR"
    return [pytest.param(None, id="no-samples", marks=pytest.mark.skip(reason=reason))]


def test_the_samples_are_present_and_every_one_is_either_replayed_or_knowingly_not_served() -> None:
    samples = load_samples()
    assert len(samples) >= 40
    skipped = {s.name for s in samples if s.path.startswith(NOT_SERVED)}
    assert skipped == {
        "analytics_ai-code_commits_csv.page_all",
        "analytics_by-user_tabs",
        "analytics_github_issues.page1",
        "analytics_github_pr-cycle-time",
        "analytics_github_review-quality",
        "analytics_team_dau",
        "analytics_team_models",
    }
    assert len(RATE_LIMITED) == 1


@dataclass
class Live:
    url: str
    email: str
    pr_number: int


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with run_double(developers=2, days=90, seed=42, rate_limit_per_minute=0) as url:
        auth = (KEY, "")
        members = httpx.get(url + "/teams/members", auth=auth, timeout=10).json()["teamMembers"]
        # a PR of acme-corp/payment-service that carries a review with comments (like recorded PR 6)
        reviewer = members[1]["email"]
        reviews = httpx.get(
            url + "/analytics/github/reviews",
            auth=auth,
            timeout=10,
            params={"reviewer": reviewer, "page_size": 100},
        ).json()["data"]
        pr_number = next(r["pr_id"] for r in reviews if "comments" in r)
        yield Live(url, members[0]["email"], pr_number)


def _target(sample: Sample, live: Live) -> str:
    target = sample.target.replace(RECORDED_EMAIL, quote(live.email))
    if sample.status == 200:
        target = target.replace(RECORDED_PR + "/", f"/pulls/{live.pr_number}/")
        if target.endswith(RECORDED_PR):
            target = target[: -len(RECORDED_PR)] + f"/pulls/{live.pr_number}"
    return target


def assert_matches(sample: Sample, response: httpx.Response) -> None:
    assert response.status_code == sample.status, response.text
    assert response.headers.get("content-type") == sample.headers.get("content-type")
    for header in HEADERS_THAT_MATTER:
        assert response.headers.get(header) == sample.headers.get(header), header
    extra = set(response.headers) - TRANSPORT_HEADERS - set(sample.headers)
    assert not extra, f"headers the upstream does not send: {extra}"
    assert response.content.endswith(b"\n")
    if sample.status >= 400 or sample.name == "health":
        assert response.content == sample.body
        return
    problems = mismatches(schema_of(json.loads(sample.body)), response.json())
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("sample", _cases(SERVED))
def test_the_double_answers_like_the_recorded_upstream(sample: Sample, live: Live) -> None:
    response = httpx.request(
        sample.method, live.url + _target(sample, live), auth=sample.auth, timeout=10
    )
    assert_matches(sample, response)


@pytest.mark.parametrize("sample", _cases(RATE_LIMITED))
def test_an_exhausted_bucket_answers_like_the_recorded_429(sample: Sample) -> None:
    with (
        run_double(developers=2, rate_limit_per_minute=5) as url,
        httpx.Client(timeout=10) as client,
    ):
        for _ in range(5):
            assert client.get(url + "/health").status_code == 200
        response = client.request(sample.method, url + sample.target, auth=sample.auth)
    assert_matches(sample, response)


def test_shape_comparison_catches_a_missing_field(live: Live) -> None:
    """The comparison itself must have teeth: a record without a required key is reported."""
    samples_dir()
    sample = next(s for s in SAMPLES if s.name == "repos_owner_repo_pulls.page1")
    recorded: list[dict[str, Any]] = json.loads(sample.body)
    broken = [dict(recorded[0])]
    del broken[0]["author_id"]
    broken[0]["surprise"] = 1
    problems = mismatches(schema_of(recorded), broken)
    assert any("author_id" in p for p in problems) and any("surprise" in p for p in problems)
