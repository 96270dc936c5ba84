"""The double as a process: the CLI's ready line, and the same universe for the same seed and instant."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import httpx

from dev_stack.double import run_double
from dev_stack.processes import free_port, python_module_argv

from .conftest import KEY

NOW = datetime(2026, 11, 30, 17, 25, 12, tzinfo=UTC)


def test_cli_prints_one_json_ready_line_with_url_and_counts() -> None:
    port = free_port()
    argv = python_module_argv("fake_cursor_sim", "--port", str(port), "--developers", "3")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["url"] == f"http://127.0.0.1:{port}"
        stats = httpx.get(ready["url"] + "/admin/stats", auth=(KEY, ""), timeout=10).json()
        assert stats["generation"]["total_commits"] == ready["commits"]
        assert stats["generation"]["total_prs"] == ready["pull_requests"]
        assert stats["generation"]["total_reviews"] == ready["reviews"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_same_seed_and_instant_serve_the_same_universe() -> None:
    bodies = []
    for _ in range(2):
        with run_double(developers=3, seed=5, now=NOW) as url:
            bodies.append(
                httpx.get(
                    url + "/analytics/ai-code/commits",
                    params={"startDate": "2000-01-01", "endDate": "2100-01-01", "pageSize": 1000},
                    auth=(KEY, ""),
                    timeout=10,
                ).content
            )
    assert bodies[0] == bodies[1] and len(json.loads(bodies[0])["items"]) > 300
