"""`ObjectStore` over a local directory (see `etl_common.storage`): atomic, durable writes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from etl_common.errors import StorageError
from etl_common.storage import (
    TMP_PREFIX,
    TMP_SUFFIX,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    atomic_write,
    validate_key,
    validate_prefix,
)

_COPY_BUFFER = 1024 * 1024


def copy_stream(src: IO[bytes], out: IO[bytes]) -> int:
    """Copy in bounded chunks and count the bytes."""
    size = 0
    while chunk := src.read(_COPY_BUFFER):
        out.write(chunk)
        size += len(chunk)
    return size


class LocalStore:
    """Objects are files under `root`; writes are atomic and durable."""

    def __init__(self, root: str | Path) -> None:
        # abspath normalises `..` without resolving symlinks (a mounted volume stays as named)
        self.root = Path(os.path.abspath(Path(root).expanduser()))
        self.uri = self.root.as_posix()

    def __repr__(self) -> str:
        return f"LocalStore({self.uri!r})"

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def url_for(self, key: str) -> str:
        return self._path(key).as_posix()

    def _write(self, key: str, fill: Callable[[IO[bytes]], int], *, exclusive: bool) -> ObjectInfo:
        target = self._path(key)
        try:
            size = atomic_write(target, fill, exclusive=exclusive)
        except FileExistsError as exc:
            if exclusive and exc.filename2 is not None and Path(exc.filename2) == target:
                raise ObjectExists(f"{target.as_posix()} already exists") from None
            raise StorageError(f"writing {target.as_posix()} failed: {exc}") from exc
        except OSError as exc:
            raise StorageError(f"writing {target.as_posix()} failed: {exc}") from exc
        return ObjectInfo(uri=target.as_posix(), key=key, size=size, generation=None, md5_b64=None)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_absent: bool = False,
    ) -> ObjectInfo:
        def fill(out: IO[bytes]) -> int:
            out.write(data)
            return len(data)

        return self._write(key, fill, exclusive=if_absent)

    def put_file(
        self, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        self._path(key)  # validate before touching the source
        try:
            src = open(path, "rb")  # noqa: SIM115 - closed below, errors mapped separately
        except OSError as exc:
            raise StorageError(f"reading {path} for {self.url_for(key)} failed: {exc}") from exc
        with src:
            return self._write(key, lambda out: copy_stream(src, out), exclusive=False)

    def _open(self, key: str) -> IO[bytes]:
        path = self._path(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(f"{path.as_posix()} not found") from None
        except OSError as exc:
            raise StorageError(f"reading {path.as_posix()} failed: {exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        with self._open(key) as src:
            try:
                return src.read()
            except OSError as exc:
                raise StorageError(f"reading {self.url_for(key)} failed: {exc}") from exc

    def get_file(self, key: str, path: Path) -> ObjectInfo:
        with self._open(key) as src:
            try:
                size = atomic_write(Path(path), lambda out: copy_stream(src, out))
            except OSError as exc:
                raise StorageError(f"copying {self.url_for(key)} to {path} failed: {exc}") from exc
        return ObjectInfo(uri=self.url_for(key), key=key, size=size, generation=None, md5_b64=None)

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            if not path.is_file():
                return None
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"stat {path.as_posix()} failed: {exc}") from exc
        return ObjectInfo(uri=path.as_posix(), key=key, size=size, generation=None, md5_b64=None)

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        start = self.root / prefix.rpartition("/")[0]
        keys: list[str] = []
        for dirpath, _dirs, files in os.walk(start):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in files:
                if name.startswith(TMP_PREFIX) and name.endswith(TMP_SUFFIX):
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        """Idempotent: deleting an absent object is not an error (events are redelivered)."""
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        except OSError as exc:
            raise StorageError(f"deleting {path.as_posix()} failed: {exc}") from exc

    def check(self) -> None:
        """Create the root if needed (as the first write would); it must be a writable directory."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"storage root {self.uri} is not usable: {exc}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"storage root {self.uri} is not writable")
