"""Start-up of the cursor-sim double: time to its first answer and its RSS, at 50 and 200 developers,
beside the 2-developer start (the fixed cost of the interpreter, imports and uvicorn) from the same run.

    .venv/bin/python bench/bench_double.py
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from dev_stack.processes import ManagedProcess, free_port, python_module_argv


def start_once(developers: int) -> tuple[float, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = ManagedProcess(
        "double",
        python_module_argv(
            "fake_cursor_sim",
            "--port",
            str(port),
            "--developers",
            str(developers),
            "--rate-limit-per-minute",
            "0",
        ),
    )
    t0 = time.monotonic()
    proc.start()
    try:
        proc.wait_ready(lambda: httpx.get(url + "/_double/stats", timeout=1).status_code == 200, 60)
        ready = time.monotonic() - t0
        assert proc.proc is not None
        status = Path(f"/proc/{proc.proc.pid}/status").read_text()
        rss_kb = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
        )
    finally:
        proc.stop()
    return ready, rss_kb / 1024


def main() -> None:
    rows = {d: min((start_once(d) for _ in range(3)), key=lambda r: r[0]) for d in (2, 50, 200)}
    print("\ncursor-sim double start-up (best of 3): process start to first answer, peak RSS")
    print(f"{'developers':>10} {'ready s':>8} {'peak RSS MB':>12} {'vs 2 devs':>10}")
    for d, (ready, rss) in rows.items():
        print(f"{d:>10} {ready:>8.2f} {rss:>12.0f} {ready / rows[2][0]:>9.2f}x")


if __name__ == "__main__":
    main()
