"""One writer at a time per DuckDB warehouse, across processes: an advisory lock that says who holds it.

`flock` on `<warehouse>.lock` is released by the kernel when its holder dies (kill -9 included), so a crash
can never leave the warehouse locked; the file's text (pid, host, load id, since) is only for the message a
second writer gets. A second writer waits up to `timeout_s` for the lock, then fails with that message.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from etl_common.errors import EtlError


class WarehouseBusyError(EtlError):
    """Another build holds the warehouse's writer lock; retrying later may succeed."""

    transient = True


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def holder(warehouse: Path) -> str:
    """Who holds (or last held) the lock, in words, from the lock file's text."""
    try:
        info = json.loads(lock_path(warehouse).read_text() or "{}")
    except (OSError, ValueError):
        return "another process"
    if not info:
        return "another process"
    return (
        f"pid {info.get('pid')} on {info.get('host')} building load {info.get('load_id')} "
        f"since {info.get('since')}"
    )


@contextlib.contextmanager
def writer_lock(
    warehouse: Path, *, load_id: str | None, timeout_s: float, poll_s: float = 0.1
) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block; WarehouseBusyError after `timeout_s`."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"{warehouse} is being written by {holder(warehouse)}; gave up after "
                        f"{timeout_s:.0f}s (DBT_RUNNER_LOCK_TIMEOUT_S)"
                    ) from None
                time.sleep(poll_s)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "load_id": load_id,
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
