"""Raw load and publish on Snowflake: each build fills a fresh schema set, and only a green one is swapped in.

The raw tables are built in a fresh schema `raw__load_<id>` with explicit column types (zone-less UTC
timestamps as TIMESTAMP_NTZ(9), lists as ARRAY, column names quoted exactly as the Arrow fields, because
staging refers to them quoted), filled by `COPY INTO ... MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE` from either
a temporary internal stage (the verified local files are `PUT` there) or the external GCS stage of
`infra/snowflake/` (chosen by `SNOWFLAKE_RAW_STAGE`). Row counts are checked against the manifest and the
bookkeeping table `_loads` is carried over with this load's row added. The schema set, its publish and
its discard are `snowflake_warehouse`'s.

fakesnow (the emulator used in CI) lacks two things, handled only when `SNOWFLAKE_FAKESNOW_COMPAT` is on:
it stores timestamps in microseconds and *rounds* nanoseconds while copying, so the files are truncated to
microseconds before the PUT (the dbt models truncate the same way on DuckDB); and it has no `SWAP WITH`, so
the tables are copied into `raw` and `mart` inside one transaction instead.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dbt_runner.load_rules import LOADS, LOADS_COLUMNS, loads_columns, loads_row, require_rows
from dbt_runner.snowflake_session import Session
from dbt_runner.snowflake_settings import SnowflakeSettings
from dbt_runner.warehouse import RawFiles
from etl_common.errors import ConfigError
from etl_common.layout import split_manifest_uri
from etl_common.schemas import ENTITIES, raw_schema

RAW = "raw"
STAGE_SCHEMA = "loading"
LOADS_DDL = ", ".join(
    f"{name} {kind.replace('timestamp', 'timestamp_ntz')}" for name, kind in LOADS_COLUMNS
)
PARQUET_FORMAT = (
    "file_format = (type = parquet use_logical_type = true use_vectorized_scanner = true)"
)


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


def fill_raw(
    s: Session, settings: SnowflakeSettings, schema: str, load: RawFiles
) -> dict[str, int]:
    """This load's raw tables and `_loads` in `schema` (new and empty); the rows per entity."""
    rows = _fill(s, settings, schema, load)
    _bookkeeping(s, schema, load, rows)
    return rows


def _fill(s: Session, settings: SnowflakeSettings, schema: str, load: RawFiles) -> dict[str, int]:
    manifest, manifest_uri, files = load.manifest, load.manifest_uri, load.files
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


def _put(s: Session, stage: str, entity: str, paths: list[Path], tmp: Path, compat: bool) -> None:
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


def _bookkeeping(s: Session, schema: str, load: RawFiles, rows: dict[str, int]) -> None:
    """`_loads` carried over into the incoming schema (older rows get NULL for newer columns), plus this
    load's row, still `building` until the publish marks the green build before swapping it in."""
    s.run(f"create table {schema}.{LOADS} ({LOADS_DDL})")
    if have := loads_columns(s.run, "%s"):
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
        loads_row(load.manifest, load.manifest_uri, load.manifest_sha256, rows),
    )
