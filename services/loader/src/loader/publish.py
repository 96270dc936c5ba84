"""Publishing one load: the files uploaded and proven present, then the manifest, written once and last
(from then on the load exists for its readers), then the old unpublished loads collected."""

from __future__ import annotations

import contextlib
import logging

from etl_common.errors import EtlError, StorageError
from etl_common.layout import manifest_key
from etl_common.manifest import Manifest
from etl_common.schemas import ENTITIES
from etl_common.storage import ObjectStore
from loader.gc import collect_orphans
from loader.sink import WrittenFile

log = logging.getLogger(__name__)


def publish_files(store: ObjectStore, files: list[WrittenFile]) -> None:
    """Upload every file, then prove each is there before the manifest may name it (another loader's
    garbage collection could only remove a prefix whose load id is older than its grace period). A failed
    upload takes back the ones before it where it can; what it cannot, the next run collects."""
    done: list[str] = []
    try:
        for w in files:
            store.put_file(w.key, w.local_path, content_type="application/vnd.apache.parquet")
            done.append(w.key)
        missing = [w.key for w in files if store.stat(w.key) is None]
        if missing:
            raise StorageError(
                f"published files vanished before the manifest was written: {missing}"
            )
    except Exception:
        for key in done:
            with contextlib.suppress(EtlError, OSError):
                store.delete(key)
        raise


def write_manifest(store: ObjectStore, manifest: Manifest) -> str:
    """The manifest, written once (never over another), last: from now on the load exists."""
    for e, unknown in ((e, manifest.entities[e].unknown_fields) for e in ENTITIES):
        if unknown:
            log.warning(
                "upstream sent fields the contract does not know; kept in _extra",
                extra={"entity": e, "fields": unknown},
            )
    key = manifest_key(manifest.load_id)
    store.put_bytes(key, manifest.to_json(), content_type="application/json", if_absent=True)
    uri = store.url_for(key)
    log.info(
        "load complete",
        extra={
            "manifest": uri,
            "rows": {e: o.rows for e, o in manifest.entities.items()},
            "requests": manifest.requests["sent"],
        },
    )
    return uri


def collect_garbage(store: ObjectStore, load_id: str, grace_s: float) -> None:
    try:  # the load is published; a failure to tidy up is worth a warning, not a failed run
        collect_orphans(store, current=load_id, grace_s=grace_s)
    except (EtlError, OSError) as exc:
        log.warning("garbage collection of unpublished loads failed", extra={"problem": str(exc)})
