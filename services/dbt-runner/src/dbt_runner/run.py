"""One build from one manifest: verify, load raw, `dbt build`, and record the result beside the manifest."""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from dbt_runner.dbt_invoke import DbtResult, dbt_args, invoke
from dbt_runner.duckdb_load import load_raw
from dbt_runner.load_rules import LoadOutcome
from dbt_runner.manifest_check import split_manifest_uri, verify_and_stage
from dbt_runner.settings import RunnerSettings
from dbt_runner.snowflake_load import load_raw_snowflake
from dbt_runner.snowflake_settings import get_snowflake_settings
from etl_common.errors import EtlError
from etl_common.logs import log_context

log = logging.getLogger(__name__)
RESULTS_DIR = "build-results"  # beside manifests/, outside it: consumers react only to manifests


class RawLoad(BaseModel):
    status: Literal["loaded", "already_loaded"]
    rows: dict[str, int] = Field(default_factory=dict)
    seconds: float
    previous_load_id: str | None = None


class BuildResult(BaseModel):
    manifest_uri: str
    load_id: str | None = None
    target: str
    state: Literal["succeeded", "failed", "already_loaded"]
    started_at: datetime
    finished_at: datetime
    timings_s: dict[str, float] = Field(default_factory=dict)
    raw_load: RawLoad | None = None
    dbt: DbtResult | None = None
    error: str | None = None
    error_type: str | None = None
    result_uri: str | None = None

    @property
    def ok(self) -> bool:
        return self.state in ("succeeded", "already_loaded")


def run_manifest(
    uri: str, settings: RunnerSettings, *, target: str | None = None, force: bool = False
) -> BuildResult:
    """Never raises for bad input or a failed build: the outcome is in the result (and its `error`)."""
    target = target or settings.target
    started = datetime.now(UTC)
    timings: dict[str, float] = {}
    load_id = raw = dbt = None
    store = None
    try:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="dbt-runner-") as staging:
            verified = verify_and_stage(uri, Path(staging), allowed_root=settings.manifest_root)
            store, load_id = verified.store, verified.manifest.load_id
            timings["verify"] = time.monotonic() - t0
            with log_context(load_id=load_id):
                outcome: LoadOutcome
                if target != "dev":
                    outcome = load_raw_snowflake(
                        get_snowflake_settings(),
                        verified.manifest,
                        uri,
                        verified.files,
                        force=force,
                    )
                else:
                    outcome = load_raw(
                        settings.duckdb_path.resolve(),
                        verified.manifest,
                        uri,
                        verified.files,
                        force=force,
                        threads=settings.threads,
                    )
        raw = RawLoad(
            status=outcome.status,
            rows=outcome.rows,
            seconds=round(outcome.seconds, 3),
            previous_load_id=outcome.previous_load_id,
        )
        timings["raw_load"] = outcome.seconds
        if outcome.status == "already_loaded":
            log.info("manifest already loaded; nothing to do", extra={"load_id": load_id})
            return _finish(
                uri, load_id, target, "already_loaded", started, timings, raw, None, store
            )
        dbt = build(settings, target)
        timings["dbt_build"] = dbt.seconds
        state = "succeeded" if dbt.success else "failed"
        return _finish(
            uri, load_id, target, state, started, timings, raw, dbt, store, error=dbt.error
        )
    except EtlError as exc:
        log.error(str(exc), extra={"error_type": type(exc).__name__})
        return _finish(
            uri,
            load_id,
            target,
            "failed",
            started,
            timings,
            raw,
            dbt,
            store,
            error=str(exc),
            error_type=type(exc).__name__,
        )


# What fakesnow cannot run (dbt/README.md, emulator concessions): dbt's temp tables for unit tests, and
# TO_TIMESTAMP_TZ on a column in one macro test. Excluded only under SNOWFLAKE_FAKESNOW_COMPAT.
FAKESNOW_EXCLUDES = ("assert_timestamp_macros",)
FAKESNOW_EXCLUDED_TYPES = ("unit_test",)


def build(settings: RunnerSettings, target: str) -> DbtResult:
    work = settings.work_dir
    emulated = target == "prod" and get_snowflake_settings().fakesnow_compat
    args = dbt_args(
        "build",
        project_dir=settings.dbt_project(),
        profiles_dir=settings.dbt_project(),
        target=target,
        target_path=work / "target",
        log_path=work / "logs",
        threads=settings.threads,
        exclude=FAKESNOW_EXCLUDES if emulated else (),
        exclude_resource_types=FAKESNOW_EXCLUDED_TYPES if emulated else (),
    )
    return invoke(
        args, env={"DUCKDB_PATH": str(settings.duckdb_path.resolve()), "DBT_TARGET": target}
    )


def _finish(
    uri,
    load_id,
    target,
    state,
    started,
    timings,
    raw,
    dbt,
    store,  # type: ignore[no-untyped-def]
    error=None,
    error_type=None,
) -> BuildResult:
    result = BuildResult(
        manifest_uri=uri,
        load_id=load_id,
        target=target,
        state=state,
        started_at=started,
        finished_at=datetime.now(UTC),
        timings_s={k: round(v, 3) for k, v in timings.items()},
        raw_load=raw,
        dbt=dbt,
        error=error,
        error_type=error_type,
    )
    if store is not None and load_id is not None:
        key = f"{RESULTS_DIR}/{load_id}.json"
        try:
            store.put_bytes(
                key, result.model_dump_json(indent=2).encode(), content_type="application/json"
            )
            result.result_uri = store.url_for(key)
        except EtlError as exc:  # the build outcome matters more than its record: keep it, say so
            log.warning("could not write the build result", extra={"error": str(exc)})
    return result


__all__ = ["BuildResult", "run_manifest", "split_manifest_uri"]
