"""Fetch a manifest and prove its files are the ones the loader wrote, before anything is loaded.

Checks, each refusing with a message that names the problem: the manifest sits at `<root>/manifests/<id>.json`
and parses as manifest v1 with that id; every file exists under the same root with the recorded size and
sha256; each file's Parquet schema has the recorded fingerprint, which must also be the fingerprint this
service expects for the entity. Files in a bucket are downloaded to a local staging directory (DuckDB cannot
read `gs://` here); local files are read in place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from etl_common.checksums import sha256_file
from etl_common.errors import ManifestError
from etl_common.layout import manifest_key, split_manifest_uri
from etl_common.manifest import Manifest
from etl_common.schemas import ENTITIES, raw_schema, schema_fingerprint
from etl_common.storage import LocalStore, ObjectNotFound, ObjectStore, open_store


@dataclass(frozen=True)
class VerifiedLoad:
    manifest: Manifest
    manifest_uri: str
    store: ObjectStore
    manifest_sha256: str  # of the manifest's bytes: what "the same load" means
    files: dict[str, list[Path]]  # entity -> local Parquet paths, in manifest order


def fetch_manifest(uri: str) -> tuple[ObjectStore, Manifest, str]:
    """The manifest's store, parsed manifest and the sha256 of its bytes."""
    root, key = split_manifest_uri(uri)
    try:
        store = open_store(root)
        raw = store.get_bytes(key)
    except ObjectNotFound:
        raise ManifestError(f"{uri}: manifest not found") from None
    except ValueError as exc:
        raise ManifestError(f"{uri}: {exc}") from None
    manifest = Manifest.parse(raw, where=uri)
    if manifest_key(manifest.load_id) != key:
        raise ManifestError(f"{uri}: file name does not match its load_id {manifest.load_id}")
    return store, manifest, hashlib.sha256(raw).hexdigest()


def require_inside(uri: str, allowed_root: str | None) -> None:
    """Refuse a manifest whose root is not the configured one (another bucket, `..`, a sibling prefix)."""
    if allowed_root is None:
        return
    root, _ = split_manifest_uri(uri)
    if _normalise(root) != _normalise(allowed_root):
        raise ManifestError(f"{uri}: outside the manifest root this runner serves ({allowed_root})")


def _normalise(root: str) -> str:
    if root.startswith("gs://"):
        return root.rstrip("/")
    return str(Path(root.removeprefix("file://")).resolve())


def verify_and_stage(uri: str, staging: Path, *, allowed_root: str | None = None) -> VerifiedLoad:
    require_inside(uri, allowed_root)
    store, manifest, manifest_digest = fetch_manifest(uri)
    files: dict[str, list[Path]] = {}
    for entity in ENTITIES:  # identifiers come from this fixed list, never from the manifest text
        out = manifest.entities[entity]
        expected_fp = schema_fingerprint(raw_schema(entity))
        if out.schema_fingerprint != expected_fp:
            raise ManifestError(
                f"{uri}: {entity} schema fingerprint {out.schema_fingerprint} is not the one this "
                f"runner loads ({expected_fp}); loader and runner versions differ"
            )
        if sum(f.rows for f in out.files) != out.rows:
            raise ManifestError(
                f"{uri}: {entity} rows {out.rows} differ from the sum over its files"
            )
        paths = []
        for f in out.files:
            local = _stage(store, f.path, staging, uri)
            size = local.stat().st_size
            if size != f.bytes:
                raise ManifestError(f"{uri}: {f.path} is {size} bytes, the manifest says {f.bytes}")
            digest = sha256_file(local)
            if digest != f.sha256:
                raise ManifestError(
                    f"{uri}: {f.path} is corrupted (sha256 {digest}, manifest {f.sha256})"
                )
            actual_fp = schema_fingerprint(_parquet_schema(local, f.path, uri))
            if actual_fp != out.schema_fingerprint:
                raise ManifestError(
                    f"{uri}: {f.path} has schema {actual_fp}, manifest says "
                    f"{out.schema_fingerprint}"
                )
            paths.append(local)
        files[entity] = paths
    return VerifiedLoad(
        manifest=manifest,
        manifest_uri=uri,
        store=store,
        manifest_sha256=manifest_digest,
        files=files,
    )


def _stage(store: ObjectStore, key: str, staging: Path, uri: str) -> Path:
    try:
        if isinstance(store, LocalStore):
            info = store.stat(key)
            if info is None:
                raise ObjectNotFound(store.url_for(key))
            return Path(info.uri)
        local = staging / key
        local.parent.mkdir(parents=True, exist_ok=True)
        store.get_file(key, local)
        return local
    except ObjectNotFound:
        raise ManifestError(f"{uri}: names a missing file {key}") from None
    except ValueError as exc:
        raise ManifestError(f"{uri}: {exc}") from None


def _parquet_schema(path: Path, key: str, uri: str):  # type: ignore[no-untyped-def]
    try:
        return pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for a non-Parquet file
        raise ManifestError(f"{uri}: {key} is not a readable Parquet file: {exc}") from None
