"""The `Warehouse` on Snowflake: each build fills a fresh schema set, and only a green one is swapped in.

A build's raw tables go to `raw__load_<id>` (`snowflake_load`); dbt then builds `staging__load_<id>` and
`mart__load_<id>` from it and runs every test there; only when all pass does the publish swap raw and mart
in (`ALTER SCHEMA ... SWAP WITH`). A failed or killed build leaves the live schemas untouched, and the set
is dropped when the build ends (after a publish it holds the previous load). fakesnow has no `SWAP WITH`:
under `SNOWFLAKE_FAKESNOW_COMPAT` the tables are copied into `raw` and `mart` inside one transaction.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

from dbt_runner.load_rules import (
    LOADS,
    LoadedState,
    LoadOutcome,
    already_loaded,
    built_params,
    built_sql,
    current_load,
)
from dbt_runner.snowflake_load import RAW, fill_raw
from dbt_runner.snowflake_session import Session, session
from dbt_runner.snowflake_settings import SnowflakeSettings
from dbt_runner.warehouse import RawFiles
from etl_common.schemas import ENTITIES

log = logging.getLogger(__name__)
STAGING = "staging"
MART = "mart"
RAW_TABLES = (*ENTITIES, LOADS)


@dataclass(frozen=True)
class BuildSet:
    """The schemas one build fills before anything is published: `raw`, `staging` and `mart`, each with
    this build's suffix. dbt builds into them (DBT_RAW_SCHEMA, DBT_SCHEMA_SUFFIX) and runs every test there;
    only a green build is swapped in."""

    suffix: str

    @property
    def raw(self) -> str:
        return RAW + self.suffix

    @property
    def mart(self) -> str:
        return MART + self.suffix

    @property
    def schemas(self) -> tuple[str, ...]:
        return (self.raw, STAGING + self.suffix, self.mart)


class SnowflakeWarehouse:
    refreshes_views_after_publish = True

    def __init__(self, settings: SnowflakeSettings) -> None:
        self.settings = settings

    def build_env(self) -> dict[str, str]:
        return {}  # each build's schema suffix is its own: known only once it starts

    def writing(self, load_id: str) -> AbstractContextManager[None]:
        # One build per load at a time is the orchestrator's to keep; each build's schema set is its own.
        return nullcontext()

    def current_load(self) -> LoadedState | None:
        with session(self.settings) as s:
            return current_load(s.run, "%s")

    @contextmanager
    def building(self, load_id: str) -> Iterator[SnowflakeBuild]:
        build = SnowflakeBuild(self.settings, BuildSet(f"__load_{uuid.uuid4().hex[:12]}"))
        try:
            yield build
        finally:
            with session(self.settings) as s:
                for schema in build.schemas.schemas:
                    s.run(f"drop schema if exists {schema} cascade")


class SnowflakeBuild:
    def __init__(self, settings: SnowflakeSettings, schemas: BuildSet) -> None:
        self.settings = settings
        self.schemas = schemas

    def replace_raw(self, load: RawFiles, *, previous_load_id: str | None) -> LoadOutcome:
        t0 = time.monotonic()
        with session(self.settings) as s:
            s.run(f"create schema {self.schemas.raw}")
            rows = fill_raw(s, self.settings, self.schemas.raw, load)
        return LoadOutcome(
            "loaded", rows=rows, seconds=time.monotonic() - t0, previous_load_id=previous_load_id
        )

    def dbt_env(self) -> dict[str, str]:
        return {"DBT_RAW_SCHEMA": self.schemas.raw, "DBT_SCHEMA_SUFFIX": self.schemas.suffix}

    def publish(self, load_id: str, counts: dict[str, int]) -> None:
        """Record the green build on its `_loads` row, then swap its raw and mart schemas in: `ALTER
        SCHEMA .. SWAP WITH` is atomic per schema, so a reader sees raw and marts of different loads only
        for the instant between the two statements. Staging holds views by name over `raw`, so it follows
        the swap; the build path refreshes their definitions."""
        raw, mart = self.schemas.raw, self.schemas.mart
        with session(self.settings) as s:
            s.run(built_sql(f"{raw}.{LOADS}", "%s"), built_params(load_id, counts))
            marts = [
                str(r[0]).lower()
                for r in s.run(
                    "select table_name from information_schema.tables where table_schema = %s",
                    (mart.upper(),),
                )
            ]
            swap = [(RAW, raw, RAW_TABLES), (MART, mart, tuple(marts))]
            _swap_in(s, swap, self.settings.fakesnow_compat)
        log.info("build published to Snowflake", extra={"schemas": [RAW, MART], "marts": marts})

    def publish_raw_only(self) -> None:
        with session(self.settings) as s:
            _swap_in(s, [(RAW, self.schemas.raw, RAW_TABLES)], self.settings.fakesnow_compat)


def load_raw_snowflake(
    settings: SnowflakeSettings, load: RawFiles, *, force: bool = False
) -> LoadOutcome:
    """The raw load alone, swapped straight into `raw` (no build, its `_loads` row stays `building`): for
    tests and tools that then run dbt themselves. The dbt-runner builds through `run.py` instead."""
    warehouse = SnowflakeWarehouse(settings)
    current = warehouse.current_load()
    previous = current.load_id if current else None
    if already_loaded(current, load.manifest, load.manifest_uri, load.manifest_sha256, force=force):
        return LoadOutcome("already_loaded", previous_load_id=previous)
    with warehouse.building(load.manifest.load_id) as build:
        outcome = build.replace_raw(load, previous_load_id=previous)
        build.publish_raw_only()
    log.info("raw load into Snowflake committed", extra={"rows": outcome.rows, "schema": RAW})
    return outcome


def _swap_in(s: Session, schemas: list[tuple[str, str, tuple[str, ...]]], compat: bool) -> None:
    """Each (live schema, incoming schema, its tables) swapped in with `ALTER SCHEMA .. SWAP WITH`, one
    atomic statement per schema. fakesnow has no SWAP: it copies every table in one transaction."""
    for live, _, _ in schemas:
        s.run(f"create schema if not exists {live}")
    if not compat:
        for live, incoming, _ in schemas:
            s.run(f"alter schema {live} swap with {incoming}")
        return
    s.run("begin")
    try:
        for live, incoming, tables in schemas:
            for table in tables:
                s.run(f"create or replace table {live}.{table} as select * from {incoming}.{table}")
        s.run("commit")
    except BaseException:
        s.run("rollback")
        raise
