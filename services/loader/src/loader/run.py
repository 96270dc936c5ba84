"""One load, end to end: discover, extract, verify, publish files, then (and only then) the manifest."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from etl_common.errors import EtlError, StorageError, UpstreamChangedError
from etl_common.http import PacedClient, RetryPolicy
from etl_common.layout import entity_prefix, manifest_key, new_load_id
from etl_common.logs import log_context
from etl_common.manifest import (
    DataFile,
    EntityOutput,
    FieldStats,
    Manifest,
    SourceInfo,
)
from etl_common.pacing import TokenBucket
from etl_common.schemas import ENTITIES
from etl_common.storage import ObjectStore, open_store
from etl_common.urls import redact
from loader.drift import find_drift, previous_manifest, require_no_drift
from loader.extract import Extraction, ProgressCallback
from loader.gc import collect_orphans
from loader.identity import identity_record
from loader.plan import WIDE_WINDOW, Plan, discover, snapshot
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
    load_id = load_id or new_load_id()
    started = datetime.now(UTC)
    with log_context(load_id=load_id):
        store = open_store(req.output)
        store.check()
        pacer = TokenBucket.per_minute(req.rate_limit_per_minute)
        timings: dict[str, float] = {}
        t0 = time.monotonic()
        staging_sweep(req.staging_grace_s)
        with staging_dir() as staging:
            async with cursor_sim_client(
                req.source_url,
                req.api_key,
                pacer=pacer,
                timeout_s=req.timeout_s,
                retry=RetryPolicy(max_attempts=req.max_attempts),
                max_connections=req.concurrency,
            ) as client:
                plan = await discover(client)
                timings["discover"] = time.monotonic() - t0
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
                if on_plan is not None:
                    on_plan(plan)
                sinks = {
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
                extraction = Extraction(
                    client, plan, sinks, concurrency=req.concurrency, on_progress=on_progress
                )
                try:
                    await extraction.run()
                except EtlError as exc:
                    # A regenerate or restart mid-run surfaces as odd failures (short lists, a sampling
                    # budget spent); name the real cause when it is that.
                    await _raise_if_upstream_changed(client, plan, cause=exc)
                    raise
                timings["extract"] = time.monotonic() - t0 - timings["discover"]
                after = await snapshot(client)
                requests = client.stats.as_dict()
            if reason := after.restarted_since(plan.snapshot):
                raise UpstreamChangedError(f"{reason}; {_DISCARDED}")
            checks = completeness_checks(plan, sinks, extraction.claims, extraction.fallbacks)
            checks += orphan_checks(sinks)
            require(checks)
            t1 = time.monotonic()
            written = {e: sinks[e].close() for e in ENTITIES}
            timings["write"] = time.monotonic() - t1
            outputs = {e: _entity_output(sinks[e], written[e]) for e in ENTITIES}
            findings, summary = find_drift(outputs, previous_manifest(store, load_id))
            for finding in findings:
                log.warning("schema drift", extra={"finding": finding.line})
            require_no_drift(findings)
            checks += [summary, *(f.check() for f in findings)]
            t2 = time.monotonic()
            _publish(store, list(written.values()))
            timings["publish"] = time.monotonic() - t2
        manifest = Manifest(
            load_id=load_id,
            created_at=datetime.now(UTC),
            extracted_at=started,
            source=SourceInfo(
                url=redact(req.source_url),
                version=plan.snapshot.version,
                uptime_at_start=plan.snapshot.uptime_raw,
                generation=plan.snapshot.generation,
                identity=identity_record(plan.snapshot, after),
            ),
            window={"startDate": WIDE_WINDOW["startDate"], "endDate": WIDE_WINDOW["endDate"]},
            entities=outputs,
            requests={
                **requests,
                "estimated": plan.estimated_requests,
                "pr_mode": plan.pr_mode,
                **(
                    {"pr_partitions": extraction.partition.report.as_dict()}
                    if extraction.partition
                    else {}
                ),
                "fallbacks": extraction.fallbacks,
                "duplicates_removed": {e: sinks[e].duplicates for e in ENTITIES},
            },
            timings_s={k: round(v, 3) for k, v in timings.items()}
            | {"total": round(time.monotonic() - t0, 3)},
            checks=checks,
        )
        for e, unknown in ((e, manifest.entities[e].unknown_fields) for e in ENTITIES):
            if unknown:
                log.warning(
                    "upstream sent fields the contract does not know; kept in _extra",
                    extra={"entity": e, "fields": unknown},
                )
        key = manifest_key(load_id)
        store.put_bytes(key, manifest.to_json(), content_type="application/json", if_absent=True)
        uri = store.url_for(key)
        log.info(
            "load complete",
            extra={
                "manifest": uri,
                "rows": {e: written[e].rows for e in ENTITIES},
                "requests": requests["sent"],
            },
        )
        try:  # the load is published; a failure to tidy up is worth a warning, not a failed run
            collect_orphans(store, current=load_id, grace_s=req.orphan_grace_s)
        except (EtlError, OSError) as exc:
            log.warning(
                "garbage collection of unpublished loads failed", extra={"problem": str(exc)}
            )
        return ExtractResult(
            manifest=manifest, manifest_uri=uri, warnings=[f.line for f in findings]
        )


def _publish(store: ObjectStore, files: list[WrittenFile]) -> None:
    """Upload every file, then prove each is there before the manifest may name it (another loader's
    garbage collection could only remove a prefix whose load id is older than its grace period). A failed
    upload takes back the ones before it where it can; what it cannot, the next run collects."""
    done: list[str] = []
    try:
        for w in files:
            store.put_file(w.key, w.local_path, content_type="application/vnd.apache.parquet")
            done.append(w.key)
        missing = [w.key for w in files if store.stat(w.key) is None]
        if missing:
            raise StorageError(
                f"published files vanished before the manifest was written: {missing}"
            )
    except Exception:
        for key in done:
            with contextlib.suppress(EtlError, OSError):
                store.delete(key)
        raise


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
