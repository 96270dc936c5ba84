"""The run engine: drive a run's steps against the loader and dbt-runner, persisting every change.

A run is a small state machine over its steps (`extract` then `build` for `POST /run`, `build` alone
for a storage event). `drive` picks up wherever the record says the run is, which is also how a
restarted orchestrator resumes a run found `running` in the bucket: it follows the remote step if the
service still knows it, and otherwise records the run as failed with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from etl_common.errors import EtlError
from orchestrator.clients import ServiceBusy, ServiceError, ServiceUnavailable, clients
from orchestrator.models import Run, Step
from orchestrator.settings import OrchestratorSettings
from orchestrator.state import RunStore

log = logging.getLogger(__name__)
_SAVE_EVERY_S = 2.0
_UNREACHABLE_GRACE_S = 15.0


class Engine:
    def __init__(self, settings: OrchestratorSettings, store: RunStore, instance: str) -> None:
        self.settings = settings
        self.store = store
        self.instance = instance
        self.loader, self.runner = clients(settings.loader_url, settings.dbt_runner_url)
        self.runs: dict[str, Run] = {}
        self.current: str | None = None  # the `POST /run` pipeline in flight
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, run: Run) -> None:
        self.runs[run.run_id] = run
        task = asyncio.create_task(self.drive(run))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drive(self, run: Run) -> None:
        """Run the remaining steps; every outcome, bugs included, ends up on the record."""
        step_name = "?"
        try:
            for step_name, step in run.steps.items():
                if step.state in ("pending", "running"):
                    await (
                        self._extract(run, step)
                        if step_name == "extract"
                        else self._build(run, step)
                    )
                if step.state == "failed":
                    run.finish("failed", f"{step_name}: {step.error}", step.transient)
                    break
                if step.state == "submitted":  # a Cloud Run job owns the rest of the run
                    run.finish("submitted")
                    break
            else:
                last = list(run.steps.values())[-1].state
                run.finish("already_loaded" if last == "already_loaded" else "succeeded")
        except EtlError as exc:
            self._fail(run, step_name, str(exc), type(exc).__name__, exc.transient)
        except Exception as exc:  # a bug: record it on the run rather than lose it with the task
            log.exception("run crashed", extra={"run_id": run.run_id})
            self._fail(run, step_name, repr(exc), type(exc).__name__, False)
        finally:
            if self.current == run.run_id:
                self.current = None
            await self._save_quietly(run)
            log.info("run finished", extra={"run_id": run.run_id, "state": run.state})

    def _fail(self, run: Run, step_name: str, error: str, error_type: str, transient: bool) -> None:
        step = run.steps.get(step_name)
        if step is not None and step.state in ("pending", "running"):
            step.end("failed", error, error_type=error_type, transient=transient)
        run.finish("failed", f"{step_name}: {error}", transient)

    async def _save_quietly(self, run: Run) -> None:
        try:
            await self.store.save(run)
        except EtlError as exc:  # the in-memory record still answers; say the bucket copy is stale
            log.error("could not persist run", extra={"run_id": run.run_id, "error": str(exc)})

    async def _extract(self, run: Run, step: Step) -> None:
        if step.state == "pending" and self.settings.cloud_run_loader_job:
            from orchestrator.cloudrun import run_loader_job

            step.begin(await asyncio.to_thread(run_loader_job, self.settings))
            step.end("submitted")
            run.notes.append("loader job submitted; its manifest's storage event starts the build")
            return
        if step.state == "pending":
            body = await self.loader.call("POST", "/runs", {"output": self.settings.root})
            step.begin(body["load_id"])
            await self.store.save(run)
        body = await self._follow(
            run,
            self.loader,
            f"/runs/{step.remote_id}",
            self._on_extract,
            step,
            self.settings.extract_timeout_s,
        )
        self._on_extract(step, body)
        if body["state"] == "succeeded":
            run.manifest_uri = body["manifest_uri"]
            step.end("succeeded", requests=body.get("requests"))
        else:
            step.end(
                "failed",
                body.get("error"),
                error_type=body.get("error_type"),
                transient=body.get("transient"),
            )
        await self.store.save(run)

    @staticmethod
    def _on_extract(step: Step, body: dict[str, Any]) -> None:
        step.rows, step.pages = body.get("rows") or {}, body.get("pages") or {}

    async def _build(self, run: Run, step: Step) -> None:
        if run.manifest_uri is None:
            raise ServiceError("no manifest to build from")
        if step.state == "pending":
            await self.start_build(run, step, wait_busy_s=self.settings.busy_retry_s)
            await self.store.save(run)
        if step.state != "running":
            return
        body = await self._follow(
            run, self.runner, f"/runs/{step.remote_id}", None, step, self.settings.build_timeout_s
        )
        result = body.get("result") or {}
        run.result_uri = result.get("result_uri")
        dbt = result.get("dbt") or {}
        raw = result.get("raw_load") or {}
        fields: dict[str, Any] = {"counts": dbt.get("counts") or {}, "rows": raw.get("rows") or {}}
        if body["state"] in ("succeeded", "already_loaded"):
            step.end(body["state"], **fields)
        else:
            step.end(
                "failed",
                result.get("error") or "the build crashed (see dbt-runner log)",
                error_type=result.get("error_type"),
                transient=False,
                **fields,
            )
        await self.store.save(run)

    async def start_build(self, run: Run, step: Step, *, wait_busy_s: float) -> None:
        """Start a build of `run.manifest_uri`, or follow the one already building that manifest."""
        if self.settings.dbt_runner_mode == "cloud_run_job":
            from orchestrator.cloudrun import run_build_job

            execution = await asyncio.to_thread(
                run_build_job, self.settings, run.manifest_uri or ""
            )
            step.begin(execution)
            step.end("submitted")
            return
        deadline = time.monotonic() + wait_busy_s
        while True:
            try:
                body = await self.runner.call("POST", "/runs", {"manifest": run.manifest_uri})
                step.begin(body["id"])
                return
            except ServiceBusy as busy:
                detail = busy.detail if isinstance(busy.detail, dict) else {}
                if detail.get("running_manifest") == run.manifest_uri:
                    step.begin(detail.get("running_id"))
                    run.notes.append(
                        f"followed build {detail.get('running_id')} already running "
                        "for this manifest"
                    )
                    return
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(1.0)

    async def _follow(
        self, run: Run, client: Any, path: str, on_body: Any, step: Step, timeout_s: float
    ) -> dict[str, Any]:
        """Poll a remote run until it leaves `running`; ride out short outages, never past a deadline."""
        deadline = time.monotonic() + timeout_s
        last_ok = last_save = time.monotonic()
        while time.monotonic() < deadline:
            try:
                body: dict[str, Any] = await client.call("GET", path)
                last_ok = time.monotonic()
            except ServiceUnavailable:
                if time.monotonic() - last_ok > _UNREACHABLE_GRACE_S:
                    raise
                body = {"state": "running"}
            else:
                if body["state"] != "running":
                    return body
                if on_body is not None:
                    on_body(step, body)
            if time.monotonic() - last_save > _SAVE_EVERY_S:
                await self._save_quietly(run)
                last_save = time.monotonic()
            await asyncio.sleep(self.settings.poll_interval_s)
        raise ServiceUnavailable(f"{client.name}: {path} still running after {timeout_s:.0f} s")

    async def recover(self) -> None:
        """Load every run from the bucket; resume those a previous instance left `running`."""
        for run in await self.store.load_all():
            self.runs[run.run_id] = run
            if run.state != "running":
                continue
            active = next(
                (n for n, s in run.steps.items() if s.state in ("running", "pending")), "?"
            )
            run.notes.append(
                f"orchestrator {run.owner} stopped during step {active}; resumed by {self.instance}"
            )
            run.owner = self.instance
            if run.trigger == "api":
                self.current = run.run_id
            await self._save_quietly(run)
            self.spawn(run)
