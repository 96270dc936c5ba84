"""What every warehouse's raw load obeys, whatever the engine: the idempotency rule, the row-count check
against the manifest, and the bookkeeping row each load leaves in `raw._loads`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from etl_common.errors import ManifestError
from etl_common.manifest import Manifest


@dataclass
class LoadOutcome:
    status: Literal["loaded", "already_loaded"]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    previous_load_id: str | None = None


def already_loaded(
    current: tuple[str, datetime] | None, manifest: Manifest, manifest_uri: str, *, force: bool
) -> bool:
    """The idempotency rule of every warehouse: True when `manifest` is the load the raw tables hold
    (nothing to do); ManifestError when it is older than that load; False when it should be loaded.
    `force` loads regardless."""
    if current is None or force:
        return False
    if current[0] == manifest.load_id:
        return True
    if current[1] > manifest.extracted_at:
        raise ManifestError(
            f"{manifest_uri}: load {manifest.load_id} (extracted "
            f"{manifest.extracted_at:%Y-%m-%dT%H:%M:%SZ}) is older than the loaded {current[0]} "
            f"(extracted {current[1]:%Y-%m-%dT%H:%M:%SZ}); refusing to overwrite newer raw data "
            "(use --force to load it anyway)"
        )
    return False


def require_rows(manifest: Manifest, manifest_uri: str, entity: str, count: int) -> int:
    """The loaded row count, or ManifestError (and so a rollback) when it is not the manifest's."""
    if count != manifest.entities[entity].rows:
        raise ManifestError(
            f"{manifest_uri}: {entity} loaded {count} rows, manifest says "
            f"{manifest.entities[entity].rows}"
        )
    return int(count)


def loads_row(
    manifest: Manifest, manifest_uri: str, rows: dict[str, int]
) -> tuple[str, datetime, datetime, str, str]:
    """(load_id, extracted_at, loaded_at, manifest_uri, rows as JSON), timestamps as zone-less UTC."""
    return (
        manifest.load_id,
        manifest.extracted_at.astimezone(UTC).replace(tzinfo=None),
        datetime.now(UTC).replace(tzinfo=None),
        manifest_uri,
        json.dumps(rows),
    )
