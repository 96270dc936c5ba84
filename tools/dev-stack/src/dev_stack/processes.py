"""Start local helper processes (emulators, the cursor-sim double, our own services) and always stop them.

Used by the tests, the benchmarks and `make pipeline`; no image installs it. Every process binds to 127.0.0.1
on a free port, is waited on with a deadline (never an unbounded poll), and is stopped with SIGTERM then
SIGKILL, so nothing outlives its owner.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ProcessStartError(RuntimeError):
    """A helper process exited or did not become ready before its deadline."""


@dataclass
class ManagedProcess:
    """One child process with its own process group, stopped by `stop()` whatever state it is in."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    log_path: Path | None = None
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ManagedProcess:
        log_file = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        self.proc = subprocess.Popen(
            list(self.argv),
            env={**os.environ, **(self.env or {})},
            stdout=log_file if log_file is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
            start_new_session=True,  # its own group: stop() reaches grandchildren too
        )
        if log_file is not None:
            log_file.close()  # the child holds its own descriptor
        return self

    def wait_ready(self, probe: Callable[[], bool], timeout_s: float = 30.0) -> None:
        """Poll `probe` until it returns True; raise if the process dies or the deadline passes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ProcessStartError(
                    f"{self.name} exited with code {self.proc.returncode}{self._log_tail()}"
                )
            try:
                if probe():
                    return
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.05)
        raise ProcessStartError(f"{self.name} not ready after {timeout_s:.0f} s{self._log_tail()}")

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            tail = self.log_path.read_bytes()[-2000:].decode(errors="replace")
            return f"; log tail:\n{tail}"
        return ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace_s: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=grace_s)


def http_ok(url: str, timeout_s: float = 1.0) -> Callable[[], bool]:
    """A readiness probe: any HTTP answer below 500 from `url` counts as up."""

    def probe() -> bool:
        return httpx.get(url, timeout=timeout_s).status_code < 500

    return probe


@contextlib.contextmanager
def running(
    process: ManagedProcess, probe: Callable[[], bool], timeout_s: float = 30.0
) -> Iterator[ManagedProcess]:
    """Start `process`, wait until `probe` passes, yield it, and stop it on every exit path."""
    try:
        process.start()
        process.wait_ready(probe, timeout_s)
        yield process
    finally:
        process.stop()


def python_module_argv(module: str, *args: str) -> list[str]:
    """argv that runs `python -m module args` with this interpreter (the repo's .venv in practice)."""
    return [sys.executable, "-m", module, *args]
