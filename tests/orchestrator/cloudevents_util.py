"""Real storage events, built with the `cloudevents` SDK and in the Pub/Sub push shape."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from cloudevents.core.bindings.http import to_binary_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent

FINALIZED = "google.cloud.storage.object.v1.finalized"


def object_resource(bucket: str, name: str, generation: str) -> dict[str, Any]:
    return {
        "kind": "storage#object",
        "bucket": bucket,
        "name": name,
        "generation": generation,
        "size": "123",
        "contentType": "application/json",
        "timeCreated": "2026-11-30T00:00:00Z",
    }


def storage_cloudevent(
    bucket: str,
    name: str,
    generation: str,
    *,
    structured: bool = False,
    event_type: str = FINALIZED,
) -> tuple[dict[str, str], bytes]:
    """What Eventarc POSTs to `/`: headers and body, binary mode unless `structured`."""
    event = CloudEvent(
        attributes={
            "id": secrets.token_hex(8),
            "specversion": "1.0",
            "type": event_type,
            "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
            "subject": f"objects/{name}",
            "datacontenttype": "application/json",
        },
        data=object_resource(bucket, name, generation),
    )
    message = to_structured_event(event) if structured else to_binary_event(event)
    return dict(message.headers), message.body


def pubsub_push(
    bucket: str, name: str, generation: str, event_type: str = "OBJECT_FINALIZE"
) -> dict[str, Any]:
    """What a Pub/Sub push subscription POSTs for a GCS notification."""
    data = json.dumps(object_resource(bucket, name, generation)).encode()
    return {
        "message": {
            "attributes": {
                "eventType": event_type,
                "bucketId": bucket,
                "objectId": name,
                "objectGeneration": generation,
                "payloadFormat": "JSON_API_V1",
            },
            "data": base64.b64encode(data).decode(),
            "messageId": secrets.token_hex(6),
            "publishTime": "2026-11-30T00:00:00Z",
        },
        "subscription": "projects/local/subscriptions/orchestrator",
    }
