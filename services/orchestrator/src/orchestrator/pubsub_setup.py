"""`python -m orchestrator.pubsub_setup`: create a topic and a push subscription on the Pub/Sub emulator.

The local stack's `events` profile runs it once so that fake-gcs-server's finalize events reach the
orchestrator's `/pubsub/push`, as Eventarc does in production. It talks to the emulator's REST API at
PUBSUB_EMULATOR_HOST; both PUTs are idempotent (409 "already exists" is success).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import httpx

RETRY_FOR_S = 60.0


def _put(client: httpx.Client, path: str, body: dict[str, object]) -> None:
    response = client.put(path, json=body)
    if response.status_code not in (200, 409):
        raise RuntimeError(f"PUT {path}: {response.status_code} {response.text}")


def create_topic(host: str, project: str, topic: str) -> None:
    with httpx.Client(base_url=f"http://{host}/v1/projects/{project}/", timeout=10) as client:
        _put(client, f"topics/{topic}", {})


def create_push_subscription(
    host: str, project: str, topic: str, subscription: str, endpoint: str
) -> None:
    with httpx.Client(base_url=f"http://{host}/v1/projects/{project}/", timeout=10) as client:
        _put(
            client,
            f"subscriptions/{subscription}",
            {
                "topic": f"projects/{project}/topics/{topic}",
                "pushConfig": {"pushEndpoint": endpoint},
                "ackDeadlineSeconds": 30,
            },
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m orchestrator.pubsub_setup", description=__doc__)
    p.add_argument("--project", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--subscription", required=True)
    p.add_argument("--push-endpoint", required=True)
    args = p.parse_args(argv)
    host = os.environ.get("PUBSUB_EMULATOR_HOST")
    if not host:
        print("pubsub_setup: PUBSUB_EMULATOR_HOST is not set", file=sys.stderr)
        return 2
    deadline = time.monotonic() + RETRY_FOR_S
    while True:  # the emulator may still be starting
        try:
            create_topic(host, args.project, args.topic)
            create_push_subscription(
                host, args.project, args.topic, args.subscription, args.push_endpoint
            )
        except (httpx.HTTPError, RuntimeError) as exc:
            if time.monotonic() > deadline:
                print(f"pubsub_setup: {exc}", file=sys.stderr)
                return 1
            time.sleep(1)
            continue
        print(
            f"topic {args.topic} -> push subscription {args.subscription} -> {args.push_endpoint}"
        )
        return 0


if __name__ == "__main__":
    sys.exit(main())
