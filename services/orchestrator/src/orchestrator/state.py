"""Run records and event dedupe markers, persisted in the bucket beside the manifests.

The bucket is the only durable state: a restarted orchestrator re-reads its runs from
`<root>/orchestrator/runs/` and loses nothing. Dedupe markers are created with `if_absent`
(a generation-match precondition on GCS), so two deliveries of one event racing on two instances
still start one build. Run records are written compare-and-swap (`etl_common.storage_conditional`):
a save is based on the generation its copy was read or last written at, and fails with
`RecordChanged` if anyone else wrote the record since, so two instances never clobber each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging

from etl_common.layout import RUNS_DIR, event_marker_key, run_key
from etl_common.storage import ObjectExists, ObjectNotFound, ObjectStore, open_store
from etl_common.storage_conditional import (
    GenerationMismatch,
    Versioned,
    get_versioned,
    put_if_generation,
)
from orchestrator.models import ObjectRef, Run

log = logging.getLogger(__name__)


def event_key(ref: ObjectRef) -> str:
    """Object names may hold any character: hash them into a safe key."""
    digest = hashlib.sha256(f"{ref.bucket}\n{ref.name}\n{ref.generation}".encode()).hexdigest()
    return event_marker_key(digest)


class RecordChanged(Exception):
    """Someone else wrote the run record since this copy was read; `current` is what is there now
    (None if it is gone). Not an `EtlError`: it is not a failure of the run."""

    def __init__(self, run_id: str, current: Run | None) -> None:
        owner = current.owner if current is not None else "nobody (the record is gone)"
        super().__init__(f"run {run_id} was written by {owner} since this copy was read")
        self.current = current


class RunStore:
    """Synchronous bucket calls run in a worker thread so the event loop keeps serving."""

    def __init__(self, root: str, store: ObjectStore | None = None) -> None:
        self.root = root
        self.store = store or open_store(root)

    def url_for(self, key: str) -> str:
        return self.store.url_for(key)

    async def save(self, run: Run) -> None:
        """Write `run` if the record is still at the generation this copy is based on (absent for a
        new run); `RecordChanged` otherwise, with nothing written."""
        data = run.model_dump_json(indent=2).encode()
        key = run_key(run.run_id)
        try:
            run._generation = await asyncio.to_thread(
                put_if_generation,
                self.store,
                key,
                data,
                run._generation,
                content_type="application/json",
            )
        except GenerationMismatch:
            read = await self._read(run.run_id)
            if read is not None and read.data == data:
                run._generation = read.generation  # our own write, acknowledged late
                return
            raise RecordChanged(run.run_id, self._parse(read)) from None

    async def _read(self, run_id: str) -> Versioned | None:
        try:
            return await asyncio.to_thread(get_versioned, self.store, run_key(run_id))
        except (ObjectNotFound, ValueError):
            return None

    @staticmethod
    def _parse(read: Versioned | None) -> Run | None:
        if read is None:
            return None
        run = Run.model_validate_json(read.data)
        run._generation = read.generation
        return run

    async def load(self, run_id: str) -> Run | None:
        """The record as it is now, carrying its generation (a save of it is based on that)."""
        return self._parse(await self._read(run_id))

    async def run_ids(self) -> list[str]:
        keys = await asyncio.to_thread(self.store.list, RUNS_DIR + "/")
        return [k.rsplit("/", 1)[-1].removesuffix(".json") for k in keys if k.endswith(".json")]

    async def load_all(self) -> list[Run]:
        runs = []
        for run_id in await self.run_ids():
            run = await self.load(run_id)
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
