"""The typed shape of every raw entity, shared by the loader (writer) and the dbt-runner (reader).

Field names are the upstream's own (commits are camelCase, the GitHub-style objects snake_case), so the raw
layer is the source "exactly as delivered". Timestamps are stored as UTC instants with nanosecond precision
and *no* zone attached: a zone-aware column would let a warehouse session time zone move week boundaries.
Fields the contract marks as sometimes missing are nullable; the rest are required and a record without them
is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, Literal

import pyarrow as pa

TIMESTAMP: Final = pa.timestamp("ns")  # UTC, zone-less on purpose (see module docstring)

LINEAGE_FIELDS: Final = (
    pa.field("_load_id", pa.string(), nullable=False),
    pa.field("_extracted_at", TIMESTAMP, nullable=False),
    # Keys the upstream sent that the contract does not know, as a JSON object; null when there were none.
    pa.field("_extra", pa.string()),
)


def _list(item: pa.DataType) -> pa.DataType:
    # Parquet names list items `element`; naming them so here keeps the schema identical after a round trip.
    return pa.list_(pa.field("element", item))


def _req(name: str, typ: pa.DataType) -> pa.Field:
    return pa.field(name, typ, nullable=False)


def _opt(name: str, typ: pa.DataType) -> pa.Field:
    return pa.field(name, typ, nullable=True)


COMMENT_TYPE: Final = pa.struct(
    [
        _opt("id", pa.int64()),
        _opt("pr_number", pa.int64()),
        _opt("repo_name", pa.string()),
        _opt("author_id", pa.string()),
        _opt("body", pa.string()),
        _opt("state", pa.string()),
        _opt("created_at", TIMESTAMP),
    ]
)

SOURCE_SCHEMAS: Final[dict[str, pa.Schema]] = {
    "commits": pa.schema(
        [
            _req("commitHash", pa.string()),
            _req("userId", pa.string()),
            _opt("userEmail", pa.string()),
            _opt("userName", pa.string()),
            _req("repoName", pa.string()),
            _opt("branchName", pa.string()),
            _opt("isPrimaryBranch", pa.bool_()),
            _req("totalLinesAdded", pa.int64()),
            _req("totalLinesDeleted", pa.int64()),
            _opt("tabLinesAdded", pa.int64()),
            _opt("tabLinesDeleted", pa.int64()),
            _opt("composerLinesAdded", pa.int64()),
            _opt("composerLinesDeleted", pa.int64()),
            _opt("nonAiLinesAdded", pa.int64()),
            _opt("nonAiLinesDeleted", pa.int64()),
            _opt("message", pa.string()),
            _req("commitTs", TIMESTAMP),
            _opt("createdAt", TIMESTAMP),
        ]
    ),
    "pull_requests": pa.schema(
        [
            _req("id", pa.int64()),
            _req("number", pa.int64()),
            _opt("title", pa.string()),
            _opt("body", pa.string()),
            _req("state", pa.string()),
            _req("author_id", pa.string()),
            _opt("author_email", pa.string()),
            _opt("author_name", pa.string()),
            _req("repo_name", pa.string()),
            _opt("base_branch", pa.string()),
            _opt("head_branch", pa.string()),
            _opt("reviewers", _list(pa.string())),
            _opt("labels", _list(pa.string())),
            _opt("additions", pa.int64()),
            _opt("deletions", pa.int64()),
            _opt("initial_additions", pa.int64()),
            _opt("changed_files", pa.int64()),
            _opt("commit_count", pa.int64()),
            _opt("ai_ratio", pa.float64()),
            _opt("tab_lines", pa.int64()),
            _opt("composer_lines", pa.int64()),
            _opt("commit_ids", _list(pa.string())),
            _req("created_at", TIMESTAMP),
            _opt("updated_at", TIMESTAMP),
            _opt("merged_at", TIMESTAMP),
            _opt("closed_at", TIMESTAMP),
            _opt("was_reverted", pa.bool_()),
            _opt("is_bug_fix", pa.bool_()),
        ]
    ),
    "reviews": pa.schema(
        [
            _req("id", pa.int64()),
            _req("pr_id", pa.int64()),
            _req("reviewer", pa.string()),
            _req("state", pa.string()),
            _req("submitted_at", TIMESTAMP),
            _opt("body", pa.string()),
            _opt("comments", _list(COMMENT_TYPE)),
        ]
    ),
    "repos": pa.schema(
        [
            _req("full_name", pa.string()),
            _opt("default_branch", pa.string()),
            _opt("open_pull_requests_count", pa.int64()),
            _opt("total_pull_requests_count", pa.int64()),
        ]
    ),
}

ENTITIES: Final = tuple(SOURCE_SCHEMAS)  # the only names that ever become SQL identifiers

# The natural key of each entity: duplicates are removed on it and its uniqueness is tested downstream.
NATURAL_KEYS: Final[dict[str, str]] = {
    "commits": "commitHash",
    "pull_requests": "id",
    "reviews": "id",
    "repos": "full_name",
}


def raw_schema(entity: str) -> pa.Schema:
    """The schema of the Parquet files the loader writes for `entity`: source fields, then lineage."""
    return pa.schema([*SOURCE_SCHEMAS[entity], *LINEAGE_FIELDS])


def schema_fingerprint(schema: pa.Schema) -> str:
    """A stable digest of names, types and nullability, so a reader can prove it got the files it expects."""
    canonical = "\n".join(f"{f.name}:{f.type}:{'null' if f.nullable else 'req'}" for f in schema)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


# What the contract promises about each source field's presence, and whether a mart depends on it. The loader
# measures every field's presence and null rate as rows stream past and compares them with these promises and
# with the previous load, so a field the upstream drops or renames fails the load instead of emptying a mart.
Presence = Literal["always", "when", "optional", "null"]


@dataclass(frozen=True)
class FieldExpectation:
    """`always`: a value on every record (contract: present, never null). `when`: a value exactly on the
    records where `when` holds (`merged_at` iff `state = merged`); the key is missing elsewhere. `optional`:
    missing on some records by design (`comments`). `null`: sent as null (`reviewers`, `labels`).

    `mart`: a mart's rows or measures depend on it, so losing its values is blocking; otherwise the loss is
    informational (a warning recorded in the manifest)."""

    presence: Presence
    mart: bool
    when: tuple[str, str] | None = None

    def describe_when(self) -> str:
        return f"{self.when[0]} = {self.when[1]}" if self.when else ""


_ALWAYS_MART = FieldExpectation("always", mart=True)
_ALWAYS_INFO = FieldExpectation("always", mart=False)
_NON_NULL_IN = {  # nullable in the Parquet schema, yet always sent with a value (contract sections 2.1-2.6)
    "commits": {
        "userEmail": True,  # velocity.developer_email
        "userName": False,
        "branchName": False,
        "isPrimaryBranch": False,
        "tabLinesAdded": True,  # ai_lines_added, ai_ratio
        "tabLinesDeleted": False,
        "composerLinesAdded": True,
        "composerLinesDeleted": False,
        "nonAiLinesAdded": False,
        "nonAiLinesDeleted": False,
        "message": False,
        "createdAt": False,
    },
    "pull_requests": {
        "title": False,
        "body": False,
        "author_email": False,  # velocity falls back to it only when the commits lack an email
        "author_name": False,
        "base_branch": False,
        "head_branch": False,
        "additions": True,  # pr_size
        "deletions": True,
        "initial_additions": False,
        "changed_files": False,
        "commit_count": False,
        "ai_ratio": True,  # ai_impact bands
        "tab_lines": False,
        "composer_lines": False,
        "commit_ids": True,  # first_commit_at, coding lead time
        "updated_at": False,
        "was_reverted": True,  # quality.revert_rate
        "is_bug_fix": True,  # quality.bug_fix_rate
    },
    "reviews": {"body": False},
    "repos": {
        "default_branch": False,
        "open_pull_requests_count": False,
        "total_pull_requests_count": False,
    },
}
_SPECIAL: dict[str, dict[str, FieldExpectation]] = {
    "pull_requests": {
        # every mart counts merged PRs by the week of merged_at
        "merged_at": FieldExpectation("when", mart=True, when=("state", "merged")),
        "closed_at": FieldExpectation("when", mart=False, when=("state", "closed")),
        # always null upstream; reviewer_count falls back to the reviews
        "reviewers": FieldExpectation("null", mart=False),
        "labels": FieldExpectation("null", mart=False),
    },
    # missing when a review has none
    "reviews": {"comments": FieldExpectation("optional", mart=False)},
}


def _expectations(entity: str) -> dict[str, FieldExpectation]:
    out = {}
    for f in SOURCE_SCHEMAS[entity]:
        special = _SPECIAL.get(entity, {}).get(f.name)
        if special is not None:
            out[f.name] = special
        elif not f.nullable:
            out[f.name] = _ALWAYS_MART  # required: a record without it is refused outright
        else:
            out[f.name] = _ALWAYS_MART if _NON_NULL_IN[entity][f.name] else _ALWAYS_INFO
    return out


FIELD_EXPECTATIONS: Final[dict[str, dict[str, FieldExpectation]]] = {
    entity: _expectations(entity) for entity in SOURCE_SCHEMAS
}
