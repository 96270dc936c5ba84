"""Running the project's images from tests: podman (or docker), always removing what was started.

The images are built beforehand (`make images`; CI builds them in `.ci/containers.sh`). Where no engine
or no image is present the tests skip and say which; with REQUIRE_CONTAINERS=1 (CI) that is a failure
instead, so a missing build can never pass as green.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pytest

from etl_common.healthcheck import probe

ENGINE = os.environ.get("CONTAINER_ENGINE") or ("podman" if shutil.which("podman") else "docker")
PREFIX = os.environ.get("IMAGE_PREFIX", "cursor-analytics")
TAG = os.environ.get("IMAGE_TAG", "latest")
NAMES = ("loader", "dbt-runner", "orchestrator", "fake-cursor-sim")
JOB_TIMEOUT_S = 600


def image(name: str) -> str:
    return f"{PREFIX}/{name}:{TAG}"


def missing_reason() -> str | None:
    if not shutil.which(ENGINE):
        return f"container engine {ENGINE!r} not installed (CONTAINER_ENGINE)"
    info = subprocess.run([ENGINE, "info"], capture_output=True, text=True)
    if info.returncode != 0:
        return f"{ENGINE} cannot run containers here: {info.stderr.strip()[-300:]}"
    absent = [
        image(n)
        for n in NAMES
        if subprocess.run([ENGINE, "image", "exists" if ENGINE == "podman" else "inspect", image(n)],
                          capture_output=True).returncode != 0
    ]  # fmt: skip
    if absent:
        return f"images not built (run `make images`): {', '.join(absent)}"
    return None


def require_images() -> None:
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("REQUIRE_CONTAINERS") == "1":
        pytest.fail(f"REQUIRE_CONTAINERS=1 but {reason}")
    pytest.skip(reason)


def inspect(ref: str, template: str, kind: str = "container") -> str:
    return subprocess.run(
        [ENGINE, kind, "inspect", "--format", template, ref],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@dataclass(frozen=True)
class Job:
    returncode: int
    stdout: str
    stderr: str


def run_job(
    name: str,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    volumes: Sequence[str] = (),
) -> Job:
    """`run --rm` a one-shot container on the host network (it reaches emulators on 127.0.0.1).

    Environment values travel in the engine's own environment and only their names on its command
    line (`-e NAME`), as secrets must.
    """
    env = dict(env or {})
    argv = [ENGINE, "run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp"]
    for key in env:
        argv += ["-e", key]
    for volume in volumes:
        argv += ["-v", volume]
    argv += [image(name), *args]
    proc = subprocess.run(
        argv,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_S,
    )
    return Job(proc.returncode, proc.stdout, proc.stderr)


@contextlib.contextmanager
def service(
    name: str, port: int, health_path: str, *, timeout_s: float = 60.0
) -> Iterator[tuple[str, float]]:
    """A detached service container (read-only root, /tmp writable) published on 127.0.0.1:`port`;
    yields (container id, seconds from `run` to a 2xx on `health_path`). Always removed."""
    t0 = time.monotonic()
    cid = subprocess.run(
        [ENGINE, "run", "-d", "--read-only", "--tmpfs", "/tmp",
         "-p", f"127.0.0.1:{port}:8080", image(name)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    try:
        deadline = t0 + timeout_s
        while not probe(health_path, str(port))[0]:
            running = inspect(cid, "{{.State.Running}}")
            if running != "true" or time.monotonic() > deadline:
                logs = subprocess.run([ENGINE, "logs", cid], capture_output=True, text=True)
                pytest.fail(
                    f"{name} never answered {health_path}: {(logs.stdout + logs.stderr)[-3000:]}"
                )
            time.sleep(0.05)
        yield cid, time.monotonic() - t0
    finally:
        subprocess.run([ENGINE, "rm", "-f", "-t", "0", cid], capture_output=True)
