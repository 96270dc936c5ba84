"""The run engine: drive a run's steps against the loader and dbt-runner, persisting every change.

A run is a small state machine over its steps (`extract` then `build` for `POST /run`, `build` alone
for a storage event). `drive` picks up wherever the record says the run is, which is also how another
orchestrator resumes a run found `running` in the bucket: it follows the remote step if the service
still knows it; a service that no longer knows it (it restarted) fails the run as transient.

Ownership: a `running` run belongs to the instance named in `owner` until `lease_expires_at`. The
driving instance renews the lease with every save and at least every `heartbeat_s` (a heartbeat task).
Every instance looks, at startup and then every `heartbeat_s`, for running runs whose lease expired and
takes those over, with a note naming the previous owner and when its lease expired; a run whose lease
is alive is left alone. Every save is compare-and-swap on the record's generation, so of two
instances taking a run over one wins, and an owner that was paused past its lease and comes back finds
its save refused (`LeaseLost`): it stops driving that run and writes nothing more to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta

from etl_common.errors import EtlError
from etl_common.urls import redact_text
from orchestrator import steps
from orchestrator.clients import clients
from orchestrator.models import Run, now
from orchestrator.settings import OrchestratorSettings
from orchestrator.state import RecordChanged, RunStore

log = logging.getLogger(__name__)
_SHUTDOWN_GRACE_S = 5.0


class LeaseLost(Exception):
    """Another instance owns the run now: stop driving it and write nothing more to it."""


def _at(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "?"


class Engine:
    def __init__(self, settings: OrchestratorSettings, store: RunStore, instance: str) -> None:
        self.settings = settings
        self.store = store
        self.instance = instance
        self.loader, self.runner = clients(settings.loader_url, settings.dbt_runner_url)
        self.runs: dict[str, Run] = {}
        self.current: str | None = None  # the `POST /run` pipeline this instance drives
        self.driving: dict[str, asyncio.Task[None]] = {}  # runs this instance drives now
        self.lost: set[str] = set()  # runs taken over by another instance while we drove them
        self._locks: dict[str, asyncio.Lock] = {}
        self._saved_at: dict[str, float] = {}
        self._watched: set[str] = set()  # foreign runs already reported as left alone
        self._background: list[asyncio.Task[None]] = []
        self.closing = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Take over what is orphaned now, then keep renewing our leases and watching the others'."""
        await self.recover()
        self._background = [
            asyncio.create_task(self._heartbeats()),
            asyncio.create_task(self._watch()),
        ]

    async def shutdown(self) -> None:
        """Stop driving: every run we drive gets its lease released, so another instance (or our
        restart) takes it over at once instead of after the lease TTL."""
        self.closing = True
        for task in self._background:
            task.cancel()
        driving = list(self.driving.values())
        for task in driving:
            task.cancel()
        if driving:
            await asyncio.wait(driving, timeout=_SHUTDOWN_GRACE_S)

    def spawn(self, run: Run) -> None:
        self.runs[run.run_id] = run
        self.driving[run.run_id] = asyncio.create_task(self.drive(run))

    def active_pipeline(self) -> str | None:
        """The `POST /run` pipeline in progress on this bucket: ours, or one another live instance
        holds (as of our last look at the records)."""
        if self.current is not None:
            return self.current
        moment = now()
        for run in self.runs.values():
            if run.trigger == "api" and run.state == "running" and not run.lease_expired(moment):
                return run.run_id
        return None

    # -- persistence under the lease -------------------------------------------------------------

    def _lock(self, run_id: str) -> asyncio.Lock:
        return self._locks.setdefault(run_id, asyncio.Lock())

    async def persist(self, run: Run, *, release: bool = False) -> None:
        """Write the record; while we drive it `running`, renew our lease (or end it: `release`).

        Raises `LeaseLost` if another instance wrote the record since our copy (nothing written)."""
        async with self._lock(run.run_id):
            for attempt in (1, 2):
                if run.state == "running" and run.owner == self.instance:
                    ttl = 0.0 if release else self.settings.lease_ttl_s
                    run.lease_expires_at = now() + timedelta(seconds=ttl)
                try:
                    await self.store.save(run)
                    self._saved_at[run.run_id] = time.monotonic()
                    return
                except RecordChanged as changed:
                    current = changed.current
                    if attempt == 1 and current is not None and current.owner == self.instance:
                        # Only we write records we own: a write of ours that landed although its
                        # call failed (a cancelled save, say). Build on it.
                        run._generation = current._generation
                        continue
                    raise LeaseLost(str(changed)) from None

    async def _save_quietly(self, run: Run, *, release: bool = False) -> None:
        try:
            await self.persist(run, release=release)
        except EtlError as exc:  # the in-memory record still answers; say the bucket copy is stale
            log.error("could not persist run", extra={"run_id": run.run_id, "error": str(exc)})
        except LeaseLost as exc:
            self._lose(run, exc)

    def _lose(self, run: Run, exc: LeaseLost) -> None:
        if run.run_id not in self.lost:
            log.warning(
                "lease lost: another orchestrator drives this run now; stopping, writing nothing",
                extra={"run_id": run.run_id, "reason": str(exc)},
            )
        self.lost.add(run.run_id)

    async def _forget(self, run_id: str) -> None:
        """After losing a run: answer for it from the bucket, not from our stale copy."""
        with contextlib.suppress(EtlError):
            fresh = await self.store.load(run_id)
            if fresh is not None:
                self.runs[run_id] = fresh

    async def _heartbeats(self) -> None:
        every = self.settings.heartbeat_s
        while True:
            await asyncio.sleep(every / 2)
            for run_id, task in list(self.driving.items()):
                run = self.runs.get(run_id)
                if run is None or run.state != "running" or run_id in self.lost:
                    continue
                if time.monotonic() - self._saved_at.get(run_id, 0.0) < every:
                    continue  # the driver saved recently: that renewed the lease
                try:
                    await self.persist(run)
                except LeaseLost as exc:
                    self._lose(run, exc)
                    task.cancel()
                except EtlError as exc:
                    log.warning("lease not renewed", extra={"run_id": run_id, "error": str(exc)})

    # -- driving ---------------------------------------------------------------------------------

    async def drive(self, run: Run) -> None:
        """Run the remaining steps; every outcome, bugs included, ends up on the record."""
        step_name = "?"
        cancelled = False
        try:
            for step_name, step in run.steps.items():
                if step.state in ("pending", "running"):
                    take = steps.extract if step_name == "extract" else steps.build
                    await take(self, run, step)
                if step.state == "failed":
                    run.finish("failed", f"{step_name}: {step.error}", step.transient)
                    break
                if step.state == "submitted":  # a Cloud Run job owns the rest of the run
                    run.finish("submitted")
                    break
            else:
                last = list(run.steps.values())[-1].state
                run.finish("already_loaded" if last == "already_loaded" else "succeeded")
                run.warnings = [w for s in run.steps.values() for w in s.warnings]
        except LeaseLost as exc:
            self._lose(run, exc)
        except asyncio.CancelledError:
            cancelled = True
            if run.run_id not in self.lost:  # shutting down: hand the run over at once
                run.notes.append(
                    f"orchestrator {self.instance} shut down during step {step_name} at "
                    f"{_at(now())}; lease released"
                )
                await self._save_quietly(run, release=True)
            raise
        except EtlError as exc:
            self._fail(run, step_name, str(exc), type(exc).__name__, exc.transient)
        except Exception as exc:  # a bug: record it on the run rather than lose it with the task
            log.exception("run crashed", extra={"run_id": run.run_id})
            self._fail(run, step_name, repr(exc), type(exc).__name__, False)
        finally:
            self.driving.pop(run.run_id, None)
            if self.current == run.run_id:
                self.current = None
            if run.run_id in self.lost:
                await self._forget(run.run_id)
            elif not cancelled:
                await self._save_quietly(run)
                log.info("run finished", extra={"run_id": run.run_id, "state": run.state})

    def _fail(self, run: Run, step_name: str, error: str, error_type: str, transient: bool) -> None:
        error = redact_text(error)
        step = run.steps.get(step_name)
        if step is not None and step.state in ("pending", "running"):
            step.end("failed", error, error_type=error_type, transient=transient)
        run.finish("failed", f"{step_name}: {error}", transient)

    async def keep_alive(self, run: Run) -> None:
        """A followed step's periodic save; `LeaseLost` once another instance drives the run."""
        await self._save_quietly(run)
        if run.run_id in self.lost:
            raise LeaseLost(f"run {run.run_id} is driven by another orchestrator now")

    # -- recovery and takeover -------------------------------------------------------------------

    async def recover(self) -> None:
        """Load every run from the bucket; take over those left `running` under an expired lease."""
        await self.adopt_orphans()

    async def adopt_orphans(self) -> None:
        """One look at the records: learn runs we do not know yet, re-read the running ones other
        instances hold, and take over each whose lease has expired. Bounded: one listing, one read
        per new or foreign running record."""
        fresh: set[str] = set()
        for run_id in await self.store.run_ids():
            if run_id not in self.runs and (run := await self.store.load(run_id)) is not None:
                self.runs[run_id] = run
                fresh.add(run_id)
        for run_id, known in list(self.runs.items()):
            if known.state != "running" or run_id in self.driving or self.closing:
                continue
            run = known if run_id in fresh else await self.store.load(run_id)
            if run is None:
                continue
            self.runs[run_id] = run
            if run.state != "running":
                continue
            if not run.lease_expired():
                if run_id not in self._watched:
                    self._watched.add(run_id)
                    log.info(
                        "run is driven by another orchestrator; leaving it while its lease lives",
                        extra={
                            "run_id": run_id,
                            "owner": run.owner,
                            "lease_expires_at": _at(run.lease_expires_at),
                        },
                    )
                continue
            await self._take_over(run)

    async def _take_over(self, run: Run) -> None:
        previous, expired = run.owner, run.lease_expires_at
        active = next((n for n, s in run.steps.items() if s.state in ("running", "pending")), "?")
        lease = f"its lease expired at {_at(expired)}" if expired else "no lease on record"
        run.notes.append(
            f"orchestrator {previous} stopped during step {active} ({lease}); "
            f"resumed by {self.instance} at {_at(now())}"
        )
        run.owner = self.instance
        try:
            await self.persist(run)
        except (LeaseLost, EtlError) as exc:  # another instance was first, or the bucket failed
            log.info("run not taken over", extra={"run_id": run.run_id, "reason": str(exc)})
            await self._forget(run.run_id)
            return
        log.warning(
            "run taken over",
            extra={"run_id": run.run_id, "previous_owner": previous, "lease_expired": _at(expired)},
        )
        if run.trigger == "api" and self.current is None:
            self.current = run.run_id
        self.spawn(run)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                await self.adopt_orphans()
            except EtlError as exc:
                log.warning("could not look for orphaned runs", extra={"error": str(exc)})
            except Exception:  # a bug must not end the watch
                log.exception("looking for orphaned runs failed")
