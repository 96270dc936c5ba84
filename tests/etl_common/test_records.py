import json

import pyarrow as pa
import pytest

from etl_common.errors import SchemaViolation
from etl_common.records import ConversionReport, to_arrow
from etl_common.schemas import raw_schema, schema_fingerprint

PR = {
    "id": 191,
    "number": 191,
    "title": "feat: x",
    "body": "b",
    "state": "merged",
    "author_id": "user_001",
    "author_email": "a@x",
    "author_name": "A",
    "repo_name": "o/r",
    "base_branch": "main",
    "head_branch": "feature/t",
    "reviewers": None,
    "labels": None,
    "additions": 181,
    "deletions": 23,
    "initial_additions": 0,
    "changed_files": 0,
    "commit_count": 1,
    "ai_ratio": 1,
    "tab_lines": 100,
    "composer_lines": 53,
    "commit_ids": ["98791b36913a"],
    "created_at": "2026-10-20T16:05:58.0196Z",
    "updated_at": "2026-10-20T16:24:58.019600676Z",
    "merged_at": "2026-10-23T16:05:58Z",
    "was_reverted": False,
    "is_bug_fix": False,
}


def convert(entity, records, report=None):
    return to_arrow(entity, records, load_id="L", extracted_at_ns=7, report=report)


def test_missing_optional_keys_become_nulls_and_ints_fit_float_fields() -> None:
    t = convert("pull_requests", [PR])
    row = {n: t.column(n)[0] for n in ("closed_at", "ai_ratio", "reviewers")}
    assert not row["closed_at"].is_valid
    assert row["ai_ratio"].as_py() == 1.0
    assert not row["reviewers"].is_valid
    assert t.schema == raw_schema("pull_requests")
    assert t.column("updated_at").cast(pa.int64())[0].as_py() % 1_000_000_000 == 19_600_676


def test_unknown_fields_are_kept_as_json_and_counted() -> None:
    report = ConversionReport()
    t = convert("pull_requests", [{**PR, "new_field": {"a": 1}}, PR], report)
    assert report.unknown_fields == {"new_field": 1}
    assert json.loads(t.column("_extra")[0].as_py()) == {"new_field": {"a": 1}}
    assert t.column("_extra")[1].as_py() is None


def test_presence_is_counted_per_field_missing_apart_from_null() -> None:
    report = ConversionReport()
    open_pr = {k: v for k, v in PR.items() if k != "merged_at"} | {"state": "open", "title": None}
    renamed = {k: v for k, v in PR.items() if k != "merged_at"} | {"mergedAt": PR["merged_at"]}
    convert("pull_requests", [PR, open_pr, renamed], report)
    stats = report.field_stats("pull_requests")
    assert report.rows == 3
    assert stats["title"] == {"missing": 0, "null": 1}
    assert stats["closed_at"] == {
        "missing": 3,
        "null": 0,
        "when": "state = closed",
        "when_rows": 0,
        "when_valued": 0,
    }
    assert stats["merged_at"] == {
        "missing": 2,
        "null": 0,
        "when": "state = merged",
        "when_rows": 2,  # PR and the renamed one
        "when_valued": 1,
    }
    assert stats["reviewers"] == {"missing": 0, "null": 3}
    assert stats["id"] == {"missing": 0, "null": 0}
    assert report.unknown_fields == {"mergedAt": 1}
    # counting a subset without converting it gives what converting it would have
    again = ConversionReport.of("pull_requests", [open_pr, renamed])
    converted = ConversionReport()
    convert("pull_requests", [open_pr, renamed], converted)
    assert again == converted
    both = ConversionReport()
    both.merge(again)
    both.merge(ConversionReport.of("pull_requests", [PR]))
    assert both.field_stats("pull_requests") == stats


def test_missing_required_field_names_entity_field_and_example() -> None:
    broken = {k: v for k, v in PR.items() if k != "author_id"}
    with pytest.raises(
        SchemaViolation, match=r"pull_requests\.author_id: required field.*example record.*191"
    ):
        convert("pull_requests", [PR, broken])


def test_wrong_type_names_the_offending_value() -> None:
    with pytest.raises(
        SchemaViolation, match=r"pull_requests\.additions: value 'many' is not of type int64"
    ):
        convert("pull_requests", [PR, {**PR, "id": 2, "additions": "many"}])


def test_bad_timestamp_is_a_schema_violation() -> None:
    with pytest.raises(SchemaViolation, match=r"reviews\.submitted_at"):
        convert(
            "reviews",
            [
                {
                    "id": 1,
                    "pr_id": 1,
                    "reviewer": "a@x",
                    "state": "approved",
                    "submitted_at": "last tuesday",
                }
            ],
        )


def test_review_comments_keep_nested_timestamps() -> None:
    review = {
        "id": 1,
        "pr_id": 11,
        "reviewer": "a@x",
        "state": "changes_requested",
        "submitted_at": "2026-09-10T14:11:10.852104229Z",
        "body": "?",
        "comments": [
            {
                "id": 5,
                "pr_number": 11,
                "repo_name": "o/r",
                "author_id": "a@x",
                "body": "b",
                "state": "changes_requested",
                "created_at": "2026-09-10T14:12:10.852104229Z",
            }
        ],
    }
    t = convert("reviews", [review, {**review, "id": 2, "comments": None}])
    comments = t.column("comments")
    assert comments[1].as_py() is None
    created = comments[0].values.field("created_at").cast(pa.int64())[0].as_py()
    assert created % 1_000_000_000 == 852_104_229


def test_fingerprint_changes_with_type_or_nullability() -> None:
    s = raw_schema("repos")
    assert schema_fingerprint(s) == schema_fingerprint(raw_schema("repos"))
    changed = s.set(1, pa.field("default_branch", pa.large_string()))
    assert schema_fingerprint(changed) != schema_fingerprint(s)
    assert schema_fingerprint(s.set(0, s.field(0).with_nullable(True))) != schema_fingerprint(s)


def test_schemas_survive_a_parquet_round_trip_unchanged(tmp_path) -> None:
    import pyarrow.parquet as pq

    for entity in ("commits", "pull_requests", "reviews", "repos"):
        path = tmp_path / f"{entity}.parquet"
        pq.write_table(raw_schema(entity).empty_table(), path)
        assert schema_fingerprint(pq.read_schema(path)) == schema_fingerprint(raw_schema(entity)), (
            entity
        )
