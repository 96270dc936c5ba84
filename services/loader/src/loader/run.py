"""One load, end to end: discover, extract, verify, publish files, then (and only then) the manifest."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl_common.errors import EtlError, UpstreamChangedError
from etl_common.http import PacedClient, RetryPolicy
from etl_common.layout import entity_prefix, new_load_id
from etl_common.logs import log_context
from etl_common.manifest import (
    Check,
    DataFile,
    EntityOutput,
    FieldStats,
    Manifest,
    SourceInfo,
)
from etl_common.pacing import TokenBucket
from etl_common.schemas import ENTITIES
from etl_common.storage import open_store
from etl_common.trace import StepTrace, step
from etl_common.urls import redact
from loader.drift import find_drift, previous_manifest, require_no_drift
from loader.extract import Extraction, ProgressCallback
from loader.identity import SourceSnapshot, identity_record
from loader.plan import WIDE_WINDOW, Plan, discover, snapshot
from loader.publish import collect_garbage, publish_files, write_manifest
from loader.sink import EntitySink, WrittenFile
from loader.staging import staging_dir
from loader.staging import sweep as staging_sweep
from loader.upstream import cursor_sim_client
from loader.verify import completeness_checks, orphan_checks, require

log = logging.getLogger(__name__)

# Columns verification needs after the rows have streamed to disk.
_COLLECT = {
    "commits": (),
    "pull_requests": ("id", "number", "repo_name", "state", "commit_ids"),
    "reviews": ("pr_id",),
    "repos": (),
}


@dataclass(frozen=True)
class ExtractRequest:
    source_url: str
    api_key: str
    output: str
    rate_limit_per_minute: float = 100
    concurrency: int = 6
    timeout_s: float = 30.0
    max_attempts: int = 6
    row_group_rows: int = 50_000
    # manifest-less load prefixes older than this are deleted after a successful load
    orphan_grace_s: float = 3600.0
    # staging directories without a live owner marker older than this are swept at start
    staging_grace_s: float = 3600.0


@dataclass(frozen=True)
class ExtractResult:
    manifest: Manifest
    manifest_uri: str
    # drift findings that did not block (informational fields): the load "succeeded with warnings"
    warnings: list[str] = field(default_factory=list)
    steps: list[StepTrace] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.warnings:
            return "succeeded"
        return f"succeeded with warnings: {'; '.join(self.warnings)}"


async def extract(
    req: ExtractRequest,
    *,
    load_id: str | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> ExtractResult:
    """Every step traced (discover, extract, write, publish); the manifest is written last, once the
    files are proven in the bucket, so a load without one never happened for its readers."""
    load_id = load_id or new_load_id()
    started = datetime.now(UTC)
    steps: list[StepTrace] = []
    with log_context(load_id=load_id):
        store = open_store(req.output)
        store.check()
        t0 = time.monotonic()
        staging_sweep(req.staging_grace_s)
        with staging_dir() as staging:
            sinks = _sinks(req, staging, load_id, started)
            pulled = await _pull(req, sinks, steps, on_plan, on_progress)
            if reason := pulled.after.restarted_since(pulled.plan.snapshot):
                raise UpstreamChangedError(f"{reason}; {_DISCARDED}")
            checks = completeness_checks(
                pulled.plan, sinks, pulled.extraction.claims, pulled.extraction.fallbacks
            )
            checks += orphan_checks(sinks)
            require(checks)
            with step("write", steps) as trace:
                written = {e: sinks[e].close() for e in ENTITIES}
                trace.counts = {e: w.rows for e, w in written.items()}
            outputs = {e: _entity_output(sinks[e], written[e]) for e in ENTITIES}
            findings, summary = find_drift(outputs, previous_manifest(store, load_id))
            for finding in findings:
                log.warning("schema drift", extra={"finding": finding.line})
            require_no_drift(findings)
            checks += [summary, *(f.check() for f in findings)]
            with step("publish", steps):
                publish_files(store, list(written.values()))
        timings = {t.name: t.seconds for t in steps if t.name and t.seconds is not None}
        timings["total"] = round(time.monotonic() - t0, 3)
        manifest = _manifest(req, load_id, started, pulled, outputs, checks, timings)
        uri = write_manifest(store, manifest)
        collect_garbage(store, load_id, req.orphan_grace_s)
        return ExtractResult(
            manifest=manifest, manifest_uri=uri, warnings=[f.line for f in findings], steps=steps
        )


@dataclass(frozen=True)
class _Pulled:
    """What the source gave: the plan (its own totals), the extraction, its state after, the requests."""

    plan: Plan
    extraction: Extraction
    after: SourceSnapshot
    requests: dict[str, Any]


async def _pull(
    req: ExtractRequest,
    sinks: dict[str, EntitySink],
    steps: list[StepTrace],
    on_plan: Callable[[Plan], None] | None,
    on_progress: ProgressCallback | None,
) -> _Pulled:
    """Plan against the source's own totals, then every page into `sinks`, through one paced client."""
    async with cursor_sim_client(
        req.source_url,
        req.api_key,
        pacer=TokenBucket.per_minute(req.rate_limit_per_minute),
        timeout_s=req.timeout_s,
        retry=RetryPolicy(max_attempts=req.max_attempts),
        max_connections=req.concurrency,
    ) as client:
        with step("discover", steps):
            plan = await discover(client)
        _log_plan(plan)
        if on_plan is not None:
            on_plan(plan)
        extraction = Extraction(
            client, plan, sinks, concurrency=req.concurrency, on_progress=on_progress
        )
        with step("extract", steps) as trace:
            try:
                await extraction.run()
            except EtlError as exc:
                # A regenerate or restart mid-run surfaces as odd failures (short lists, a sampling
                # budget spent); name the real cause when it is that.
                await _raise_if_upstream_changed(client, plan, cause=exc)
                raise
            trace.counts = {e: sink.rows_seen for e, sink in sinks.items()}
        after = await snapshot(client)
        return _Pulled(plan, extraction, after, client.stats.as_dict())


def _sinks(
    req: ExtractRequest, staging: Path, load_id: str, started: datetime
) -> dict[str, EntitySink]:
    return {
        e: EntitySink(
            e,
            staging,
            entity_prefix(load_id, e),
            load_id,
            int(started.timestamp() * 1e9),
            row_group_rows=req.row_group_rows,
            collect_columns=_COLLECT[e],
        )
        for e in ENTITIES
    }


def _log_plan(plan: Plan) -> None:
    log.info(
        "plan ready",
        extra={
            "total_commits": plan.total_commits,
            "total_prs": plan.total_prs,
            "total_reviews": plan.total_reviews,
            "members": len(plan.member_emails),
            "seed_developers": plan.seed_developers,
            "pr_mode": plan.pr_mode,
            "repos": len(plan.repos),
            "estimated_requests": plan.estimated_requests,
        },
    )


def _manifest(
    req: ExtractRequest,
    load_id: str,
    started: datetime,
    pulled: _Pulled,
    outputs: dict[str, EntityOutput],
    checks: list[Check],
    timings: dict[str, float],
) -> Manifest:
    plan, extraction = pulled.plan, pulled.extraction
    partitions = extraction.partition
    return Manifest(
        load_id=load_id,
        created_at=datetime.now(UTC),
        extracted_at=started,
        source=SourceInfo(
            url=redact(req.source_url),
            version=plan.snapshot.version,
            uptime_at_start=plan.snapshot.uptime_raw,
            generation=plan.snapshot.generation,
            identity=identity_record(plan.snapshot, pulled.after),
        ),
        window={"startDate": WIDE_WINDOW["startDate"], "endDate": WIDE_WINDOW["endDate"]},
        entities=outputs,
        requests={
            **pulled.requests,
            "estimated": plan.estimated_requests,
            "pr_mode": plan.pr_mode,
            **({"pr_partitions": partitions.report.as_dict()} if partitions else {}),
            "fallbacks": extraction.fallbacks,
            "duplicates_removed": {e: extraction.sinks[e].duplicates for e in ENTITIES},
        },
        timings_s=timings,
        checks=checks,
    )


def _entity_output(sink: EntitySink, written: WrittenFile) -> EntityOutput:
    return EntityOutput(
        rows=written.rows,
        schema_fingerprint=sink.fingerprint(),
        files=[
            DataFile(
                path=written.key, rows=written.rows, bytes=written.bytes, sha256=written.sha256
            )
        ],
        unknown_fields=dict(sink.report.unknown_fields),
        field_stats={
            name: FieldStats(**stats)
            for name, stats in sink.report.field_stats(sink.entity).items()
        },
    )


_DISCARDED = "the partial load was discarded, no manifest written"


async def _raise_if_upstream_changed(client: PacedClient, plan: Plan, cause: EtlError) -> None:
    try:
        after = await snapshot(client)
    except EtlError:
        return  # the upstream cannot say; the original error stands
    if reason := after.restarted_since(plan.snapshot):
        raise UpstreamChangedError(f"{reason}; {_DISCARDED} (first symptom: {cause})") from cause
