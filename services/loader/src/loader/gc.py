"""Garbage collection of unpublished loads: objects under `<load_id>/` whose manifest never came.

A load is published file by file and committed by its manifest; a kill between the two leaves Parquet under
`<root>/<load_id>/` that no consumer will ever read (they act on manifests only) and that no later run would
otherwise remove. After each successful load, every load prefix without a manifest whose load id (a UTC
timestamp) is older than the grace period is deleted. The grace keeps a concurrently running loader's
objects safe while it publishes; the current load, every prefix with a manifest, and anything whose name is
not a load id (`manifests/`, `build-results/`, run records) are never touched.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from etl_common.layout import load_started, manifest_key, manifest_keys
from etl_common.storage import ObjectStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Orphan:
    load_id: str
    objects: int
    age_s: float


def collect_orphans(
    store: ObjectStore, *, current: str, grace_s: float, now: datetime | None = None
) -> list[Orphan]:
    """Delete the manifest-less load prefixes older than `grace_s`; returns what was removed."""
    now = now or datetime.now(UTC)
    keys = store.list("")
    manifests = manifest_keys(keys)
    by_load: dict[str, list[str]] = {}
    for key in keys:
        head, sep, _ = key.partition("/")
        if sep and load_started(head) is not None:
            by_load.setdefault(head, []).append(key)
    removed = []
    for load_id, objects in sorted(by_load.items()):
        started = load_started(load_id)
        assert started is not None
        age = (now - started).total_seconds()
        if load_id == current or load_id in manifests or age < grace_s:
            continue
        if store.stat(manifest_key(load_id)) is not None:
            continue  # its manifest landed after the listing: published, not orphaned
        for key in objects:
            store.delete(key)
        _prune_empty_dirs(store, load_id)
        removed.append(Orphan(load_id, len(objects), age))
        log.warning(
            "removed an unpublished load (objects without a manifest)",
            extra={"orphan_load_id": load_id, "objects": len(objects), "age_s": round(age)},
        )
    return removed


def _prune_empty_dirs(store: ObjectStore, load_id: str) -> None:
    """A directory root keeps empty directories after its files are deleted; remove them too."""
    from etl_common.storage_local import LocalStore

    if not isinstance(store, LocalStore):
        return
    top = store.root / load_id
    for path in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.rmdir()
    with contextlib.suppress(OSError):
        Path(top).rmdir()
