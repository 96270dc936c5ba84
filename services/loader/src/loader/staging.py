"""The loader's local staging directory: removed on every exit the process controls, swept when it cannot.

Parquet is written under `TMPDIR/loader-XXXX/` before it is published. A normal end, an error, SIGINT and
SIGTERM all remove it (the job turns both signals into a cancellation, so `finally` runs). `kill -9`, an OOM
kill or a power cut cannot be caught, so each directory carries an owner marker (pid, host, the process's
start time) and every start sweeps the `loader-*` directories whose owner is gone: a dead pid on this host,
or, when the marker is missing or names another host, an age past the grace period. A live owner's
directory is never touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "loader-"
MARKER = ".owner.json"


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a live owner from pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its closing one
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _owner() -> dict[str, object]:
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "start": _process_start(pid)}


@contextlib.contextmanager
def staging_dir() -> Iterator[Path]:
    """A fresh `TMPDIR/loader-*` directory with its owner marker, removed however the block ends."""
    path = Path(tempfile.mkdtemp(prefix=PREFIX))
    try:
        (path / MARKER).write_text(json.dumps(_owner()))
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _alive(owner: dict[str, object]) -> bool | None:
    """True or False for an owner on this host; None when this host cannot tell (another host)."""
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname() or not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    start = owner.get("start")
    return start is None or _process_start(pid) in (None, start)


def sweep(grace_s: float, root: Path | None = None) -> list[Path]:
    """Remove stale `loader-*` directories under `root` (default: the temp dir); returns what it removed."""
    root = Path(root or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return removed
    for path in candidates:
        try:
            info = path.lstat()
            if not path.is_dir() or path.is_symlink() or info.st_uid != os.getuid():
                continue  # someone else's, or not a directory we made
            try:
                owner = json.loads((path / MARKER).read_text())
            except (OSError, ValueError):
                owner = {}
            alive = _alive(owner) if isinstance(owner, dict) else None
            age = time.time() - info.st_mtime
            if alive is False or (alive is None and age > grace_s):
                shutil.rmtree(path)
                removed.append(path)
                log.warning(
                    "removed a stale staging directory",
                    extra={
                        "path": str(path),
                        "owner_pid": owner.get("pid") if isinstance(owner, dict) else None,
                        "reason": "owner process gone" if alive is False else "older than grace",
                    },
                )
        except OSError as exc:  # a race with another sweeper, or unreadable: leave it
            log.warning(
                "could not sweep a staging directory",
                extra={"path": str(path), "problem": str(exc)},
            )
    return removed
