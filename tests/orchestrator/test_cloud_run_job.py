"""Production build trigger: a manifest event makes the orchestrator call the Cloud Run Admin API
(`run_v2.JobsClient.run_job`) for the dbt-runner job with the manifest as an argument override.
Checked against a local HTTP server that records the request; no live project is involved."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from dev_stack.processes import http_ok, running

from ..service_harness import wait_for
from .cloudevents_util import storage_cloudevent
from .harness import Backend, orchestrator_process

pytestmark = [pytest.mark.emulator]
JOB = "projects/demo-project/locations/europe-west1/jobs/dbt-runner"
LOADER_JOB = "projects/demo-project/locations/europe-west1/jobs/loader"
OPERATION = "projects/demo-project/locations/europe-west1/operations/op-123"


@pytest.fixture
def admin_api() -> Iterator[tuple[str, list[dict[str, Any]], list[int]]]:
    """A recording stand-in for run.googleapis.com; `status` holds the code it answers with."""
    recorded: list[dict[str, Any]] = []
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            path = self.path.split("?", 1)[0]
            recorded.append({"path": path, "body": json.loads(body or b"{}")})
            answer = (
                {"name": OPERATION, "done": False}
                if status[0] == 200
                else {
                    "error": {
                        "code": status[0],
                        "message": "stand-in error",
                        "status": "UNAVAILABLE",
                    }
                }
            )
            data = json.dumps(answer).encode()
            self.send_response(status[0])
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorded, status
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_manifest_event_executes_the_dbt_runner_job_with_the_manifest_override(
    gcs_env: Backend, admin_api: tuple[str, list[dict[str, Any]], list[int]]
) -> None:
    endpoint, recorded, status = admin_api
    be, root = gcs_env, gcs_env.root()
    proc, url = orchestrator_process(be, root)
    proc.env = {
        **(proc.env or {}),
        "ORCHESTRATOR_DBT_RUNNER_MODE": "cloud_run_job",
        "ORCHESTRATOR_CLOUD_RUN_JOB": JOB,
        "ORCHESTRATOR_CLOUD_RUN_ENDPOINT": endpoint,
    }
    bucket, prefix = root.removeprefix("gs://").split("/", 1)
    first = f"{prefix}/manifests/20261130T010000Z-aaaaaa.json"
    second = f"{prefix}/manifests/20261130T020000Z-bbbbbb.json"
    with running(proc, http_ok(url + "/healthz"), timeout_s=60):
        headers, body = storage_cloudevent(bucket, first, "11")
        answer = httpx.post(url + "/", headers=headers, content=body, timeout=30)
        assert answer.status_code == 200 and answer.json()["status"] == "accepted", answer.text
        run = wait_for(f"{url}/runs/{answer.json()['run_id']}", lambda b: b["state"] != "running")
        assert run["state"] == "submitted" and run["steps"]["build"]["remote_id"] == OPERATION
        assert recorded == [
            {
                "path": f"/v2/{JOB}:run",
                "body": {
                    "overrides": {
                        "containerOverrides": [
                            {"args": ["run", "--manifest", f"gs://{bucket}/{first}"]}
                        ],
                        "taskCount": 1,
                    },
                },
            }
        ]
        status[0] = 503  # the Admin API is unavailable: answer 5xx so the event comes back
        headers, body = storage_cloudevent(bucket, second, "12")
        retry = httpx.post(url + "/", headers=headers, content=body, timeout=60)
        assert retry.status_code == 503 and retry.json()["status"] == "retry", retry.text
        status[0] = 200
        redelivered = httpx.post(url + "/", headers=headers, content=body, timeout=30)
        assert redelivered.json()["status"] == "accepted", redelivered.text
    assert [r["body"]["overrides"]["containerOverrides"][0]["args"][-1] for r in recorded][-1] == (
        f"gs://{bucket}/{second}"
    )


def test_post_run_executes_the_loader_job_and_leaves_the_build_to_the_manifest_event(
    gcs_env: Backend, admin_api: tuple[str, list[dict[str, Any]], list[int]]
) -> None:
    endpoint, recorded, _ = admin_api
    be, root = gcs_env, gcs_env.root()
    proc, url = orchestrator_process(be, root)
    proc.env = {
        **(proc.env or {}),
        "ORCHESTRATOR_DBT_RUNNER_MODE": "cloud_run_job",
        "ORCHESTRATOR_CLOUD_RUN_JOB": JOB,
        "ORCHESTRATOR_CLOUD_RUN_LOADER_JOB": LOADER_JOB,
        "ORCHESTRATOR_CLOUD_RUN_ENDPOINT": endpoint,
    }
    with running(proc, http_ok(url + "/healthz"), timeout_s=60):
        started = httpx.post(url + "/run", timeout=30)
        assert started.status_code == 202, started.text
        run = wait_for(f"{url}/runs/{started.json()['run_id']}", lambda b: b["state"] != "running")
    assert run["state"] == "submitted", run
    assert (
        run["steps"]["extract"] | {"state": "submitted", "remote_id": OPERATION}
        == run["steps"]["extract"]
    )
    assert run["steps"]["build"]["state"] == "pending"
    assert recorded == [
        {
            "path": f"/v2/{LOADER_JOB}:run",
            "body": {
                "overrides": {
                    "containerOverrides": [{"args": ["extract", "--output", root]}],
                    "taskCount": 1,
                }
            },
        }
    ]
