"""Schema drift through real processes: the double drops, renames or nulls a field on the wire; the loader
job fails naming the field (no manifest, nothing published, the previous load untouched) when a mart depends
on it, and succeeds with a recorded warning when none does."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from etl_common.manifest import Manifest

from ..service_harness import run_service, wait_for
from .conftest import CliResult, Double, run_loader

FAST = ("--rate-limit-per-minute", "100000")
PRS = "/analytics/github/prs"
REVIEWS = "/analytics/github/reviews"


def field_fault(kind: str, field: str, path_prefix: str, **extra: str) -> dict:
    return {"kind": kind, "field": field, "path_prefix": path_prefix, "times": 100000, **extra}


def good_load(double: Double, root: Path) -> tuple[Manifest, Path, bytes]:
    result = run_loader(double.url, root, *FAST)
    assert result.code == 0, result.stderr[-3000:]
    path = Path(result.last_line)
    return Manifest.parse(path.read_bytes()), path, path.read_bytes()


def merged_prs(double: Double) -> int:
    return int(double.get(PRS, status="merged", page_size=1)["pagination"]["total"])


def the_error(result: CliResult) -> str:
    assert result.stdout == "", "stdout carries the manifest location only, and only on success"
    errors = [line for line in result.logs() if line["severity"] == "ERROR"]
    assert len(errors) == 1 and result.logs()[-1] == errors[0], result.stderr[-3000:]
    assert errors[0]["error_type"] == "SchemaDriftError"
    return str(errors[0]["message"])


def published_loads(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and p.name != "manifests"}


def test_a_vanished_merged_at_fails_the_load_and_leaves_the_previous_one_untouched(
    fresh_double: Double, tmp_path: Path
) -> None:
    before, before_path, before_bytes = good_load(fresh_double, tmp_path)
    merged = before.entities["pull_requests"].field_stats["merged_at"]
    assert merged.when == "state = merged" and merged.missing > 0
    assert merged.when_rows == merged.when_valued == merged_prs(fresh_double) > 0

    fresh_double.faults(field_fault("remove_field", "merged_at", PRS))
    result = run_loader(fresh_double.url, tmp_path, *FAST)
    assert result.code == 1, result.stderr[-3000:]
    message = the_error(result)
    assert "no manifest written" in message
    assert (
        f"pull_requests.merged_at: expected a value on every row with state = merged, got no value "
        f"on any of the {merged.when_rows} rows with state = merged: the key is missing from every "
        f"row (load {before.load_id} had a value on {merged.when_valued} of "
        f"{before.entities['pull_requests'].rows} rows)"
    ) in message, message
    assert "\n" not in message
    # nothing published, the previous load and its manifest exactly as they were
    assert sorted((tmp_path / "manifests").iterdir()) == [before_path]
    assert before_path.read_bytes() == before_bytes
    assert published_loads(tmp_path) == {before.load_id}


@pytest.mark.parametrize(
    ("rule", "phrases"),
    [
        (
            field_fault("rename_field", "merged_at", PRS, to="mergedAt"),
            (
                "pull_requests.merged_at",
                "the key is missing from every row",
                "probable rename to `mergedAt` on",
            ),
        ),
        (
            field_fault("null_field", "ai_ratio", PRS),
            (
                "pull_requests.ai_ratio: expected a value on every row, got no value on any of the",
                "null on every row",
            ),
        ),
    ],
    ids=["renamed-merged_at", "all-null-ai_ratio"],
)
def test_a_first_load_with_a_mart_field_gone_fails_by_the_contract_alone(
    fresh_double: Double, tmp_path: Path, rule: dict, phrases: tuple[str, ...]
) -> None:
    fresh_double.faults(rule)
    result = run_loader(fresh_double.url, tmp_path, *FAST)
    assert result.code == 1, result.stderr[-3000:]
    message = the_error(result)
    for phrase in phrases:
        assert phrase in message, message
    assert not (tmp_path / "manifests").exists()
    assert published_loads(tmp_path) == set()


def test_a_renamed_merged_at_names_the_rename_and_its_row_count(
    fresh_double: Double, tmp_path: Path
) -> None:
    fresh_double.faults(field_fault("rename_field", "merged_at", PRS, to="mergedAt"))
    message = the_error(run_loader(fresh_double.url, tmp_path, *FAST))
    n = merged_prs(fresh_double)
    assert f"the {n} rows with state = merged" in message
    assert f"probable rename to `mergedAt` on {n} rows, kept in _extra" in message, message


def test_an_informational_field_gone_is_a_recorded_warning_and_the_load_succeeds(
    fresh_double: Double, tmp_path: Path
) -> None:
    fresh_double.faults(field_fault("remove_field", "title", PRS))
    result = run_loader(fresh_double.url, tmp_path, *FAST)
    assert result.code == 0, result.stderr[-3000:]
    manifest = Manifest.parse(Path(result.last_line).read_bytes())
    prs = manifest.entities["pull_requests"]
    assert prs.field_stats["title"].missing == prs.rows > 0
    (check,) = [c for c in manifest.checks if c.name == "drift: pull_requests.title"]
    assert not check.ok and not check.blocking
    assert (
        check.actual == f"no value on any of the {prs.rows} rows: the key is missing from every row"
    )
    summary = next(c for c in manifest.checks if c.name.startswith("drift: every field"))
    assert summary.ok and summary.actual == "1 warning(s)"
    last = result.logs()[-1]
    assert last["severity"] == "WARNING"
    assert last["message"].startswith("succeeded with warnings: pull_requests.title: ")


def test_an_optional_field_that_vanished_since_the_previous_load_is_named(
    fresh_double: Double, tmp_path: Path
) -> None:
    """`comments` may be missing on any review, so only the previous load can say it used to be there."""
    before, _, _ = good_load(fresh_double, tmp_path)
    reviews = before.entities["reviews"]
    had = reviews.rows - reviews.field_stats["comments"].missing
    assert 0 < had < reviews.rows
    assert not [c for c in before.checks if c.name.startswith("drift: reviews")]
    fresh_double.faults(field_fault("remove_field", "comments", REVIEWS))
    result = run_loader(fresh_double.url, tmp_path, *FAST)
    assert result.code == 0, result.stderr[-3000:]
    manifest = Manifest.parse(Path(result.last_line).read_bytes())
    (check,) = [c for c in manifest.checks if c.name == "drift: reviews.comments"]
    assert not check.blocking
    assert check.expected == f"values, as load {before.load_id} had on {had} of {reviews.rows} rows"


def test_the_service_answers_succeeded_with_warnings(fresh_double: Double, tmp_path: Path) -> None:
    fresh_double.faults(field_fault("remove_field", "title", PRS))
    env = {
        "CURSOR_SIM_URL": fresh_double.url,
        "LOADER_OUTPUT": str(tmp_path / "bucket"),
        "LOADER_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with run_service("loader", env, tmp_path / "loader.log") as url:
        load_id = httpx.post(url + "/runs", timeout=10).json()["load_id"]
        final = wait_for(f"{url}/runs/{load_id}", lambda b: b["state"] != "running", timeout_s=60)
    assert final["state"] == "succeeded", final
    (warning,) = final["warnings"]
    assert warning.startswith("pull_requests.title: expected a value on every row, got no value")
    assert final["outcome"] == f"succeeded with warnings: {warning}"
