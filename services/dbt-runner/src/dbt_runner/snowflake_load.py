"""Raw load and publish on Snowflake: each build fills a fresh schema set, and only a green one is swapped in.

The raw tables are built in a fresh schema `raw__load_<id>` with explicit column types (zone-less UTC
timestamps as TIMESTAMP_NTZ(9), lists as ARRAY, column names quoted exactly as the Arrow fields, because
staging refers to them quoted), filled by `COPY INTO ... MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE` from either
a temporary internal stage (the verified local files are `PUT` there) or the external GCS stage of
`infra/snowflake/` (chosen by `SNOWFLAKE_RAW_STAGE`). Row counts are checked against the manifest and the
bookkeeping table `_loads` is carried over with this load's row added. dbt then builds `staging__load_<id>`
and `mart__load_<id>` from it and runs every test there; only when all pass does `publish_snowflake` swap
raw and mart in (`ALTER SCHEMA ... SWAP WITH`). A failed or killed build leaves the live schemas untouched.
Idempotency mirrors the DuckDB load: the same load id, built, is "already loaded"; an older extract is
refused unless forced.

fakesnow (the emulator used in CI) lacks two things, handled only when `SNOWFLAKE_FAKESNOW_COMPAT` is on:
it stores timestamps in microseconds and *rounds* nanoseconds while copying, so the files are truncated to
microseconds before the PUT (the dbt models truncate the same way on DuckDB); and it has no `SWAP WITH`, so
the tables are copied into `raw` and `mart` inside one transaction instead.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from string import Template
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dbt_runner.load_rules import (
    LOADS_COLUMNS,
    LoadedState,
    LoadOutcome,
    already_loaded,
    built_params,
    built_sql,
    loads_row,
    require_rows,
)
from dbt_runner.snowflake_settings import SnowflakeSettings
from etl_common.errors import ConfigError, EtlError
from etl_common.layout import split_manifest_uri
from etl_common.manifest import Manifest
from etl_common.schemas import ENTITIES, raw_schema

log = logging.getLogger(__name__)
RAW = "raw"
STAGING = "staging"
MART = "mart"
LOADS = "_loads"
RAW_TABLES = (*ENTITIES, LOADS)
STAGE_SCHEMA = "loading"
LOADS_DDL = ", ".join(
    f"{name} {kind.replace('timestamp', 'timestamp_ntz')}" for name, kind in LOADS_COLUMNS
)
PARQUET_FORMAT = (
    "file_format = (type = parquet use_logical_type = true use_vectorized_scanner = true)"
)


class SnowflakeLoadError(EtlError):
    """The warehouse refused or failed a load statement; a later attempt may pass."""

    transient = True


def column_type(t: pa.DataType) -> str:
    """The Snowflake type of a raw Arrow type (the loader's schemas use only these)."""
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            raise ValueError(f"raw timestamps are zone-less UTC, got {t}")
        return "timestamp_ntz(9)"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "varchar"
    if pa.types.is_integer(t):
        return "number(38, 0)"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "array"  # list<string> and list<struct> alike: elements are VARIANT
    raise ValueError(f"no Snowflake type for {t}")


def create_table_sql(schema: str, entity: str) -> str:
    cols = ", ".join(
        f'"{f.name}" {column_type(f.type)}{"" if f.nullable else " not null"}'
        for f in raw_schema(entity)
    )
    return f"create table {schema}.{entity} ({cols})"


def copy_sql(schema: str, entity: str, location: str, files: Sequence[str] = ()) -> str:
    """COPY from `@location` (no leading @): the named files, or all of them (a fresh per-load internal
    stage path holds only this load's files). FORCE because the target table is always new."""
    names = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    only = f" files = ({names})" if files else ""
    return (
        f"copy into {schema}.{entity} from @{location}{only} {PARQUET_FORMAT} "
        "match_by_column_name = case_insensitive on_error = abort_statement force = true"
    )


def gcs_object_names(manifest_uri: str, keys: Sequence[str]) -> list[str]:
    """Object names relative to the bucket (the external stage's URL is `gcs://<bucket>/`)."""
    if not manifest_uri.startswith("gs://"):
        raise ConfigError(
            f"SNOWFLAKE_RAW_STAGE=gcs needs a gs:// manifest, got {manifest_uri}; use 'internal'"
        )
    root, _ = split_manifest_uri(manifest_uri)
    prefix = root.removeprefix("gs://").partition("/")[2].strip("/")
    return [f"{prefix}/{k}" if prefix else k for k in keys]


def render_template(text: str, values: dict[str, str]) -> str:
    """`${NAME}` placeholders of the DDL under infra/snowflake/; a missing value is an error."""
    try:
        return Template(text).substitute(values)
    except KeyError as exc:
        raise ConfigError(f"infra/snowflake template needs {exc.args[0]}") from None


def _micros_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", t.tz)
    if pa.types.is_list(t):
        return pa.list_(pa.field(t.value_field.name, _micros_type(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _micros_type(f.type), f.nullable) for f in t])
    return t


def truncate_timestamps(src: Path, dst: Path) -> None:
    """Emulator only: nanoseconds truncated (never rounded) to microseconds, nested fields included."""
    table = pq.read_table(src)
    schema = pa.schema([pa.field(f.name, _micros_type(f.type), f.nullable) for f in table.schema])
    pq.write_table(table.cast(schema, safe=False), dst)


@contextmanager
def connect(settings: SnowflakeSettings) -> Iterator[Any]:
    import snowflake.connector  # lazily: the DuckDB path never needs it

    kwargs: dict[str, Any] = {
        "account": settings.account,
        "user": settings.user,
        "password": settings.password.get_secret_value(),
        "role": settings.role,
        "database": settings.database,
        "warehouse": settings.warehouse,
        "login_timeout": settings.login_timeout_s,
        "network_timeout": settings.network_timeout_s,
        "socket_timeout": settings.network_timeout_s,
        "session_parameters": {"TIMEZONE": "UTC", "QUERY_TAG": "dbt-runner raw load"},
    }
    if settings.fakesnow_compat:
        kwargs.pop("session_parameters")  # fakesnow refuses TIMEZONE and QUERY_TAG
    kwargs |= {
        k: v
        for k, v in (
            ("host", settings.host),
            ("port", settings.port),
            ("protocol", settings.protocol),
        )
        if v
    }
    try:
        con = snowflake.connector.connect(**kwargs)
    except snowflake.connector.errors.Error as exc:
        raise SnowflakeLoadError(f"cannot connect to Snowflake: {exc.msg}") from None
    try:
        yield con
    finally:
        con.close()


class _Session:
    """One cursor; every statement bounded and every failure turned into a typed error."""

    def __init__(self, con: Any, timeout_s: int) -> None:
        self.cur = con.cursor()
        self.timeout_s = timeout_s

    def run(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        import snowflake.connector

        try:
            self.cur.execute(sql, params, timeout=self.timeout_s)
            return list(self.cur.fetchall())
        except snowflake.connector.errors.Error as exc:
            raise SnowflakeLoadError(f"Snowflake refused `{sql[:120]}`: {exc.msg}") from None


def _loads_columns(s: _Session) -> set[str]:
    """The columns `raw._loads` has now (none when it does not exist; fewer when it predates some)."""
    rows = s.run(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (RAW.upper(), LOADS.upper()),
    )
    return {str(r[0]).lower() for r in rows}


def current_load(s: _Session) -> LoadedState | None:
    have = _loads_columns(s)
    if not have:
        return None
    extra = ", ".join(c if c in have else f"null as {c}" for c in ("manifest_sha256", "outcome"))
    rows = s.run(
        f"select load_id, extracted_at, {extra} from {RAW}.{LOADS} order by loaded_at desc limit 1"
    )
    if not rows:
        return None
    return LoadedState(rows[0][0], rows[0][1].replace(tzinfo=UTC), rows[0][2], rows[0][3])


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

    def dbt_env(self) -> dict[str, str]:
        return {"DBT_RAW_SCHEMA": self.raw, "DBT_SCHEMA_SUFFIX": self.suffix}


def stage_raw_snowflake(
    settings: SnowflakeSettings,
    manifest: Manifest,
    manifest_uri: str,
    manifest_sha256: str,
    files: dict[str, list[Path]],
    *,
    force: bool = False,
) -> tuple[LoadOutcome, BuildSet | None]:
    """Raw tables of this load in a fresh build set (None when the load is already built)."""
    t0 = time.monotonic()
    with connect(settings) as con:
        s = _Session(con, settings.statement_timeout_s)
        current = current_load(s)
        previous = current.load_id if current else None
        if already_loaded(current, manifest, manifest_uri, manifest_sha256, force=force):
            return LoadOutcome(
                "already_loaded", previous_load_id=previous, seconds=time.monotonic() - t0
            ), None
        build = BuildSet(f"__load_{uuid.uuid4().hex[:12]}")
        s.run(f"create schema {build.raw}")
        try:
            rows = _fill(s, settings, build.raw, manifest, manifest_uri, files)
            _bookkeeping(s, build.raw, manifest, manifest_uri, manifest_sha256, rows)
        except BaseException:
            s.run(f"drop schema if exists {build.raw} cascade")
            raise
    outcome = LoadOutcome(
        "loaded", rows=rows, seconds=time.monotonic() - t0, previous_load_id=previous
    )
    return outcome, build


def publish_snowflake(
    settings: SnowflakeSettings, build: BuildSet, load_id: str, counts: dict[str, int]
) -> None:
    """Record the green build on its `_loads` row, then swap its raw and mart schemas in: `ALTER SCHEMA ..
    SWAP WITH` is atomic per schema, so a reader sees raw and marts of different loads only for the instant
    between the two statements. (fakesnow has no SWAP: it copies both schemas' tables in one transaction.)
    Staging holds views by name over `raw`, so it follows the swap; the caller refreshes their definitions."""
    with connect(settings) as con:
        s = _Session(con, settings.statement_timeout_s)
        s.run(built_sql(f"{build.raw}.{LOADS}", "%s"), built_params(load_id, counts))
        marts = [
            str(r[0]).lower()
            for r in s.run(
                "select table_name from information_schema.tables where table_schema = %s",
                (build.mart.upper(),),
            )
        ]
        swap_in = [(RAW, build.raw, RAW_TABLES), (MART, build.mart, tuple(marts))]
        _swap_in(s, swap_in, settings.fakesnow_compat)
    log.info("build published to Snowflake", extra={"schemas": [RAW, MART], "marts": marts})


def discard_snowflake(settings: SnowflakeSettings, build: BuildSet) -> None:
    """Drop a build set: after a publish it holds the previous load, after a failure the unpublished one."""
    with connect(settings) as con:
        s = _Session(con, settings.statement_timeout_s)
        for schema in build.schemas:
            s.run(f"drop schema if exists {schema} cascade")


def load_raw_snowflake(
    settings: SnowflakeSettings,
    manifest: Manifest,
    manifest_uri: str,
    manifest_sha256: str,
    files: dict[str, list[Path]],
    *,
    force: bool = False,
) -> LoadOutcome:
    """The raw load alone, swapped straight into `raw` (no build): for tests and tools that then run dbt
    themselves. The dbt-runner builds through `stage_raw_snowflake` and `publish_snowflake` instead."""
    outcome, build = stage_raw_snowflake(
        settings, manifest, manifest_uri, manifest_sha256, files, force=force
    )
    if build is None:
        return outcome
    try:
        with connect(settings) as con:
            s = _Session(con, settings.statement_timeout_s)
            _swap_in(s, [(RAW, build.raw, RAW_TABLES)], settings.fakesnow_compat)
    finally:
        discard_snowflake(settings, build)
    log.info("raw load into Snowflake committed", extra={"rows": outcome.rows, "schema": RAW})
    return outcome


def _fill(
    s: _Session,
    settings: SnowflakeSettings,
    schema: str,
    manifest: Manifest,
    manifest_uri: str,
    files: dict[str, list[Path]],
) -> dict[str, int]:
    rows: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="sf-load-") as tmp:
        if settings.raw_stage == "internal":
            stage = f"{STAGE_SCHEMA}.raw_{uuid.uuid4().hex[:12]}"
            s.run(f"create schema if not exists {STAGE_SCHEMA}")
            s.run(f"create temporary stage {stage}")  # dropped with the session, files included
        for entity in ENTITIES:  # identifiers come from this fixed list, never from the manifest
            s.run(create_table_sql(schema, entity))
            if settings.raw_stage == "internal":
                _put(s, stage, entity, files[entity], Path(tmp), settings.fakesnow_compat)
                s.run(copy_sql(schema, entity, f"{stage}/{entity}/"))
            else:
                keys = [f.path for f in manifest.entities[entity].files]
                names = gcs_object_names(manifest_uri, keys)
                s.run(copy_sql(schema, entity, settings.gcs_stage, names))
            (count,) = s.run(f"select count(*) from {schema}.{entity}")[0]
            rows[entity] = require_rows(manifest, manifest_uri, entity, count)
    return rows


def _put(s: _Session, stage: str, entity: str, paths: list[Path], tmp: Path, compat: bool) -> None:
    """PUT each file under a unique name (the loader's are `part-00000.parquet` in every folder)."""
    (tmp / entity).mkdir()
    for i, path in enumerate(paths):
        local = tmp / entity / f"{entity}-{i:05d}.parquet"
        if compat:
            truncate_timestamps(path, local)
        else:
            local.symlink_to(path.resolve())
        uri = "file://" + str(local).replace("'", "\\'")
        s.run(f"put '{uri}' @{stage}/{entity}/ auto_compress = false overwrite = true")


# A row still `building` when the next load arrives belongs to a build that never finished.
_ABANDONED = "case when outcome = 'building' then 'interrupted' else outcome end as outcome"


def _bookkeeping(
    s: _Session,
    schema: str,
    manifest: Manifest,
    manifest_uri: str,
    manifest_sha256: str,
    rows: dict[str, int],
) -> None:
    """`_loads` carried over into the incoming schema (older rows get NULL for newer columns), plus this
    load's row, still `building` until `publish_snowflake` marks the green build before swapping it in."""
    s.run(f"create table {schema}.{LOADS} ({LOADS_DDL})")
    if have := _loads_columns(s):
        names = [name for name, _ in LOADS_COLUMNS]
        select = ", ".join(
            _ABANDONED if n == "outcome" and n in have else n if n in have else f"null as {n}"
            for n in names
        )
        s.run(
            f"insert into {schema}.{LOADS} ({', '.join(names)}) select {select} from {RAW}.{LOADS}"
        )
    marks = ", ".join("%s" for _ in LOADS_COLUMNS)
    s.run(
        f"insert into {schema}.{LOADS} values ({marks})",
        loads_row(manifest, manifest_uri, manifest_sha256, rows),
    )


def _swap_in(s: _Session, schemas: list[tuple[str, str, tuple[str, ...]]], compat: bool) -> None:
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
