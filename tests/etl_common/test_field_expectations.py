"""The per-field presence promises the drift checks rely on hold for every record the real upstream sent
(`../shared/contract-samples`): a promise the upstream itself breaks would fail every load."""

from __future__ import annotations

import json
from typing import Any

import pytest

from etl_common.records import ConversionReport
from etl_common.schemas import FIELD_EXPECTATIONS, SOURCE_SCHEMAS

from ..samples import samples_dir

SAMPLES = {
    "commits": ("analytics_ai-code_commits.page1.json", "repos_owner_repo_commits.page1.json"),
    "pull_requests": (
        "analytics_github_prs.page1.json",
        "analytics_github_prs.author_partition_200dev.json",
        "repos_owner_repo_pulls.page1.json",
        "repos_owner_repo_pulls.state_open.json",
        "repos_owner_repo_pulls_n.json",
    ),
    "reviews": (
        "analytics_github_reviews.page1.json",
        "analytics_github_reviews.reviewer_partition_200dev.json",
        "repos_owner_repo_pulls_n_reviews.json",
    ),
    "repos": ("repos.json", "repos_owner_repo.json"),
}


def records(entity: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in SAMPLES[entity]:
        body = json.loads((samples_dir() / name).read_bytes())
        if isinstance(body, dict):
            body = body.get("items", body.get("data", [body]))
        out.extend(body)
    assert out, entity
    return out


def test_every_contract_field_has_one_expectation() -> None:
    for entity, schema in SOURCE_SCHEMAS.items():
        assert list(FIELD_EXPECTATIONS[entity]) == schema.names
        for name, x in FIELD_EXPECTATIONS[entity].items():
            assert (x.presence == "when") == (x.when is not None), (entity, name)
            if not schema.field(name).nullable:
                assert x.presence == "always" and x.mart, (entity, name)
    assert FIELD_EXPECTATIONS["pull_requests"]["merged_at"].mart


@pytest.mark.parametrize("entity", list(SAMPLES))
def test_recorded_upstream_records_meet_every_expectation(entity: str) -> None:
    rows = records(entity)
    stats = ConversionReport.of(entity, rows).field_stats(entity)
    for name, x in FIELD_EXPECTATIONS[entity].items():
        s = stats[name]
        empty = s["missing"] + s["null"]
        if x.presence == "always":
            assert empty == 0, (entity, name, s)
        elif x.presence == "when":
            # a value exactly where the condition holds, and the key missing elsewhere
            assert s["when_valued"] == s["when_rows"], (entity, name, s)
            assert s["missing"] == len(rows) - s["when_rows"] and s["null"] == 0, (entity, name, s)
        elif x.presence == "null":
            assert s["null"] == len(rows), (entity, name, s)
    if entity == "pull_requests":
        assert 0 < stats["merged_at"]["when_rows"] < len(rows)
    if entity == "reviews":
        assert 0 < stats["comments"]["missing"] < len(rows)  # optional: missing on some, not all
