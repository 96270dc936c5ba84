"""One storage interface over a local directory and a `gs://bucket/prefix`, chosen by URI.

Services only see keys relative to a root, so the same code writes to a directory in development
and to a bucket in production. Keys are validated strictly because they can come from manifests: a
key must never reach outside its root. The stores live in `storage_local` and `storage_gcs` (so that
local-only callers never import the Google libraries) and are importable from here too.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlparse

from etl_common.errors import StorageError

if TYPE_CHECKING:
    from etl_common.storage_gcs import GcsStore
    from etl_common.storage_local import LocalStore

# Temporary files of in-flight local writes; `LocalStore.list` never reports them.
TMP_PREFIX = ".tmp-"
TMP_SUFFIX = ".part"
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")


@dataclass(frozen=True)
class ObjectInfo:
    uri: str  # full uri: gs://bucket/prefix/key or /abs/root/key
    key: str  # relative to the store root
    size: int
    generation: str | None  # GCS generation; None locally
    md5_b64: str | None  # GCS md5Hash; None locally


class ObjectNotFound(StorageError):
    """The object does not exist; retrying will not make it appear."""

    transient = False


class ObjectExists(StorageError):
    """A write with `if_absent=True` found the object already there."""

    transient = False


class ObjectStore(Protocol):
    uri: str

    def url_for(self, key: str) -> str: ...
    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_absent: bool = False,
    ) -> ObjectInfo: ...
    def put_file(
        self, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> ObjectInfo: ...
    def get_bytes(self, key: str) -> bytes: ...
    def get_file(self, key: str, path: Path) -> ObjectInfo: ...
    def stat(self, key: str) -> ObjectInfo | None: ...
    def list(self, prefix: str = "") -> list[str]: ...
    def delete(self, key: str) -> None: ...
    def check(self) -> None: ...


def validate_key(key: str) -> str:
    """Return `key` if it is a relative POSIX path that stays under its root; else ValueError."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"invalid storage key {key!r}: must be a non-empty string")
    if "\\" in key or "\x00" in key:
        raise ValueError(f"invalid storage key {key!r}: backslashes and NUL are not allowed")
    if key.startswith("/"):
        raise ValueError(f"invalid storage key {key!r}: must be relative, not absolute")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise ValueError(f"invalid storage key {key!r}: empty, '.' or '..' segment")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key with an optional trailing slash."""
    if prefix:
        validate_key(prefix.removesuffix("/"))
    return prefix


def split_gs_uri(uri: str) -> tuple[str, str]:
    """`gs://bucket/some/prefix/` -> ("bucket", "some/prefix"); ValueError on anything else."""
    if not isinstance(uri, str) or not uri.startswith("gs://"):
        raise ValueError(f"not a gs:// uri: {uri!r}")
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    if not _BUCKET_RE.fullmatch(bucket):
        raise ValueError(f"invalid bucket name in {uri!r}")
    prefix = prefix.rstrip("/")
    if prefix:
        try:
            validate_key(prefix)
        except ValueError as exc:
            raise ValueError(f"invalid prefix in {uri!r}: {exc}") from None
    return bucket, prefix


def open_store(uri: str) -> ObjectStore:
    """A store for a local directory (path or file:// uri) or a gs://bucket[/prefix]."""
    if not uri:
        raise ValueError("storage uri is empty")
    if uri.startswith("gs://"):
        from etl_common.storage_gcs import GcsStore

        return GcsStore(uri)
    if uri.startswith("file://"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file uri with a remote host is not supported: {uri!r}")
        return _local_store(unquote(parsed.path))
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", uri):
        raise ValueError(f"unsupported storage uri scheme: {uri!r} (use a path, file:// or gs://)")
    return _local_store(uri)


def _local_store(root: str) -> ObjectStore:
    from etl_common.storage_local import LocalStore

    return LocalStore(root)


def atomic_write(target: Path, fill: Callable[[IO[bytes]], int], *, exclusive: bool = False) -> int:
    """Write `target` via a temp file in its directory: fsync, rename, fsync the directory.

    Readers see the old file or the whole new one, never a partial one. With `exclusive`, the temp
    file is hard-linked into place, which fails atomically if `target` exists (FileExistsError).
    `fill` writes the content and returns the number of bytes written, which is returned.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TMP_PREFIX}{secrets.token_hex(8)}{TMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    try:
        with os.fdopen(fd, "wb") as out:
            size = fill(out)
            out.flush()
            os.fsync(out.fileno())
        if exclusive:
            os.link(tmp, target)
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return size


def __getattr__(name: str) -> Any:
    """`GcsStore` and `LocalStore` live in their own modules (they import this one); load on use."""
    if name == "GcsStore":
        from etl_common.storage_gcs import GcsStore

        return GcsStore
    if name == "LocalStore":
        from etl_common.storage_local import LocalStore

        return LocalStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "GcsStore",
    "LocalStore",
    "ObjectExists",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "open_store",
    "split_gs_uri",
    "validate_key",
]
