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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from dbt_runner.dbt_invoke import dbt_args, invoke
from dbt_runner.dbt_state import state_dir
from dbt_runner.duckdb_warehouse import DuckDBWarehouse
from dbt_runner.load_rules import LoadOutcome, already_loaded
from dbt_runner.manifest_check import VerifiedLoad, verify_and_stage
from dbt_runner.settings import RunnerSettings
from dbt_runner.snowflake_settings import get_snowflake_settings
from dbt_runner.snowflake_warehouse import SnowflakeWarehouse
from dbt_runner.warehouse import Warehouse
from etl_common.contract import BuildResult, DbtResult, RawLoad
from etl_common.errors import EtlError
from etl_common.layout import build_result_key, latest_build_result_key, new_run_id
from etl_common.logs import log_context, one_line
from etl_common.storage import ObjectStore
from etl_common.trace import StepTrace, step

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
        self.steps: list[StepTrace] = []
        self.store: ObjectStore | None = None

    def step(self, name: str) -> contextlib.AbstractContextManager[StepTrace]:
        return step(name, into=self.steps)

    def set(self, **fields: object) -> None:
        self.fields.update(fields)

    def dbt(self, name: str, run: Callable[[], DbtResult], *, failure: str = "") -> DbtResult:
        """One dbt invocation as step `name` (`dbt_build` is the result's `dbt`); on failure, the
        attempt's one-line error (after `failure`, if given)."""
        with self.step(name) as trace:
            dbt = run()
            trace.counts = dict(dbt.counts)
            if not dbt.success:
                trace.outcome, trace.error = "failed", one_line(dbt.error or "dbt build failed")
                trace.error_type = "DbtFailure"
        if name == "dbt_build":
            self.set(dbt=dbt)
        if not dbt.success:
            self.set(
                error=one_line(failure + (dbt.error or "dbt build failed")), error_type="DbtFailure"
            )
        return dbt

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
                "timings_s": {
                    t.name: t.seconds for t in self.steps if t.name and t.seconds is not None
                },
                "steps": self.steps,
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
                _build(attempt, verified, settings, force)
    except EtlError as exc:
        log.error(one_line(str(exc)), extra={"error_type": type(exc).__name__})
        attempt.fail(exc)
    except Exception as exc:  # a bug or an unmapped library error: still a result, with its cause
        log.exception("build crashed", extra={"manifest": uri})
        attempt.fail(exc)
    return attempt.finish()


def open_warehouse(settings: RunnerSettings, target: str) -> Warehouse:
    """`dev` is the DuckDB file at DUCKDB_PATH; any other target is the Snowflake account of its
    SNOWFLAKE_* settings."""
    if target == "dev":
        return DuckDBWarehouse(
            settings.duckdb_path.resolve(),
            lock_timeout_s=settings.lock_timeout_s,
            threads=settings.threads,
        )
    return SnowflakeWarehouse(get_snowflake_settings())


def _build(
    attempt: _Attempt, verified: VerifiedLoad, settings: RunnerSettings, force: bool
) -> None:
    """The one build path, whatever the engine: hold the warehouse, apply the load rules, fill a private
    place, build and test there, publish only a green build."""
    manifest = verified.manifest
    warehouse = open_warehouse(settings, attempt.target)
    with contextlib.ExitStack() as held:
        with attempt.step("lock_wait"):
            held.enter_context(warehouse.writing(manifest.load_id))
        current = warehouse.current_load()
        previous = current.load_id if current else None
        uri, sha256 = verified.manifest_uri, verified.manifest_sha256
        if already_loaded(current, manifest, uri, sha256, force=force):
            _already(attempt, previous)
            return
        with warehouse.building(manifest.load_id) as place:
            with attempt.step("raw_load"):
                outcome = place.replace_raw(verified, previous_load_id=previous)
            attempt.set(raw_load=_raw_load(outcome))
            env = place.dbt_env()
            dbt = attempt.dbt("dbt_build", lambda: build(settings, attempt.target, env=env))
            if not dbt.success:
                return  # never published: readers keep the previous state
            with attempt.step("publish"):
                place.publish(manifest.load_id, dbt.counts)
            if warehouse.refreshes_views_after_publish:
                # The live views already read the swapped-in raw by name; re-create them (and the seeds
                # they read) so a changed definition takes effect too. Their tests ran in the build set.
                def views() -> DbtResult:
                    return build(settings, attempt.target, select=VIEWS_AND_SEEDS, tests=False)

                failure = "published, but refreshing the staging views failed: "
                if not attempt.dbt("refresh_views", views, failure=failure).success:
                    return
            attempt.set(state="succeeded")


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
FAKESNOW_WHY = "fakesnow cannot run it (SNOWFLAKE_FAKESNOW_COMPAT)"
UNIT_TESTS_WHY = (
    "unit tests check the SQL, not the data: make test and CI run them on every change "
    "(DBT_RUNNER_UNIT_TESTS=true or --with-unit-tests to run them here)"
)
VIEWS_AND_SEEDS = ("config.materialized:view", "resource_type:seed")


def build(
    settings: RunnerSettings,
    target: str,
    *,
    select: tuple[str, ...] = (),
    tests: bool = True,
    env: dict[str, str] | None = None,
) -> DbtResult:
    """`dbt build` on `target`: models, seeds and data tests (`tests=False`: no tests); unit tests only
    when `settings.unit_tests` asks for them. The result says what was left out and why."""
    emulated = target == "prod" and get_snowflake_settings().fakesnow_compat
    not_run: dict[str, str] = {}
    if tests:
        if not settings.unit_tests or emulated:
            not_run["unit_test"] = FAKESNOW_WHY if settings.unit_tests else UNIT_TESTS_WHY
        if emulated:
            not_run.update(dict.fromkeys(FAKESNOW_EXCLUDES, FAKESNOW_WHY))
    skipped: tuple[str, ...] = ()
    if not tests:
        skipped = ("test", "unit_test")
    elif "unit_test" in not_run:
        skipped = ("unit_test",)
    args = _args(
        "build",
        settings,
        target,
        select=select,
        exclude=FAKESNOW_EXCLUDES if emulated and tests else (),
        exclude_resource_types=skipped,
    )
    return invoke(args, env=_dbt_env(settings, target, env), not_run=not_run)


def parse(settings: RunnerSettings, target: str, env: dict[str, str] | None = None) -> DbtResult:
    """`dbt parse` into the state builds of this project version use (the image, a warm service)."""
    return invoke(_args("parse", settings, target), env=_dbt_env(settings, target, env))


def _args(
    command: Literal["build", "parse"], settings: RunnerSettings, target: str, **options: Any
) -> list[str]:
    project = settings.dbt_project()
    return dbt_args(
        command,
        project_dir=project,
        profiles_dir=project,
        target=target,
        target_path=state_dir(settings.work_dir, project, target, shipped=settings.shipped_state),
        log_path=settings.work_dir / "logs",
        threads=settings.threads,
        **options,
    )


def _dbt_env(settings: RunnerSettings, target: str, env: dict[str, str] | None) -> dict[str, str]:
    # Unset (empty) build-set variables mean the live schemas and the live DuckDB file.
    return {
        "DBT_TARGET": target,
        "DUCKDB_PATH": str(settings.duckdb_path.resolve()),
        "DBT_RAW_SCHEMA": "raw",
        "DBT_SCHEMA_SUFFIX": "",
        **(env or {}),
    }


def prepare(settings: RunnerSettings, target: str) -> DbtResult:
    """Parse ahead of builds (at image build time, as a service starts), with the environment a build
    will give dbt, so the build finds the saved parse valid."""
    return parse(settings, target, env=open_warehouse(settings, target).build_env())


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
