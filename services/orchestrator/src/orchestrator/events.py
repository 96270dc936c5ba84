"""Storage events in both wire shapes, reduced to one `ObjectRef` (bucket, name, generation).

Eventarc delivers CloudEvents (binary or structured mode), parsed with the `cloudevents` SDK;
fake-gcs-server → Pub/Sub push delivers an envelope whose attributes carry the same facts. Anything
that cannot be reduced raises `MalformedEvent`, which the API answers with 400 and a reason.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Literal

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from cloudevents.core.exceptions import BaseCloudEventException
from pydantic import BaseModel, ValidationError

from etl_common.layout import manifest_load_id
from orchestrator.models import ObjectRef

FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBSUB_FINALIZE = "OBJECT_FINALIZE"


class MalformedEvent(ValueError):
    """The request is not a storage event we can read; nothing was changed."""


class Classified(BaseModel):
    """What an event means to us: a manifest to build, or something to acknowledge and ignore."""

    kind: Literal["manifest", "ignored"]
    reason: str
    load_id: str | None = None
    manifest_uri: str | None = None


def classify(ref: ObjectRef, event_type: str) -> Classified:
    """Consumers act on manifests only; data files, build results and run records are ignored."""
    if event_type not in (FINALIZED, PUBSUB_FINALIZE):
        return Classified(kind="ignored", reason=f"event type {event_type} is not a finalize")
    load_id = manifest_load_id(ref.name)
    if load_id is None:
        return Classified(kind="ignored", reason=f"{ref.name} is not a manifest")
    return Classified(
        kind="manifest",
        reason="manifest finalized",
        load_id=load_id,
        manifest_uri=f"gs://{ref.bucket}/{ref.name}",
    )


def _ref(bucket: Any, name: Any, generation: Any, where: str) -> ObjectRef:
    missing = [
        k for k, v in (("bucket", bucket), ("name", name), ("generation", generation)) if not v
    ]
    if missing:
        raise MalformedEvent(f"{where}: missing {', '.join(missing)}")
    try:
        return ObjectRef(bucket=str(bucket), name=str(name), generation=str(generation))
    except ValidationError as exc:
        raise MalformedEvent(f"{where}: {exc.errors()[0]['msg']}") from None


def _require_attributes(headers: dict[str, str], body: bytes) -> None:
    """The SDK invents a missing `id` and `time`; a receiver must not, or dedupe breaks."""
    if headers.get("content-type", "").startswith("application/cloudevents"):
        try:
            envelope = json.loads(body)
        except ValueError:
            raise MalformedEvent("structured CloudEvent body is not JSON") from None
        present = set(envelope) if isinstance(envelope, dict) else set()
    else:
        present = {k.removeprefix("ce-") for k in headers if k.startswith("ce-")}
    missing = sorted({"id", "source", "type", "specversion"} - present)
    if missing:
        raise MalformedEvent(
            f"not a CloudEvent: missing required attribute(s) {', '.join(missing)}"
        )


def from_cloudevent(headers: dict[str, str], body: bytes) -> tuple[ObjectRef, str]:
    """A CloudEvent over HTTP (binary or structured mode) -> (object, event type)."""
    headers = {k.lower(): v for k, v in headers.items()}
    _require_attributes(headers, body)
    try:
        event: BaseCloudEvent = from_http_event(HTTPMessage(headers=headers, body=body))
    except (BaseCloudEventException, ValueError, KeyError, TypeError) as exc:
        raise MalformedEvent(f"not a CloudEvent: {type(exc).__name__}: {exc}") from None
    data = event.get_data()
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError:
            raise MalformedEvent("CloudEvent data is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedEvent("CloudEvent data is not an object resource")
    subject = event.get_subject() or ""
    name = data.get("name") or subject.removeprefix("objects/") or None
    source = event.get_source() or ""
    bucket = data.get("bucket") or (
        source.rsplit("/buckets/", 1)[-1] if "/buckets/" in source else None
    )
    return _ref(bucket, name, data.get("generation"), "CloudEvent"), event.get_type()


def from_pubsub_push(body: bytes) -> tuple[ObjectRef, str]:
    """A Pub/Sub push envelope from a GCS notification -> (object, event type)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        raise MalformedEvent("body is not JSON") from None
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict):
        raise MalformedEvent("no `message` object in the push envelope")
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict) or "eventType" not in attributes:
        raise MalformedEvent("message has no `attributes.eventType`: not a storage notification")
    resource: dict[str, Any] = {}
    if message.get("data"):
        try:
            decoded = json.loads(base64.b64decode(message["data"], validate=True))
            resource = decoded if isinstance(decoded, dict) else {}
        except (binascii.Error, ValueError, TypeError):
            raise MalformedEvent("message data is not base64 JSON") from None
    ref = _ref(
        attributes.get("bucketId") or resource.get("bucket"),
        attributes.get("objectId") or resource.get("name"),
        attributes.get("objectGeneration") or resource.get("generation"),
        "Pub/Sub message",
    )
    return ref, str(attributes["eventType"])
