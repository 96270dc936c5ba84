"""`dbt build --target prod` on fakesnow beside `--target dev` on DuckDB, from one manifest, with the
staging and mart contents compared row for row and column for column."""

from __future__ import annotations

import json

import pytest

from .harness import BuiltPair, compare

pytestmark = [pytest.mark.emulator]


def _summary(pair: BuiltPair) -> dict[str, object]:
    return {
        "dataset": pair.name,
        "raw_rows": pair.raw_rows,
        "dev": {"seconds": round(pair.dev.seconds, 1), **_counts(pair, "dev")},
        "prod": {"seconds": round(pair.prod.seconds, 1), **_counts(pair, "prod")},
    }


def _counts(pair: BuiltPair, which: str) -> dict[str, int]:
    run = pair.dev if which == "dev" else pair.prod
    return {f"{t}:{s}": n for (t, s), n in sorted(run.statuses().items())}


def _assert_green_and_equal(pair: BuiltPair) -> None:
    assert pair.dev.returncode == 0, pair.dev.stdout[-4000:]
    assert pair.prod.returncode == 0, pair.prod.stdout[-4000:]
    print("BUILD", json.dumps(_summary(pair)))
    assert pair.dev.statuses() == pair.prod.statuses()
    assert not [k for k in pair.prod.statuses() if k[1] in ("error", "fail", "skipped")]
    diffs = compare(pair)
    for d in diffs:
        print(
            "PARITY",
            d.table,
            "rows",
            d.rows,
            "columns",
            d.columns,
            "OK" if not d.mismatches else "",
        )
    assert {d.table for d in diffs} >= {
        "staging.stg_commits",
        "staging.stg_pull_requests",
        "staging.stg_reviews",
        "staging.stg_repos",
        "mart.velocity",
        "mart.review_costs",
        "mart.quality",
        "mart.ai_impact",
    }
    assert [(d.table, d.mismatches) for d in diffs if d.mismatches] == []
    assert all(d.rows[0] > 0 for d in diffs if d.table.startswith("mart.")), diffs


def test_edge_dataset_builds_green_on_both_targets_with_identical_contents(edge_pair: BuiltPair):
    _assert_green_and_equal(edge_pair)


@pytest.mark.slow
def test_50_developer_dataset_builds_green_on_both_targets_with_identical_contents(
    generated_50_pair: BuiltPair,
):
    _assert_green_and_equal(generated_50_pair)
