"""The loader's service mode over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from etl_common.manifest import Manifest

from ..service_harness import run_service, wait_for
from .conftest import Double


def test_runs_are_single_flight_and_report_state_counts_and_manifest(
    fresh_double: Double, tmp_path: Path
) -> None:
    fresh_double.faults({"kind": "delay", "seconds": 1.5, "times": 1, "path_prefix": "/repos"})
    env = {
        "CURSOR_SIM_URL": fresh_double.url,
        "LOADER_OUTPUT": str(tmp_path / "bucket"),
        "LOADER_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with run_service("loader", env, tmp_path / "loader.log") as url:
        first = httpx.post(url + "/runs", timeout=10)
        assert first.status_code == 202
        load_id = first.json()["load_id"]
        second = httpx.post(url + "/runs", timeout=10)
        assert second.status_code == 409
        assert second.json()["detail"]["load_id"] == load_id
        final = wait_for(f"{url}/runs/{load_id}", lambda b: b["state"] != "running", timeout_s=60)
        assert final["state"] == "succeeded", final
        manifest = Manifest.parse(Path(final["manifest_uri"]).read_bytes())
        assert final["rows"] == {e: o.rows for e, o in manifest.entities.items()}
        assert final["rows"]["pull_requests"] == fresh_double.stats()["total_prs"]
        traced = {t["name"]: t for t in final["steps"]}
        assert list(traced) == ["discover", "extract", "write", "publish"]
        assert traced["write"]["counts"] == final["rows"]
        assert {t["seconds"] for t in final["steps"]} <= set(manifest.timings_s.values())
        assert httpx.get(url + "/runs/nope", timeout=10).status_code == 404
        listed = httpx.get(url + "/runs", timeout=10).json()
        assert [r["load_id"] for r in listed] == [load_id]


def test_readiness_names_what_is_unreachable(fresh_double: Double, tmp_path: Path) -> None:
    env = {"CURSOR_SIM_URL": "http://127.0.0.1:9", "LOADER_OUTPUT": str(tmp_path / "bucket")}
    with run_service("loader", env, tmp_path / "loader.log") as url:
        assert httpx.get(url + "/healthz", timeout=10).json() == {"status": "ok"}
        ready = httpx.get(url + "/readyz", timeout=30)
        assert ready.status_code == 503
        checks = ready.json()["detail"]["checks"]
        assert (
            checks["source"].startswith("unreachable: ")
            and checks["bucket"] == env["LOADER_OUTPUT"]
        )
        paths = httpx.get(url + "/openapi.json", timeout=10).json()["paths"]
        assert {"/healthz", "/readyz", "/runs", "/runs/{load_id}"} <= set(paths)
    env["CURSOR_SIM_URL"] = fresh_double.url
    with run_service("loader", env, tmp_path / "loader2.log") as url:
        assert httpx.get(url + "/readyz", timeout=30).status_code == 200


def test_500_concurrent_probes_cost_the_upstream_one_health_request(
    fresh_double: Double, tmp_path: Path
) -> None:
    """/health spends the upstream's global rate limit: a burst of probes shares one check."""
    env = {"CURSOR_SIM_URL": fresh_double.url, "LOADER_OUTPUT": str(tmp_path / "bucket")}
    with run_service("loader", env, tmp_path / "loader.log") as url:

        async def burst() -> list[int]:
            limits = httpx.Limits(max_connections=500, max_keepalive_connections=0)
            async with httpx.AsyncClient(timeout=60, limits=limits) as client:
                answers = await asyncio.gather(*(client.get(url + "/readyz") for _ in range(500)))
            return [r.status_code for r in answers]

        assert asyncio.run(burst()) == [200] * 500
        assert asyncio.run(burst()) == [200] * 500
    assert fresh_double.served()["by_path"].get("/health") == 1
