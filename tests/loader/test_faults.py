"""Faults through real HTTP: each run ends complete and correct, or failed with no manifest and a message
naming the cause. Nothing partial is ever published as complete."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from etl_common.manifest import Manifest

from .conftest import Double, run_loader

FAST = ("--rate-limit-per-minute", "100000")


def assert_complete(double: Double, result, tmp_path: Path) -> Manifest:
    assert result.code == 0, result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == 1, result.stdout
    manifest = Manifest.parse(Path(result.last_line).read_bytes())
    totals = double.stats()
    assert manifest.entities["commits"].rows == totals["total_commits"]
    assert manifest.entities["pull_requests"].rows == totals["total_prs"]
    assert manifest.entities["reviews"].rows == totals["total_reviews"]
    return manifest


def assert_failed_without_manifest(result, tmp_path: Path, code: int, *phrases: str) -> str:
    assert result.code == code, result.stdout + result.stderr
    assert result.stdout == "", "stdout carries the manifest location only, and only on success"
    errors = [log for log in result.logs() if log["severity"] == "ERROR"]
    assert len(errors) == 1, errors
    assert result.logs()[-1] == errors[0], "the error is the run's last word"
    for phrase in phrases:
        assert phrase in errors[0]["message"], errors[0]["message"]
    assert not (tmp_path / "manifests").exists()
    return errors[0]["message"]


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "status", "status": 503, "times": 3, "path_prefix": "/analytics/github/prs"},
        {"kind": "status", "status": 500, "times": 2, "path_prefix": "/analytics/ai-code/commits"},
        {"kind": "drop", "times": 2, "path_prefix": "/analytics/github/reviews"},
        {"kind": "truncate", "times": 2, "path_prefix": "/analytics/ai-code/commits"},
        {"kind": "status", "status": 502, "times": 1, "path_prefix": "/admin/stats"},
    ],
    ids=["503-burst-prs", "500-commits", "dropped-connections", "truncated-json", "502-stats"],
)
def test_transient_faults_are_retried_to_a_complete_load(
    fresh_double: Double, tmp_path: Path, rule: dict
) -> None:
    fresh_double.faults(rule)
    manifest = assert_complete(
        fresh_double, run_loader(fresh_double.url, tmp_path, *FAST), tmp_path
    )
    assert manifest.requests["retried_errors"] >= rule.get("times", 1)


def test_responses_slower_than_the_timeout_are_retried(
    fresh_double: Double, tmp_path: Path
) -> None:
    fresh_double.faults({"kind": "delay", "seconds": 3, "times": 1, "path_prefix": "/repos"})
    result = run_loader(fresh_double.url, tmp_path, *FAST, env={"LOADER_TIMEOUT_S": "1"})
    manifest = assert_complete(fresh_double, result, tmp_path)
    assert manifest.requests["retried_errors"] >= 1


def test_persistent_server_errors_fail_transiently_without_manifest(
    fresh_double: Double, tmp_path: Path
) -> None:
    fresh_double.faults(
        {"kind": "status", "status": 503, "times": 1000, "path_prefix": "/analytics/github/reviews"}
    )
    result = run_loader(fresh_double.url, tmp_path, *FAST, env={"LOADER_MAX_ATTEMPTS": "3"})
    assert_failed_without_manifest(
        result, tmp_path, 75, "/analytics/github/reviews", "gave up after 3 attempts", "HTTP 503"
    )


def test_a_removed_required_field_fails_naming_entity_field_and_example(
    fresh_double: Double, tmp_path: Path
) -> None:
    fresh_double.faults(
        {
            "kind": "remove_field",
            "field": "author_id",
            "times": 1000,
            "path_prefix": "/analytics/github/prs",
        }
    )
    result = run_loader(fresh_double.url, tmp_path, *FAST)
    assert_failed_without_manifest(
        result,
        tmp_path,
        1,
        "pull_requests.author_id",
        "required field is missing",
        "example record",
    )


def test_regeneration_mid_run_discards_the_load(fresh_double: Double, tmp_path: Path) -> None:
    fresh_double.faults(
        {"kind": "regenerate", "times": 1, "after": 2, "path_prefix": "/analytics/github/reviews"}
    )
    result = run_loader(fresh_double.url, tmp_path, *FAST)
    message = assert_failed_without_manifest(
        result, tmp_path, 75, "regenerated", "no manifest written"
    )
    assert "earliest commit changed" in message


def test_a_regeneration_with_the_same_totals_is_still_caught(
    fresh_double: Double, tmp_path: Path
) -> None:
    # new hashes and PR numbers, identical totals: a totals-only identity would publish a mixed load
    fresh_double.faults(
        {
            "kind": "regenerate",
            "times": 1,
            "after": 1,
            "same_totals": True,
            "path_prefix": "/analytics/github/reviews",
        }
    )
    before = fresh_double.stats()
    result = run_loader(fresh_double.url, tmp_path, *FAST)
    assert fresh_double.served()["regenerations"] == 1
    assert fresh_double.stats() == before
    message = assert_failed_without_manifest(result, tmp_path, 75, "no manifest written")
    assert "earliest commit changed" in message


def test_a_competing_client_causes_429s_that_are_absorbed(tmp_path: Path) -> None:
    """Another client spends the shared budget; we must slow down, retry, and still finish complete."""
    from dev_stack.double import run_double

    with run_double(developers=2, days=90, seed=5, rate_limit_per_minute=240) as url:
        double = Double(url)
        stop, drained = threading.Event(), threading.Event()

        def hog() -> None:
            """Empty the shared bucket, then keep taking every token for 6 s (bounded: 3,000 requests)."""
            with httpx.Client(timeout=5) as client:
                deadline = time.monotonic() + 30
                for _ in range(3000):
                    if stop.is_set() or time.monotonic() > deadline:
                        return
                    if client.get(url + "/health").status_code == 429 and not drained.is_set():
                        drained.set()
                        deadline = time.monotonic() + 6
                    if drained.is_set():
                        time.sleep(0.02)

        thread = threading.Thread(target=hog, daemon=True)
        thread.start()
        try:
            assert drained.wait(timeout=20), "the competing client never emptied the bucket"
            result = run_loader(url, tmp_path, "--rate-limit-per-minute", "240", timeout=120)
        finally:
            stop.set()
            thread.join(timeout=10)
        manifest = assert_complete(double, result, tmp_path)
    assert manifest.requests["throttled_429"] > 0


def test_without_the_filtered_lists_the_fallback_is_still_complete(
    fresh_double: Double, tmp_path: Path
) -> None:
    fresh_double.faults(
        {"kind": "status", "status": 404, "times": 100000, "path_prefix": "/analytics/github/prs"},
        {
            "kind": "status",
            "status": 404,
            "times": 100000,
            "path_prefix": "/analytics/github/reviews",
        },
    )
    result = run_loader(fresh_double.url, tmp_path, *FAST, timeout=300)
    manifest = assert_complete(fresh_double, result, tmp_path)
    assert set(manifest.requests["fallbacks"]) == {"pull_requests", "reviews"}
    assert (
        manifest.requests["by_endpoint"]["/repos/*/*/pulls/*/reviews"]
        == manifest.entities["pull_requests"].rows
    )
