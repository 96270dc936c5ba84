"""A run's two steps against the loader and the dbt-runner, their answers read as the contract says
(`etl_common.contract`): `extract` starts and follows a load, `build` starts (or joins) and follows a
build of the run's manifest. Each ends its step with what the service answered, `transient` included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from etl_common.contract import BuildBusy, BuildStatus, Failure, LoadStatus
from etl_common.urls import redact_text
from orchestrator.clients import ServiceBusy, ServiceClient, ServiceError, ServiceUnavailable
from orchestrator.models import Run, Step

if TYPE_CHECKING:
    from orchestrator.engine import Engine

Status = TypeVar("Status", LoadStatus, BuildStatus)
_SAVE_EVERY_S = 2.0


class ServiceRestarted(ServiceUnavailable):
    """The service no longer knows the remote step: it restarted (or another instance answered)."""


def _end_failed(step: Step, failure: Failure, fallback: str, **fields: object) -> None:
    step.end(
        "failed",
        redact_text(failure.error or fallback),
        error_type=failure.error_type,
        transient=bool(failure.transient),
        **fields,
    )


async def extract(engine: Engine, run: Run, step: Step) -> None:
    settings = engine.settings
    if step.state == "pending" and settings.cloud_run_loader_job:
        from orchestrator.cloudrun import run_loader_job

        step.begin(await asyncio.to_thread(run_loader_job, settings))
        step.end("submitted")
        run.notes.append("loader job submitted; its manifest's storage event starts the build")
        return
    if step.state == "pending":
        started = await engine.loader.call("POST", "/runs", LoadStatus, {"output": settings.root})
        step.begin(started.load_id)
        await engine.persist(run)
    status = await follow(
        engine,
        run,
        engine.loader,
        "load",
        step,
        LoadStatus,
        _on_extract,
        settings.extract_timeout_s,
    )
    _on_extract(step, status)
    if status.state == "succeeded":
        run.manifest_uri = status.manifest_uri
        step.end("succeeded", requests=status.requests, warnings=status.warnings)
    else:
        _end_failed(step, status, "the extraction failed (see loader log)")
    await engine.persist(run)


def _on_extract(step: Step, status: LoadStatus) -> None:
    step.rows, step.pages = status.rows, status.pages


async def build(engine: Engine, run: Run, step: Step) -> None:
    if run.manifest_uri is None:
        raise ServiceError("no manifest to build from")
    if step.state == "pending":
        await start_build(engine, run, step, wait_busy_s=engine.settings.busy_retry_s)
        await engine.persist(run)
    if step.state != "running":
        return
    status = await follow(
        engine,
        run,
        engine.runner,
        "build",
        step,
        BuildStatus,
        None,
        engine.settings.build_timeout_s,
    )
    result = status.result
    run.result_uri = result.result_uri if result else None
    counts = result.dbt.counts if result and result.dbt else {}
    rows = result.raw_load.rows if result and result.raw_load else {}
    if status.state in ("succeeded", "already_loaded"):
        step.end(status.state, counts=counts, rows=rows)
    else:
        failure = status if status.error else (result or status)
        _end_failed(
            step, failure, "the build crashed (see dbt-runner log)", counts=counts, rows=rows
        )
    await engine.persist(run)


async def start_build(engine: Engine, run: Run, step: Step, *, wait_busy_s: float) -> None:
    """Start a build of `run.manifest_uri`, or follow the one already building that manifest."""
    if engine.settings.dbt_runner_mode == "cloud_run_job":
        from orchestrator.cloudrun import run_build_job

        execution = await asyncio.to_thread(run_build_job, engine.settings, run.manifest_uri or "")
        step.begin(execution)
        step.end("submitted")
        return
    deadline = time.monotonic() + wait_busy_s
    while True:
        try:
            body = {"manifest_uri": run.manifest_uri}
            step.begin((await engine.runner.call("POST", "/runs", BuildStatus, body)).build_id)
            return
        except ServiceBusy as busy:
            holder = _busy(busy)
            if holder is not None and holder.manifest_uri == run.manifest_uri:
                step.begin(holder.build_id)
                run.notes.append(
                    f"followed build {holder.build_id} already running for this manifest"
                )
                return
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(1.0)


def _busy(busy: ServiceBusy) -> BuildBusy | None:
    try:
        return BuildBusy.model_validate(busy.detail)
    except ValidationError:
        return None


async def follow(
    engine: Engine,
    run: Run,
    client: ServiceClient,
    what: str,
    step: Step,
    answer: type[Status],
    on_status: Callable[[Step, Status], None] | None,
    timeout_s: float,
) -> Status:
    """Poll a remote run until it leaves `running`; ride out short outages, never past a deadline.

    A service that answers 404 for the remote id restarted (it keeps its runs in memory), and one
    unreachable for longer than the grace may have too: both fail the step as transient."""
    path = f"/runs/{step.remote_id}"
    grace = engine.settings.unreachable_grace_s
    deadline = time.monotonic() + timeout_s
    last_ok = last_save = time.monotonic()
    while time.monotonic() < deadline:
        try:
            status = await client.call("GET", path, answer)
            last_ok = time.monotonic()
        except ServiceError as exc:
            if exc.status != 404:
                raise
            raise ServiceRestarted(
                f"{client.name} restarted during the run: it no longer knows "
                f"{what} {step.remote_id}"
            ) from exc
        except ServiceUnavailable as exc:
            if time.monotonic() - last_ok > grace:
                raise ServiceUnavailable(
                    f"{client.name} unreachable for more than {grace:g} s while following "
                    f"{what} {step.remote_id} (stopped or restarting?): {exc}"
                ) from exc
        else:
            if status.state != "running":
                return status
            if on_status is not None:
                on_status(step, status)
        if time.monotonic() - last_save > _SAVE_EVERY_S:
            await engine.keep_alive(run)
            last_save = time.monotonic()
        await asyncio.sleep(engine.settings.poll_interval_s)
    raise ServiceUnavailable(f"{client.name}: {path} still running after {timeout_s:.0f} s")
