"""The loader and dbt-runner stand-ins the orchestrator tests drive (on `stubs.py`'s real HTTP
servers), answering as the contract (`etl_common.contract`) shapes it, and reading what a run left in
the bucket."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from etl_common.contract import BuildResult
from etl_common.storage import open_store

from .stubs import Stub, build_status, load_status

LOAD = "20261201T000000Z-aaaaaa"


def loader_stand_in(root: str, finish: threading.Event) -> Callable[..., tuple[int, Any]]:
    """Extraction `running` until `finish` is set, then succeeded with a manifest."""

    def handler(stub: Stub, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if path == "/healthz":
            return 200, {"status": "ok"}
        if (method, path) == ("POST", "/runs"):
            return 202, load_status(LOAD, "running")
        if (method, path) == ("GET", f"/runs/{LOAD}"):
            if not finish.is_set():
                return 200, load_status(
                    LOAD, "running", rows={"commits": 1}, pages={"commits": "1/9"}
                )
            return 200, load_status(
                LOAD,
                "succeeded",
                manifest_uri=f"{root}/manifests/{LOAD}.json",
                rows={"commits": 9},
                pages={"commits": "9/9"},
                requests=9,
            )
        return 404, {"detail": f"no run {path}"}

    return handler


def runner_stand_in(stub: Stub, method: str, path: str, body: bytes) -> tuple[int, Any]:
    if path == "/healthz":
        return 200, {"status": "ok"}
    if (method, path) == ("POST", "/runs"):
        return 202, build_status("b-1", "running")
    if (method, path) == ("GET", "/runs/b-1"):
        result = build_result("succeeded", result_uri="gs://x/build-results/r.json")
        return 200, build_status("b-1", "succeeded", result=result)
    return 404, {"detail": f"no build {path}"}


def build_result(state: str, **fields: Any) -> dict[str, Any]:
    """A dbt-runner build result as the contract shapes it."""
    now = datetime.now(UTC)
    dbt = {"command": ["build"], "success": state == "succeeded", "seconds": 1.0}
    return BuildResult(
        manifest_uri=f"gs://x/manifests/{LOAD}.json",
        attempt="a-1",
        target="dev",
        state=state,
        started_at=now,
        finished_at=now,
        dbt={**dbt, "counts": {"test:pass": 3}},
        **fields,
    ).model_dump(mode="json")


def record_of(root: str, run_id: str) -> dict[str, Any]:
    return json.loads(open_store(root).get_bytes(f"orchestrator/runs/{run_id}.json"))  # type: ignore[no-any-return]


def until(what: str, probe: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    """Poll `probe` until it returns something truthy; fail naming `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout_s:g} s")
