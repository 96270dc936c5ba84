"""What the orchestrator does with one storage event, whichever wire shape it arrived in.

Delivery is at least once and unordered, so: a manifest event is claimed once per (bucket, name,
generation) with a create-if-absent marker in the bucket; duplicates are answered 2xx with the run that
has it. A transient failure (dbt-runner busy or unreachable) releases the claim and answers 5xx so the
event comes back; a terminal one is recorded on the run and answered 2xx. An older manifest arriving
after a newer one is refused by the dbt-runner itself, and that refusal is recorded on the run.
"""

from __future__ import annotations

import logging
from typing import Any

from etl_common.errors import EtlError
from orchestrator.engine import Engine
from orchestrator.events import classify
from orchestrator.models import ObjectRef, Run, Step
from orchestrator.steps import start_build

log = logging.getLogger(__name__)


async def handle_object(
    engine: Engine, ref: ObjectRef, event_type: str
) -> tuple[int, dict[str, Any]]:
    """Return the HTTP status and body to answer the delivery with."""
    what = classify(ref, event_type)
    base = {"bucket": ref.bucket, "name": ref.name, "generation": ref.generation}
    if what.kind == "ignored":
        return 200, {**base, "status": "ignored", "reason": what.reason}
    for other in engine.runs.values():  # a `POST /run` pipeline builds its own manifest
        extract = other.steps.get("extract")
        if other.trigger == "api" and extract is not None and extract.remote_id == what.load_id:
            return 200, {
                **base,
                "status": "duplicate",
                "run_id": other.run_id,
                "reason": "this manifest belongs to a pipeline run that builds it",
            }
    run = Run(
        trigger="event",
        owner=engine.instance,
        event=ref,
        manifest_uri=what.manifest_uri,
        steps={"build": Step()},
    )
    holder = await engine.store.claim_event(ref, run.run_id)
    if holder is not None:
        previous = engine.runs.get(holder) or await engine.store.load(holder)
        if previous is None or not (previous.state == "failed" and previous.transient):
            return 200, {
                **base,
                "status": "duplicate",
                "run_id": holder,
                "reason": "this event was already handled",
            }
        await engine.store.release_event(ref)  # that attempt failed transiently: take it over
        if await engine.store.claim_event(ref, run.run_id) is not None:
            return 200, {
                **base,
                "status": "duplicate",
                "run_id": holder,
                "reason": "another delivery took this event over",
            }
    step = run.steps["build"]
    try:
        await start_build(engine, run, step, wait_busy_s=0)
    except EtlError as exc:
        step.end("failed", str(exc), error_type=type(exc).__name__, transient=exc.transient)
        run.finish("failed", f"build: {exc}", exc.transient)
        engine.runs[run.run_id] = run
        await engine.persist(run)
        if exc.transient:
            await engine.store.release_event(ref)
            log.warning("event deferred", extra={"run_id": run.run_id, "error": str(exc)})
            return 503, {**base, "status": "retry", "run_id": run.run_id, "reason": str(exc)}
        return 200, {**base, "status": "failed", "run_id": run.run_id, "reason": str(exc)}
    await engine.persist(run)
    engine.spawn(run)
    return 200, {**base, "status": "accepted", "run_id": run.run_id}
