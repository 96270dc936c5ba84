"""Container start-up and image sizes: the time from `<engine> run` to a 2xx on the health route, for each
service image, beside the same service started as a plain local process (`python -m <pkg> serve`) in the
same run, so the ratio is the cost of the container itself. Image sizes beside the base image's.

    .venv/bin/python bench/bench_containers.py      # needs `make images`; prints a skip line otherwise

A ratio below 1 is not the container being free: the image's interpreter is its base image's (Debian's
optimised build, or python:3.11-slim), which imports fastapi and the services' code in about a third of
the time the pyenv build behind .venv on these machines takes; the container's own cost is the rest.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dev_stack.processes import ManagedProcess, free_port, python_module_argv
from etl_common.healthcheck import probe
from tests.containers.engine import ENGINE, image, missing_reason

RUNS = 5
SERVICES = {
    "loader": ("loader", ["serve"], "/healthz"),
    "dbt-runner": ("dbt_runner", ["serve"], "/healthz"),
    "orchestrator": ("orchestrator", ["serve"], "/healthz"),
    "fake-cursor-sim": ("fake_cursor_sim", [], "/_double/stats"),
}


def wait(port: int, path: str, t0: float, timeout_s: float = 60) -> float:
    while not probe(path, str(port))[0]:
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"127.0.0.1:{port}{path}")
        time.sleep(0.02)
    return time.monotonic() - t0


def container_start(name: str, path: str) -> float:
    port = free_port()
    t0 = time.monotonic()
    cid = subprocess.run(
        [ENGINE, "run", "-d", "--read-only", "--tmpfs", "/tmp", "-p", f"127.0.0.1:{port}:8080", image(name)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    try:
        return wait(port, path, t0)
    finally:
        subprocess.run([ENGINE, "rm", "-f", "-t", "0", cid], capture_output=True)


def process_start(module: str, args: list[str], path: str) -> float:
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}
    proc = ManagedProcess(module, python_module_argv(module, *args), env=env)
    t0 = time.monotonic()
    proc.start()
    try:
        return wait(port, path, t0)
    finally:
        proc.stop()


def size_mb(ref: str) -> float:
    out = subprocess.run(
        [ENGINE, "image", "inspect", "--format", "{{.Size}}", ref], capture_output=True, text=True
    )
    return int(out.stdout.strip()) / 1e6 if out.returncode == 0 else float("nan")


def main() -> int:
    reason = missing_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    print(f"\nstart to healthy ({ENGINE}, median and best of {RUNS}), beside a local process")
    print(
        f"{'image':<16} {'container s':>11} {'best':>6} {'process s':>10} {'best':>6} {'ratio':>6}"
    )
    for name, (module, args, path) in SERVICES.items():
        container = [container_start(name, path) for _ in range(RUNS)]
        process = [process_start(module, args, path) for _ in range(RUNS)]
        c, p = statistics.median(container), statistics.median(process)
        print(
            f"{name:<16} {c:>11.2f} {min(container):>6.2f} {p:>10.2f} {min(process):>6.2f} "
            f"{c / p:>6.2f}"
        )
    base = os.environ.get("BASE_IMAGE", "localhost/python-base:3.11-bookworm")
    base_mb = size_mb(base)
    print(f"\nimage sizes (MB), beside the base image {base} ({base_mb:.0f} MB)")
    print(f"{'image':<16} {'size':>7} {'over base':>10}")
    for name in SERVICES:
        mb = size_mb(image(name))
        print(f"{name:<16} {mb:>7.0f} {mb - base_mb:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
