"""One build from one manifest: verify, load raw, `dbt build`, publish, and record the attempt beside the
manifest.

The warehouse shows raw and marts of one load, or of the previous one, at every instant a reader can see
(DuckDB: build on a copy, publish by rename, see `duckdb_warehouse`). A load counts as loaded only when its
build succeeded, so a retry after a failed or killed build builds again. Every attempt, failed ones included,
ends as a `BuildResult` with a one-line `error`, stored append-only at
`build-results/<load_id>/<attempt>.json` with `latest.json` pointing at the newest.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from dbt_runner.dbt_invoke import dbt_args, invoke
from dbt_runner.duckdb_load import load_raw, mark_built
from dbt_runner.duckdb_warehouse import DuckDBWarehouse
from dbt_runner.load_rules import LoadOutcome, already_loaded
from dbt_runner.manifest_check import VerifiedLoad, verify_and_stage
from dbt_runner.settings import RunnerSettings
from dbt_runner.snowflake_load import discard_snowflake, publish_snowflake, stage_raw_snowflake
from dbt_runner.snowflake_settings import get_snowflake_settings
from etl_common.contract import BuildResult, DbtResult, RawLoad
from etl_common.errors import EtlError
from etl_common.layout import build_result_key, latest_build_result_key, new_run_id
from etl_common.logs import log_context, one_line
from etl_common.storage import ObjectStore

log = logging.getLogger(__name__)


class _Attempt:
    """What one attempt has done so far; becomes its BuildResult whatever happens."""

    def __init__(self, uri: str, target: str) -> None:
        self.started = datetime.now(UTC)
        self.target = target
        self.fields: dict[str, object] = {
            "manifest_uri": uri,
            "attempt": new_run_id(self.started),
            "target": target,
            "state": "failed",
        }
        self.timings: dict[str, float] = {}
        self.store: ObjectStore | None = None

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        t0 = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = round(time.monotonic() - t0, 3)

    def set(self, **fields: object) -> None:
        self.fields.update(fields)

    def dbt(self, name: str, dbt: DbtResult, *, failure: str = "") -> bool:
        """Record one dbt invocation (`dbt_build` is the result's `dbt`); on failure, the attempt's
        one-line error (after `failure`, if given). True when it succeeded."""
        self.timings[name] = dbt.seconds
        if name == "dbt_build":
            self.set(dbt=dbt)
        if not dbt.success:
            self.set(
                error=one_line(failure + (dbt.error or "dbt build failed")), error_type="DbtFailure"
            )
        return dbt.success

    def fail(self, exc: BaseException) -> None:
        message = one_line(str(exc)) or type(exc).__name__
        if not isinstance(exc, EtlError):
            message = f"{type(exc).__name__}: {message}"
        self.set(
            state="failed",
            error=message,
            error_type=type(exc).__name__,
            transient=bool(getattr(exc, "transient", False)),
        )

    def finish(self) -> BuildResult:
        result = BuildResult.model_validate(
            {
                **self.fields,
                "started_at": self.started,
                "finished_at": datetime.now(UTC),
                "timings_s": self.timings,
            }
        )
        if self.store is not None and result.load_id is not None:
            _record(self.store, result, result.load_id)
        return result


def run_manifest(
    uri: str, settings: RunnerSettings, *, target: str | None = None, force: bool = False
) -> BuildResult:
    """Never raises: every outcome, a crash included, is in the result (and its one-line `error`)."""
    attempt = _Attempt(uri, target or settings.target)
    try:
        with tempfile.TemporaryDirectory(prefix="dbt-runner-") as staging:
            with attempt.step("verify"):
                verified = verify_and_stage(uri, Path(staging), allowed_root=settings.manifest_root)
            attempt.store = verified.store
            attempt.set(load_id=verified.manifest.load_id, manifest_sha256=verified.manifest_sha256)
            with log_context(load_id=verified.manifest.load_id):
                if attempt.target == "dev":
                    _build_duckdb(attempt, verified, settings, force)
                else:
                    _build_snowflake(attempt, verified, settings, force)
    except EtlError as exc:
        log.error(one_line(str(exc)), extra={"error_type": type(exc).__name__})
        attempt.fail(exc)
    except Exception as exc:  # a bug or an unmapped library error: still a result, with its cause
        log.exception("build crashed", extra={"manifest": uri})
        attempt.fail(exc)
    return attempt.finish()


def _build_duckdb(
    attempt: _Attempt, verified: VerifiedLoad, settings: RunnerSettings, force: bool
) -> None:
    manifest, uri = verified.manifest, verified.manifest_uri
    warehouse = DuckDBWarehouse(
        settings.duckdb_path.resolve(), lock_timeout_s=settings.lock_timeout_s
    )
    with contextlib.ExitStack() as held:
        with attempt.step("lock_wait"):
            held.enter_context(warehouse.writing(manifest.load_id))
        current = warehouse.current()
        previous = current.load_id if current else None
        if already_loaded(current, manifest, uri, verified.manifest_sha256, force=force):
            _already(attempt, previous)
            return
        with warehouse.building(manifest.load_id) as copy:
            with attempt.step("raw_load"):
                outcome = load_raw(
                    copy,
                    manifest,
                    uri,
                    verified.manifest_sha256,
                    verified.files,
                    previous_load_id=previous,
                    threads=settings.threads,
                )
            attempt.set(raw_load=_raw_load(outcome))
            dbt = build(settings, "dev", duckdb_path=copy)
            if not attempt.dbt("dbt_build", dbt):  # the copy is dropped: readers keep the old state
                return
            mark_built(copy, manifest.load_id, dbt.counts)
            with attempt.step("publish"):
                warehouse.publish(copy)
            attempt.set(state="succeeded")


def _build_snowflake(
    attempt: _Attempt, verified: VerifiedLoad, settings: RunnerSettings, force: bool
) -> None:
    sf = get_snowflake_settings()
    manifest = verified.manifest
    with attempt.step("raw_load"):
        outcome, build_set = stage_raw_snowflake(
            sf,
            manifest,
            verified.manifest_uri,
            verified.manifest_sha256,
            verified.files,
            force=force,
        )
    if build_set is None:
        _already(attempt, outcome.previous_load_id)
        return
    attempt.set(raw_load=_raw_load(outcome))
    try:
        dbt = build(settings, attempt.target, env=build_set.dbt_env())
        if not attempt.dbt("dbt_build", dbt):  # never published: readers keep the previous state
            return
        with attempt.step("publish"):
            publish_snowflake(sf, build_set, manifest.load_id, dbt.counts)
        # The live views already read the swapped-in raw by name; re-create them (and the seeds they
        # read) so a changed definition takes effect too. Their tests ran in the build set.
        views = build(settings, attempt.target, select=VIEWS_AND_SEEDS, tests=False)
        failure = "published, but refreshing the staging views failed: "
        if not attempt.dbt("refresh_views", views, failure=failure):
            return
        attempt.set(state="succeeded")
    finally:
        discard_snowflake(sf, build_set)


def _raw_load(outcome: LoadOutcome) -> RawLoad:
    return RawLoad(
        status=outcome.status,
        rows=outcome.rows,
        seconds=round(outcome.seconds, 3),
        previous_load_id=outcome.previous_load_id,
    )


def _already(attempt: _Attempt, previous: str | None) -> None:
    log.info("manifest already loaded and built; nothing to do")
    attempt.set(
        state="already_loaded",
        raw_load=RawLoad(status="already_loaded", seconds=0.0, previous_load_id=previous),
    )


# What fakesnow cannot run (dbt/README.md, emulator concessions): dbt's temp tables for unit tests, and
# TO_TIMESTAMP_TZ on a column in one macro test. Excluded only under SNOWFLAKE_FAKESNOW_COMPAT.
FAKESNOW_EXCLUDES = ("assert_timestamp_macros",)
FAKESNOW_EXCLUDED_TYPES = ("unit_test",)
VIEWS_AND_SEEDS = ("config.materialized:view", "resource_type:seed")


def build(
    settings: RunnerSettings,
    target: str,
    *,
    duckdb_path: Path | None = None,
    select: tuple[str, ...] = (),
    tests: bool = True,
    env: dict[str, str] | None = None,
) -> DbtResult:
    work = settings.work_dir
    emulated = target == "prod" and get_snowflake_settings().fakesnow_compat
    skipped = FAKESNOW_EXCLUDED_TYPES if emulated else ()
    args = dbt_args(
        "build",
        project_dir=settings.dbt_project(),
        profiles_dir=settings.dbt_project(),
        target=target,
        target_path=work / "target",
        log_path=work / "logs",
        threads=settings.threads,
        select=select,
        exclude=FAKESNOW_EXCLUDES if emulated and tests else (),
        exclude_resource_types=skipped if tests else ("test", "unit_test"),
    )
    path = duckdb_path or settings.duckdb_path.resolve()
    # Unset (empty) build-set variables mean the live schemas.
    scoped = {"DBT_RAW_SCHEMA": "raw", "DBT_SCHEMA_SUFFIX": "", **(env or {})}
    return invoke(args, env={"DUCKDB_PATH": str(path), "DBT_TARGET": target, **scoped})


def _record(store: ObjectStore, result: BuildResult, load_id: str) -> None:
    """Append this attempt's record, then move `latest.json` to it. The build's outcome matters more than
    its record: a bucket failure here is logged, never raised."""
    key = build_result_key(load_id, result.attempt)
    try:
        result.result_uri = store.url_for(key)
        body = result.model_dump_json(indent=2).encode()
        store.put_bytes(key, body, content_type="application/json", if_absent=True)
        latest = latest_build_result_key(load_id)
        store.put_bytes(latest, body, content_type="application/json")
    except EtlError as exc:
        result.result_uri = None
        log.warning("could not write the build result", extra={"error": one_line(str(exc))})


__all__ = ["BuildResult", "run_manifest"]
