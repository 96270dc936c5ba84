"""Storage events over real HTTP: manifests trigger the dbt-runner once, whatever the delivery order
or count; everything else is acknowledged and ignored; malformed requests change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from etl_common.storage import open_store, split_gs_uri

from ..service_harness import wait_for
from .cloudevents_util import pubsub_push, storage_cloudevent
from .harness import Backend, extract_manifest, get, loaded_load_id, manifest_object, orchestrator

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


def _ce(url: str, *obj: str, structured: bool = False, **kw: Any) -> httpx.Response:
    headers, body = storage_cloudevent(*obj, structured=structured, **kw)
    return httpx.post(url + "/", headers=headers, content=body, timeout=30)


def _push(url: str, *obj: str, **kw: Any) -> httpx.Response:
    return httpx.post(url + "/pubsub/push", json=pubsub_push(*obj, **kw), timeout=30)


def _done(body: dict[str, Any]) -> bool:
    return body["state"] != "running"


def test_duplicate_and_out_of_order_manifest_events(gcs_env: Backend) -> None:
    be, root = gcs_env, gcs_env.root()
    older = extract_manifest(be, root)
    newer = extract_manifest(be, root)
    with orchestrator(be, root) as url:
        first = _ce(url, *manifest_object(newer))
        assert first.status_code == 200 and first.json()["status"] == "accepted", first.text
        run_newer = first.json()["run_id"]
        dup = _ce(
            url, *manifest_object(newer), structured=True
        )  # same object, other mode: a duplicate
        assert dup.status_code == 200
        assert dup.json() | {"status": "duplicate", "run_id": run_newer} == dup.json()
        busy = _push(
            url, *manifest_object(older)
        )  # the dbt-runner is building: transient, redeliver
        assert busy.status_code == 503 and busy.json()["status"] == "retry", busy.text
        run = wait_for(f"{url}/runs/{run_newer}", _done, 120)
        assert run["state"] == "succeeded" and run["trigger"] == "event", run
        assert run["event"]["name"].endswith(newer.rpartition("/")[2])
        newer_load = newer.rpartition("/")[2].removesuffix(".json")
        assert loaded_load_id(be.duckdb_path) == newer_load
        late = _push(
            url, *manifest_object(older)
        )  # redelivered after the newer one: refused, recorded
        assert late.status_code == 200 and late.json()["status"] == "accepted", late.text
        refused = wait_for(f"{url}/runs/{late.json()['run_id']}", _done, 60)
        assert refused["state"] == "failed" and refused["transient"] is False
        assert "older than the loaded" in refused["steps"]["build"]["error"]
        again = _push(url, *manifest_object(older))
        assert (
            again.json() | {"status": "duplicate", "run_id": late.json()["run_id"]} == again.json()
        )
        assert loaded_load_id(be.duckdb_path) == newer_load  # the warehouse kept the newer load
        states = sorted(r["state"] for r in get(url + "/runs"))
        assert states == ["failed", "failed", "succeeded"]  # busy attempt, refusal, the build


def test_unrelated_objects_are_acknowledged_and_ignored(gcs_env: Backend) -> None:
    be, root = gcs_env, gcs_env.root()
    bucket, prefix = split_gs_uri(root)
    with orchestrator(be, root) as url:
        for name in (
            f"{prefix}/20261130T000000Z-abcdef/commits/part-00000.parquet",
            f"{prefix}/build-results/20261130T000000Z-abcdef.json",
            f"{prefix}/orchestrator/runs/20261130T000000Z-abcdef.json",
            "elsewhere/readme.txt",
        ):
            answer = _ce(url, bucket, name, "1")
            assert answer.status_code == 200 and answer.json()["status"] == "ignored", answer.text
            assert _push(url, bucket, name, "1").json()["status"] == "ignored"
        deleted = _ce(
            url,
            bucket,
            f"{prefix}/manifests/20261130T000000Z-abcdef.json",
            "1",
            event_type="google.cloud.storage.object.v1.deleted",
        )
        assert (
            deleted.json()["status"] == "ignored" and "not a finalize" in deleted.json()["reason"]
        )
        assert get(url + "/runs") == []
    assert open_store(root).list("orchestrator/") == []


def test_malformed_events_get_400_with_a_reason_and_change_nothing(gcs_env: Backend) -> None:
    be, root = gcs_env, gcs_env.root()
    bucket, prefix = split_gs_uri(root)
    manifest = f"{prefix}/manifests/20261130T000000Z-abcdef.json"
    headers, body = storage_cloudevent(bucket, manifest, "7")
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/", {"content": b"not an event", "headers": {"content-type": "text/plain"}}),
        ("/", {"content": body, "headers": {k: v for k, v in headers.items() if k != "ce-id"}}),
        (
            "/",
            {
                "content": b'{"specversion": "1.0", "id": "x"',
                "headers": {"content-type": "application/cloudevents+json"},
            },
        ),
        ("/", {"content": b"{}", "headers": headers}),  # no generation anywhere
        ("/pubsub/push", {"content": b"[1, 2]"}),
        ("/pubsub/push", {"json": {"message": {"data": "e30="}}}),
        ("/pubsub/push", {"json": pubsub_push(bucket, manifest, "")}),
        (
            "/pubsub/push",
            {"json": {"message": {"attributes": {"eventType": "OBJECT_FINALIZE"}, "data": "%%%"}}},
        ),
    ]
    with orchestrator(be, root) as url:
        for path, kwargs in cases:
            answer = httpx.post(url + path, timeout=10, **kwargs)
            assert answer.status_code == 400, (path, kwargs, answer.text)
            assert answer.json()["status"] == "rejected" and answer.json()["reason"]
        assert get(url + "/runs") == []
    assert open_store(root).list("orchestrator/") == []
