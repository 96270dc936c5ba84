"""Run records and event dedupe markers, persisted in the bucket beside the manifests.

The bucket is the only durable state: a restarted orchestrator re-reads its runs from
`<root>/orchestrator/runs/` and loses nothing. Dedupe markers are created with `if_absent`
(a generation-match precondition on GCS), so two deliveries of one event racing on two instances
still start one build.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging

from etl_common.storage import ObjectExists, ObjectNotFound, ObjectStore, open_store
from orchestrator.models import ObjectRef, Run

log = logging.getLogger(__name__)
RUNS_DIR = "orchestrator/runs"
EVENTS_DIR = "orchestrator/events"


def run_key(run_id: str) -> str:
    return f"{RUNS_DIR}/{run_id}.json"


def event_key(ref: ObjectRef) -> str:
    """Object names may hold any character: hash them into a safe key."""
    digest = hashlib.sha256(f"{ref.bucket}\n{ref.name}\n{ref.generation}".encode()).hexdigest()
    return f"{EVENTS_DIR}/{digest}.json"


class RunStore:
    """Synchronous bucket calls run in a worker thread so the event loop keeps serving."""

    def __init__(self, root: str, store: ObjectStore | None = None) -> None:
        self.root = root
        self.store = store or open_store(root)

    def url_for(self, key: str) -> str:
        return self.store.url_for(key)

    async def save(self, run: Run) -> None:
        data = run.model_dump_json(indent=2).encode()
        await asyncio.to_thread(
            self.store.put_bytes, run_key(run.run_id), data, content_type="application/json"
        )

    async def load(self, run_id: str) -> Run | None:
        try:
            data = await asyncio.to_thread(self.store.get_bytes, run_key(run_id))
        except (ObjectNotFound, ValueError):
            return None
        return Run.model_validate_json(data)

    async def load_all(self) -> list[Run]:
        keys = await asyncio.to_thread(self.store.list, RUNS_DIR + "/")
        runs = []
        for key in keys:
            if key.endswith(".json"):
                run = await self.load(key.rsplit("/", 1)[-1].removesuffix(".json"))
                if run is not None:
                    runs.append(run)
        return runs

    async def claim_event(self, ref: ObjectRef, run_id: str) -> str | None:
        """Record that `run_id` handles this event; None if won, else the run id that already has it."""
        key = event_key(ref)
        body = json.dumps({**ref.model_dump(), "run_id": run_id}).encode()
        try:
            await asyncio.to_thread(
                self.store.put_bytes, key, body, content_type="application/json", if_absent=True
            )
            return None
        except ObjectExists:
            data = await asyncio.to_thread(self.store.get_bytes, key)
            return str(json.loads(data)["run_id"])

    async def release_event(self, ref: ObjectRef) -> None:
        """Forget a claim after a transient failure, so the redelivered event is processed again."""
        with contextlib.suppress(ObjectNotFound):
            await asyncio.to_thread(self.store.delete, event_key(ref))
