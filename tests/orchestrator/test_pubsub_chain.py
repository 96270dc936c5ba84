"""The real notification chain: fake-gcs-server finalize events -> Pub/Sub emulator -> push
subscription -> orchestrator -> dbt-runner, with duplicated and out-of-order deliveries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from .harness import (
    Backend,
    backend,
    extract_manifest,
    get,
    loaded_load_id,
    manifest_object,
    orchestrator,
)
from .pubsub_emulator import (
    PROJECT,
    TOPIC,
    create_push_subscription,
    create_topic,
    missing_reason,
    publish_finalize,
    run_pubsub_emulator,
)
from .stand_ins import until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.emulator,
    pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or ""),
]


def _event_lines(log: Path, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("message") == "storage event" and x.get("object") == name]


def test_finalize_events_through_pubsub_build_once_and_refuse_the_older(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with run_pubsub_emulator(tmp_path / "pubsub.log") as pubsub:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub)  # read by fake-gcs-server
        create_topic(pubsub)
        args = (
            "-event.pubsub-project-id",
            PROJECT,
            "-event.pubsub-topic",
            TOPIC,
            "-event.list",
            "finalize",
        )
        with backend(tmp_path, extra_gcs_args=args) as be:
            monkeypatch.setenv("STORAGE_EMULATOR_HOST", be.gcs)
            _chain(be, pubsub, tmp_path / "orchestrator.log")


def _chain(be: Backend, pubsub: str, log: Path) -> None:
    root = be.root()
    older = extract_manifest(be, root)  # published before any subscription: never delivered
    with orchestrator(be, root) as url:
        create_push_subscription(pubsub, url + "/pubsub/push")
        newer = extract_manifest(be, root)  # 4 data files + 1 manifest, published concurrently
        run = until(
            "a run ends",
            lambda: [r for r in get(url + "/runs") if r["state"] != "running"],
            60,
        )[0]
        assert run["trigger"] == "event" and run["state"] == "succeeded", run
        assert run["manifest_uri"] == newer
        newer_load = newer.rpartition("/")[2].removesuffix(".json")
        data_events = [
            json.loads(x) for x in log.read_text().splitlines() if '"event_status": "ignored"' in x
        ]
        assert len(data_events) >= 4  # the data files: acknowledged and ignored
        for _ in range(2):  # the producer delivers the newer manifest twice more
            publish_finalize(pubsub, *manifest_object(newer))
        publish_finalize(pubsub, *manifest_object(older))  # and the older one, late
        refused = until(
            "the older manifest refused",
            lambda: [
                r
                for r in get(url + "/runs")
                if r["manifest_uri"] == older and r["state"] != "running"
            ],
            60,
        )[0]
        assert refused["state"] == "failed"
        assert "older than the loaded" in refused["steps"]["build"]["error"]
        newer_name = manifest_object(newer)[1]
        dups = until(
            "two duplicate deliveries answered",
            lambda: (
                [x for x in _event_lines(log, newer_name) if x["event_status"] == "duplicate"][1:]
                or None
            ),
            60,
        )
        assert all(x["run_id"] == run["run_id"] and x["http_status"] == 200 for x in dups)
        assert len(get(url + "/runs")) == 2
    assert loaded_load_id(be.duckdb_path) == newer_load


def test_pubsub_setup_command_creates_topic_and_push_subscription_idempotently(
    tmp_path: Path,
) -> None:
    """The compose `events` profile's one-shot (`python -m orchestrator.pubsub_setup`), run twice."""
    argv = [
        sys.executable, "-m", "orchestrator.pubsub_setup", "--project", "compose-proj",
        "--topic", "gcs-events", "--subscription", "orchestrator-push",
        "--push-endpoint", "http://orchestrator:8080/pubsub/push",
    ]  # fmt: skip
    without = {k: v for k, v in os.environ.items() if k != "PUBSUB_EMULATOR_HOST"}
    missing = subprocess.run(argv, env=without, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "PUBSUB_EMULATOR_HOST" in missing.stderr
    with run_pubsub_emulator(tmp_path / "pubsub.log") as pubsub:
        env = {**without, "PUBSUB_EMULATOR_HOST": pubsub}
        for _ in range(2):
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        sub = httpx.get(
            f"http://{pubsub}/v1/projects/compose-proj/subscriptions/orchestrator-push", timeout=10
        ).json()
    assert sub["topic"] == "projects/compose-proj/topics/gcs-events"
    assert sub["pushConfig"]["pushEndpoint"] == "http://orchestrator:8080/pubsub/push"
