"""The Google Cloud CLI's Pub/Sub emulator as a process on a free port, driven through its REST API.

It is not on PyPI or in Debian: where it is missing, tests that need it are skipped with that reason.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx

from dev_stack.processes import ManagedProcess, free_port, http_ok, running
from orchestrator import pubsub_setup

EMULATOR_HOME = Path("/usr/lib/google-cloud-sdk/platform/pubsub-emulator")
EMULATOR_BIN = EMULATOR_HOME / "bin" / "cloud-pubsub-emulator"
PROJECT, TOPIC, SUBSCRIPTION = "local-proj", "gcs-events", "orchestrator-push"


def missing_reason() -> str | None:
    if not EMULATOR_BIN.is_file():
        return (
            f"Pub/Sub emulator not installed ({EMULATOR_BIN} is absent; it ships with the Google "
            "Cloud CLI component `pubsub-emulator`, not with PyPI or Debian)"
        )
    return None


@contextlib.contextmanager
def run_pubsub_emulator(log_path: Path) -> Iterator[str]:
    """Yield `127.0.0.1:N` (the form PUBSUB_EMULATOR_HOST takes)."""
    port = free_port()
    proc = ManagedProcess(
        "pubsub-emulator",
        [str(EMULATOR_BIN), "--host=127.0.0.1", f"--port={port}"],
        log_path=log_path,
    )
    with running(proc, http_ok(f"http://127.0.0.1:{port}/"), timeout_s=60):
        yield f"127.0.0.1:{port}"


def create_topic(host: str) -> None:
    pubsub_setup.create_topic(host, PROJECT, TOPIC)


def create_push_subscription(host: str, endpoint: str) -> None:
    pubsub_setup.create_push_subscription(host, PROJECT, TOPIC, SUBSCRIPTION, endpoint)


def publish_finalize(host: str, bucket: str, name: str, generation: str) -> None:
    """Publish what fake-gcs-server publishes for a finalize: a redelivery as the producer sees it."""
    data = json.dumps({"bucket": bucket, "name": name, "generation": generation}).encode()
    message = {
        "attributes": {
            "eventType": "OBJECT_FINALIZE",
            "bucketId": bucket,
            "objectId": name,
            "objectGeneration": generation,
            "payloadFormat": "JSON_API_V1",
        },
        "data": base64.b64encode(data).decode(),
    }
    r = httpx.post(
        f"http://{host}/v1/projects/{PROJECT}/topics/{TOPIC}:publish",
        json={"messages": [message]},
        timeout=10,
    )
    assert r.status_code == 200, r.text
