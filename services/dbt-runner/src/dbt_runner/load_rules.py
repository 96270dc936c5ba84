"""What every warehouse's raw load obeys, whatever the engine: the idempotency rule, the row-count check
against the manifest, and the bookkeeping table `raw._loads` (its columns, the row each load leaves, how
the load held now is read and how a green build is marked).

A load counts as loaded only when its dbt build succeeded (`outcome = 'succeeded'`): a load whose build
failed or was interrupted is built again by the next attempt. Idempotency is by content: the row records
the sha256 of the manifest it was built from, and the same load id under a different manifest is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from etl_common.errors import ManifestError
from etl_common.manifest import Manifest

# `raw._loads`, in column order. `outcome`: `building` until its build succeeded, then `succeeded`. Only
# succeeded rows reach the live warehouse through the dbt-runner (a failed build's copy or schema set is
# dropped); a raw-only load (`load_raw_snowflake`) stays `building`, and reads `interrupted` once a later
# load carried it over. Rows from before these columns have NULLs.
LOADS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "varchar not null"),
    ("extracted_at", "timestamp not null"),
    ("loaded_at", "timestamp not null"),
    ("manifest_uri", "varchar not null"),
    ("rows", "varchar not null"),
    ("manifest_sha256", "varchar"),
    ("outcome", "varchar"),
    ("built_at", "timestamp"),
    ("dbt_counts", "varchar"),
)
ADDED_COLUMNS = LOADS_COLUMNS[5:]  # added to existing `_loads` tables in place
LOADS = "_loads"

# One statement on a warehouse connection: its rows (none for DDL and DML).
Run = Callable[[str, Sequence[object]], list[tuple[object, ...]]]


@dataclass(frozen=True)
class LoadedState:
    """The load a warehouse's raw tables hold now, as its last `_loads` row says."""

    load_id: str
    extracted_at: datetime
    manifest_sha256: str | None = None
    outcome: str | None = None  # None: recorded before outcomes were; not known to have built


@dataclass
class LoadOutcome:
    status: Literal["loaded", "already_loaded"]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    previous_load_id: str | None = None


def already_loaded(
    current: LoadedState | None,
    manifest: Manifest,
    manifest_uri: str,
    manifest_sha256: str,
    *,
    force: bool,
) -> bool:
    """The idempotency rule of every warehouse. True when `manifest` is the load the warehouse holds and its
    build succeeded (nothing to do); False when it should be loaded and built (new, or its last build did
    not succeed); ManifestError when it is older than the load held, or when the same load id was built from
    a manifest with different content. `force` loads regardless."""
    if current is None or force:
        return False
    if current.load_id == manifest.load_id:
        built_from = current.manifest_sha256
        if built_from is not None and built_from != manifest_sha256:
            raise ManifestError(
                f"{manifest_uri}: load {manifest.load_id} was built from a manifest with sha256 "
                f"{built_from[:12]}…, this one is {manifest_sha256[:12]}…; a manifest "
                "must not change under its load id (use --force to rebuild from this one)"
            )
        return current.outcome == "succeeded"
    if current.extracted_at > manifest.extracted_at:
        raise ManifestError(
            f"{manifest_uri}: load {manifest.load_id} (extracted "
            f"{manifest.extracted_at:%Y-%m-%dT%H:%M:%SZ}) is older than the loaded {current.load_id} "
            f"(extracted {current.extracted_at:%Y-%m-%dT%H:%M:%SZ}); refusing to overwrite newer raw "
            "data (use --force to load it anyway)"
        )
    return False


def loads_columns(run: Run, placeholder: str, schema: str = "raw") -> set[str]:
    """The columns `<schema>._loads` has now: none when it does not exist, fewer when it predates some."""
    p = placeholder
    rows = run(
        "select column_name from information_schema.columns "
        f"where lower(table_schema) = {p} and lower(table_name) = {p}",
        (schema, LOADS),
    )
    return {str(r[0]).lower() for r in rows}


def current_load(run: Run, placeholder: str) -> LoadedState | None:
    """The load the raw tables hold now (the last `_loads` row committed), if any; the same query on
    every engine, with NULL for columns an older table lacks."""
    have = loads_columns(run, placeholder)
    if not have:
        return None
    extra = ", ".join(c if c in have else f"null as {c}" for c in ("manifest_sha256", "outcome"))
    rows = run(
        f"select load_id, extracted_at, {extra} from raw.{LOADS} order by loaded_at desc limit 1",
        (),
    )
    if not rows:
        return None
    load_id, extracted_at, sha256, outcome = rows[0]
    assert isinstance(extracted_at, datetime)
    return LoadedState(
        str(load_id),
        extracted_at.replace(tzinfo=UTC),
        None if sha256 is None else str(sha256),
        None if outcome is None else str(outcome),
    )


def require_rows(manifest: Manifest, manifest_uri: str, entity: str, count: int) -> int:
    """The loaded row count, or ManifestError (and so a rollback) when it is not the manifest's."""
    if count != manifest.entities[entity].rows:
        raise ManifestError(
            f"{manifest_uri}: {entity} loaded {count} rows, manifest says "
            f"{manifest.entities[entity].rows}"
        )
    return int(count)


def utc_naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None)


def loads_row(
    manifest: Manifest,
    manifest_uri: str,
    manifest_sha256: str,
    rows: dict[str, int],
) -> tuple[object, ...]:
    """One `_loads` row in LOADS_COLUMNS order, timestamps as zone-less UTC; not yet built."""
    return (
        manifest.load_id,
        utc_naive(manifest.extracted_at),
        utc_naive(datetime.now(UTC)),
        manifest_uri,
        json.dumps(rows),
        manifest_sha256,
        "building",
        None,
        None,
    )


def built_sql(table: str, placeholder: str) -> str:
    """UPDATE marking the load's `building` row as built: params from `built_params`."""
    p = placeholder
    return (
        f"update {table} set outcome = 'succeeded', built_at = {p}, dbt_counts = {p} "
        f"where load_id = {p} and outcome = 'building'"
    )


def built_params(load_id: str, counts: dict[str, int]) -> tuple[object, ...]:
    return (utc_naive(datetime.now(UTC)), json.dumps(counts), load_id)
