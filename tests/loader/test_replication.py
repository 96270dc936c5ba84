"""The upstream's own default deployment: developers replicated from a small seed (contract 4.7, 10.2).

Clone-authored PRs have no author email, so the loader must find them without per-author lists: day
partitions that each fit one page, a status split for busy days, bounded samples for days over a page of one
status, and the missing ids fetched one by one. Every run here goes through the real job CLI, real HTTP and
real Parquet, and must match the double's own totals exactly.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dev_stack.double import run_double
from etl_common.manifest import Manifest

from .conftest import Double, run_loader

FAST = ("--rate-limit-per-minute", "100000")
NOW = datetime(2026, 11, 30, 17, tzinfo=UTC)


def load(url: str, tmp_path: Path) -> tuple[Manifest, Double]:
    result = run_loader(url, tmp_path, *FAST)
    assert result.code == 0, result.stdout + result.stderr
    manifest = Manifest.parse(Path(result.last_line).read_bytes())
    double = Double(url)
    totals = double.stats()
    assert manifest.entities["commits"].rows == totals["total_commits"]
    assert manifest.entities["pull_requests"].rows == totals["total_prs"]
    assert manifest.entities["reviews"].rows == totals["total_reviews"]
    assert all(c.ok for c in manifest.checks if c.blocking), manifest.checks
    assert manifest.requests["pr_mode"] == "day_partition"
    return manifest, double


def pr_ids(manifest: Manifest, tmp_path: Path) -> list[int]:
    path = tmp_path / manifest.entities["pull_requests"].files[0].path
    return pq.read_table(path, columns=["id"]).column("id").to_pylist()


@pytest.mark.slow
def test_replicated_developers_are_loaded_completely_by_day_partitions(tmp_path: Path) -> None:
    with run_double(developers=20, seed_developers=2, days=30, seed=5, now=NOW) as url:
        manifest, double = load(url, tmp_path)
        members = double.get("/teams/members")["teamMembers"]
        assert len(members) == 20 and double.stats()["total_developers"] == 2
        # most PRs have no author email: a per-author plan could not have found them
        clone_prs = double.get("/analytics/github/prs", author="", page_size=1)["pagination"]
        assert clone_prs["total"] == double.stats()["total_prs"]
        seed_reviewers = [m["email"] for m in members if not m["email"].startswith("clone")]
        review_pages = sum(
            math.ceil(
                double.get("/analytics/github/reviews", reviewer=e, page_size=1)["pagination"][
                    "total"
                ]
                / 100
            )
            for e in seed_reviewers
        )
    assert sorted(pr_ids(manifest, tmp_path)) == list(
        range(1, manifest.entities["pull_requests"].rows + 1)
    )
    parts = manifest.requests["pr_partitions"]
    by_endpoint = manifest.requests["by_endpoint"]
    # one request per window, three more per split day, and the samples: nothing per author
    assert by_endpoint["/analytics/github/prs"] == (
        parts["windows"]
        + 3 * parts["split_by_status"]
        + parts["sampling_requests"]
        - parts["sampled_windows"]
    )
    # only the seed developers review, so only they are asked
    assert by_endpoint["/analytics/github/reviews"] == review_pages
    identity = manifest.source.identity
    assert identity["start"]["first_commit"] == identity["end"]["first_commit"]
    assert identity["start"]["first_commit"]["commitHash"]


@pytest.mark.slow
def test_days_over_a_page_of_one_status_are_sampled_then_gap_filled(tmp_path: Path) -> None:
    # 120 developers over 10 days: about 180 merged PRs a day, far over one page
    with run_double(developers=120, seed_developers=2, days=10, seed=3, now=NOW) as url:
        manifest, _ = load(url, tmp_path)
    parts = manifest.requests["pr_partitions"]
    assert parts["split_by_status"] >= 8 and parts["sampled_windows"] >= 8, parts
    rows = manifest.entities["pull_requests"].rows
    assert sorted(pr_ids(manifest, tmp_path)) == list(range(1, rows + 1))


@pytest.mark.slow
def test_a_pr_opened_in_the_last_second_of_a_day_is_fetched_by_id(tmp_path: Path) -> None:
    # This generation has PR 451 at 2026-11-22T23:59:59.86Z: `end_date=2026-11-22` stops at 23:59:59.000
    # and `start_date=2026-11-23` starts after it, so no day window holds it.
    with run_double(developers=10, seed_developers=2, days=30, seed=192, now=NOW) as url:
        edge = Double(url).get("/repos/acme-corp/payment-service/pulls/451")
        if "message" in edge:
            edge = Double(url).get("/repos/acme-corp/web-app/pulls/451")
        assert edge["created_at"] == "2026-11-22T23:59:59.860697881Z"
        day = Double(url).get(
            "/analytics/github/prs", start_date="2026-11-22", end_date="2026-11-22", page_size=100
        )
        assert 451 not in {pr["id"] for pr in day["data"]}
        manifest, _ = load(url, tmp_path)
    assert manifest.requests["pr_partitions"]["gap_filled"] >= 1
    assert 451 in pr_ids(manifest, tmp_path)


def test_seed_only_data_keeps_the_per_author_plan(double_2dev: Double, tmp_path: Path) -> None:
    result = run_loader(double_2dev.url, tmp_path, *FAST)
    assert result.code == 0, result.stdout + result.stderr
    manifest = Manifest.parse(Path(result.last_line).read_bytes())
    assert manifest.requests["pr_mode"] == "per_author"
    assert "pr_partitions" not in manifest.requests
    assert manifest.requests["fallbacks"] == {}
