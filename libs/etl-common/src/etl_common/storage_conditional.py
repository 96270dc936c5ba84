"""Compare-and-swap writes on an `ObjectStore`: read an object with its generation, write it back only
if nobody changed it in between.

This is what lets several processes share one record without clobbering each other (the orchestrator's
run records, whose lease says who may write them). It is an addition beside `ObjectStore`, not part of
it, so the stores themselves stay as they are:

- `gs://`: the object generation and an `ifGenerationMatch` precondition (generation 0: must not
  exist), checked by the bucket itself, so it holds across hosts.
- a local directory: the generation is the SHA-256 of the content (`sha256:...`), and the
  read-compare-replace runs under an exclusive `flock` on the object's directory, so it holds across
  processes of one host (the local store is a development and test store).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from etl_common.errors import StorageError
from etl_common.storage import ObjectExists, ObjectNotFound, ObjectStore, atomic_write

if TYPE_CHECKING:
    from etl_common.storage_local import LocalStore


class GenerationMismatch(StorageError):
    """The object is not at the generation the write was based on (or exists when it must not)."""

    transient = False


@dataclass(frozen=True)
class Versioned:
    data: bytes
    generation: str


def get_versioned(store: ObjectStore, key: str) -> Versioned:
    """The object's bytes and the generation they belong to; `ObjectNotFound` if absent."""
    from etl_common.storage_local import LocalStore

    if isinstance(store, LocalStore):
        data = store.get_bytes(key)
        return Versioned(data, _digest(data))
    from etl_common.storage_gcs import _RETRY, _TIMEOUT, GcsStore, _google_errors

    if isinstance(store, GcsStore):
        blob = store._blob(key)
        with _google_errors(store.url_for(key), "downloading"):
            data = bytes(blob.download_as_bytes(timeout=_TIMEOUT, retry=_RETRY))
        if blob.generation is None:  # every GCS download carries x-goog-generation
            raise StorageError(f"downloading {store.url_for(key)}: no generation in the answer")
        return Versioned(data, str(blob.generation))
    raise TypeError(f"conditional writes are not implemented for {store!r}")


def put_if_generation(
    store: ObjectStore,
    key: str,
    data: bytes,
    generation: str | None,
    *,
    content_type: str = "application/octet-stream",
) -> str:
    """Write `data` only if the object is still at `generation` (None: only if it does not exist).

    Returns the new generation; raises `GenerationMismatch` if the object moved on (nothing written).
    """
    from etl_common.storage_local import LocalStore

    if isinstance(store, LocalStore):
        return _put_local(store, key, data, generation)
    from etl_common.storage_gcs import _RETRY, _TIMEOUT, GcsStore, _google_errors

    if isinstance(store, GcsStore):
        blob = store._blob(key)
        url = store.url_for(key)
        try:
            with _google_errors(url, "uploading"):
                # The precondition makes the retry safe: a replay of a write that landed fails it.
                blob.upload_from_string(
                    data,
                    content_type=content_type,
                    if_generation_match=int(generation) if generation is not None else 0,
                    timeout=_TIMEOUT,
                    retry=_RETRY,
                )
        except ObjectExists:
            raise GenerationMismatch(
                f"{url} is no longer at generation {generation or '(absent)'}"
            ) from None
        return str(blob.generation)
    raise TypeError(f"conditional writes are not implemented for {store!r}")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _put_local(store: LocalStore, key: str, data: bytes, generation: str | None) -> str:
    target = store._path(key)
    url = target.as_posix()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError as exc:
        raise StorageError(f"writing {url} failed: {exc}") from exc
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)  # released when the descriptor closes
        try:
            current: str | None = _digest(store.get_bytes(key))
        except ObjectNotFound:
            current = None
        if current != generation:
            raise GenerationMismatch(f"{url} is no longer at generation {generation or '(absent)'}")

        def fill(out: IO[bytes]) -> int:
            out.write(data)
            return len(data)

        try:
            atomic_write(target, fill)
        except OSError as exc:
            raise StorageError(f"writing {url} failed: {exc}") from exc
    finally:
        os.close(dir_fd)
    return _digest(data)


__all__ = ["GenerationMismatch", "Versioned", "get_versioned", "put_if_generation"]
