"""The Snowflake raw load: rendered SQL (incl. the GCS variant the emulator cannot run), settings, and the
load's semantics on fakesnow (atomic swap, counts, idempotency, bounded calls)."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path
from string import Template

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import snowflake.connector

from dbt_runner.manifest_check import verify_and_stage
from dbt_runner.snowflake_load import (
    column_type,
    copy_sql,
    create_table_sql,
    gcs_object_names,
    truncate_timestamps,
)
from dbt_runner.snowflake_session import SnowflakeLoadError
from dbt_runner.snowflake_settings import load_snowflake_settings
from dbt_runner.snowflake_warehouse import load_raw_snowflake
from etl_common.errors import ConfigError, ManifestError

from ..dbt.dbt_harness import fakesnow_connect
from ..dbt.edge_cases import edge_records
from .harness import sf_connect, sf_settings, write_bucket

INFRA = Path(__file__).resolve().parents[2] / "infra" / "snowflake"
T0 = datetime(2027, 1, 1, tzinfo=UTC)


def test_raw_tables_get_explicit_types_and_exact_quoted_names():
    sql = create_table_sql("raw__load_x", "reviews")
    assert sql.startswith("create table raw__load_x.reviews (")
    assert '"submitted_at" timestamp_ntz(9) not null' in sql
    assert '"comments" array,' in sql
    assert '"_extra" varchar)' in sql
    pr = create_table_sql("s", "pull_requests")
    assert (
        '"commit_ids" array' in pr and '"ai_ratio" float' in pr and '"was_reverted" boolean' in pr
    )
    assert '"commitHash" varchar not null' in create_table_sql("s", "commits")
    with pytest.raises(ValueError):
        column_type(pa.timestamp("ns", "UTC"))


def test_copy_matches_columns_by_name_from_parquet():
    sql = copy_sql("s", "commits", "loading.raw_1/commits/")
    assert "from @loading.raw_1/commits/ file_format = (type = parquet" in sql
    assert "match_by_column_name = case_insensitive" in sql and "force = true" in sql
    assert "files =" not in sql
    gcs = copy_sql("s", "commits", "loading.raw_gcs", ["p/x/commits/part-00000.parquet", "o'k"])
    assert "from @loading.raw_gcs files = ('p/x/commits/part-00000.parquet', 'o''k')" in gcs


def test_gcs_variant_names_objects_relative_to_the_bucket():
    keys = ["L1/commits/part-00000.parquet"]
    assert gcs_object_names("gs://b/pre/fix/manifests/L1.json", keys) == [
        "pre/fix/L1/commits/part-00000.parquet"
    ]
    assert gcs_object_names("gs://b/manifests/L1.json", keys) == keys
    with pytest.raises(ConfigError, match="SNOWFLAKE_RAW_STAGE=gcs"):
        gcs_object_names("/local/manifests/L1.json", keys)


def render_template(text: str, values: dict[str, str]) -> str:
    """`${NAME}` placeholders of the DDL under infra/snowflake/ (as an operator renders them, e.g. with
    envsubst); a missing value is an error."""
    try:
        return Template(text).substitute(values)
    except KeyError as exc:
        raise ConfigError(f"infra/snowflake template needs {exc.args[0]}") from None


def test_gcs_infra_ddl_renders_every_placeholder():
    values = {
        "INTEGRATION": "gcs_raw_int",
        "BUCKET": "acme-raw",
        "DATABASE": "analytics",
        "LOADER_ROLE": "loader",
    }
    rendered = {p.name: render_template(p.read_text(), values) for p in sorted(INFRA.glob("*.sql"))}
    assert set(rendered) == {"01_storage_integration.sql", "02_external_stage.sql"}
    text = "\n".join(rendered.values())
    assert "${" not in text
    assert "storage_provider = 'GCS'" in text
    assert "storage_allowed_locations = ('gcs://acme-raw/')" in text
    assert "create stage if not exists analytics.loading.raw_gcs" in text
    assert "url = 'gcs://acme-raw/'" in text and "storage_integration = gcs_raw_int" in text
    with pytest.raises(ConfigError, match="BUCKET"):
        render_template(rendered["01_storage_integration.sql"] + "${BUCKET}", {})


def test_settings_use_profile_names_and_never_show_the_password(monkeypatch):
    env = {
        "SNOWFLAKE_ACCOUNT": "acct",
        "SNOWFLAKE_USER": "u",
        "SNOWFLAKE_ROLE": "r",
        "SNOWFLAKE_DATABASE": "analytics",
        "SNOWFLAKE_WAREHOUSE": "wh",
        "DBT_ENV_SECRET_SNOWFLAKE_PASSWORD": "s3cret-value",
        "SNOWFLAKE_HOST": "",
        "SNOWFLAKE_PORT": "0",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = load_snowflake_settings()
    assert (s.host, s.port, s.protocol, s.raw_stage, s.fakesnow_compat) == (
        None,
        None,
        None,
        "internal",
        False,
    )
    assert "s3cret" not in repr(s) and "s3cret" not in str(s.model_dump())
    monkeypatch.delenv("DBT_ENV_SECRET_SNOWFLAKE_PASSWORD")
    with pytest.raises(ConfigError, match="DBT_ENV_SECRET_SNOWFLAKE_PASSWORD") as err:
        load_snowflake_settings()
    assert "s3cret" not in str(err.value)


def test_emulator_copy_truncates_nanoseconds_never_rounds(tmp_path: Path):
    ts = pa.array(
        [1_799_020_799_999_999_999, None], pa.timestamp("ns")
    )  # 2027-01-03T23:59:59.999999999
    nested = pa.array([[{"created_at": 1_799_020_799_999_999_999}], None])
    src, dst = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(
        pa.table(
            {"t": ts, "n": nested.cast(pa.list_(pa.struct([("created_at", pa.timestamp("ns"))])))}
        ),
        src,
    )
    truncate_timestamps(src, dst)
    out = pq.read_table(dst)
    assert out.schema.field("t").type == pa.timestamp("us")
    assert out.column("t").to_pylist()[0] == datetime(2027, 1, 3, 23, 59, 59, 999999)
    assert out.column("n").to_pylist()[0][0]["created_at"] == datetime(
        2027, 1, 3, 23, 59, 59, 999999
    )


# ---- on the emulator --------------------------------------------------------------------------------------


@pytest.mark.emulator
def test_connector_network_timeout_bounds_fakesnow_http_500_retries(fakesnow_port: int):
    """fakesnow answers unsupported SQL with HTTP 500, which the connector retries; network_timeout ends it."""
    con = fakesnow_connect(fakesnow_port, login_timeout=10, network_timeout=4, socket_timeout=4)
    try:
        cur = con.cursor()
        cur.execute("create database if not exists timeout_db")
        cur.execute("create schema if not exists timeout_db.s")
        cur.execute("create table if not exists timeout_db.s.t (x int)")
        cur.execute("create or replace stage timeout_db.s.st")
        t0 = time.monotonic()
        with pytest.raises(snowflake.connector.errors.Error, match="500"):
            cur.execute(
                "copy into timeout_db.s.t from @timeout_db.s.st file_format = (type = parquet) size_limit = 1"
            )
        assert time.monotonic() - t0 < 30
    finally:
        con.close()


def _raw_state(port: int, database: str) -> dict[str, object]:
    con = sf_connect(port, database)
    try:
        cur = con.cursor()
        counts = {
            t: cur.execute(f'select count(*), max("_load_id") from raw.{t}', timeout=30).fetchone()
            for t in ("commits", "pull_requests", "reviews", "repos")
        }
        loads = [
            r[0]
            for r in cur.execute("select load_id from raw._loads order by loaded_at", timeout=30)
        ]
        outcomes = [
            r[0]
            for r in cur.execute("select outcome from raw._loads order by loaded_at", timeout=30)
        ]
        leftovers = cur.execute(
            "select count(*) from information_schema.schemata where schema_name like 'RAW\\\\_\\\\_%'",
            timeout=30,
        ).fetchone()[0]
    finally:
        con.close()
    return {"counts": counts, "loads": loads, "outcomes": outcomes, "leftover_schemas": leftovers}


def _mark_built(port: int, database: str, load_id: str) -> None:
    con = sf_connect(port, database)
    try:
        con.cursor().execute(
            "update raw._loads set outcome = 'succeeded' where load_id = %s and outcome = 'building'",
            (load_id,),
            timeout=30,
        )
    finally:
        con.close()


@pytest.mark.emulator
def test_load_swaps_all_tables_verifies_counts_and_is_idempotent(
    tmp_path: Path, fakesnow_port: int
):
    db = "load_semantics_db"
    settings = sf_settings(fakesnow_port, db)
    recs = edge_records()
    first = write_bucket(tmp_path / "b", recs, "20270101T000000Z-aaaaaa", T0)
    newer = write_bucket(
        tmp_path / "b",
        {**recs, "repos": recs["repos"][:1]},
        "20270102T000000Z-bbbbbb",
        T0.replace(day=2),
    )
    older = write_bucket(
        tmp_path / "b", recs, "20261231T000000Z-cccccc", T0.replace(year=2026, month=12, day=31)
    )

    def load(uri: str, **kw):  # type: ignore[no-untyped-def]
        v = verify_and_stage(uri, tmp_path / "stage")
        return load_raw_snowflake(settings, v, **kw)

    out = load(first)
    assert (out.status, out.rows) == (
        "loaded",
        {"commits": 7, "pull_requests": 8, "reviews": 8, "repos": 2},
    )
    # The raw load alone does not make it loaded: until its build succeeded a retry loads it again.
    assert load(first).status == "loaded"
    _mark_built(fakesnow_port, db, "20270101T000000Z-aaaaaa")  # as the dbt-runner's publish does
    assert load(first).status == "already_loaded"
    tampered = tmp_path / "b" / "manifests" / "20270101T000000Z-aaaaaa.json"
    tampered.write_bytes(
        tampered.read_bytes().replace(b'"manifest_version"', b' "manifest_version"')
    )
    with pytest.raises(ManifestError, match="must not change under its load id"):
        load(first)
    out = load(newer)
    assert (out.status, out.rows["repos"], out.previous_load_id) == (
        "loaded",
        1,
        "20270101T000000Z-aaaaaa",
    )
    with pytest.raises(ManifestError, match="older than the loaded"):
        load(older)
    state = _raw_state(fakesnow_port, db)
    assert state["loads"] == [
        "20270101T000000Z-aaaaaa",
        "20270101T000000Z-aaaaaa",
        "20270102T000000Z-bbbbbb",
    ]
    assert state["outcomes"] == ["interrupted", "succeeded", "building"]
    assert state["counts"]["repos"] == (1, "20270102T000000Z-bbbbbb")
    assert state["counts"]["commits"] == (7, "20270102T000000Z-bbbbbb")
    assert state["leftover_schemas"] == 0


@pytest.mark.emulator
def test_a_row_count_that_differs_from_the_manifest_leaves_raw_untouched(
    tmp_path: Path, fakesnow_port: int
):
    db = "count_mismatch_db"
    settings = sf_settings(fakesnow_port, db)
    good = write_bucket(tmp_path / "b", edge_records(), "20270101T000000Z-aaaaaa", T0)
    v = verify_and_stage(good, tmp_path / "s")
    load_raw_snowflake(settings, v)
    bad = write_bucket(tmp_path / "b", edge_records(), "20270102T000000Z-dddddd", T0.replace(day=2))
    v = verify_and_stage(bad, tmp_path / "s2")
    entities = dict(v.manifest.entities)
    entities["reviews"] = entities["reviews"].model_copy(update={"rows": 9})
    lying = v.manifest.model_copy(update={"entities": entities})
    with pytest.raises(ManifestError, match="reviews loaded 8 rows, manifest says 9"):
        load_raw_snowflake(settings, dataclasses.replace(v, manifest=lying))
    state = _raw_state(fakesnow_port, db)
    assert state["loads"] == ["20270101T000000Z-aaaaaa"]
    assert state["counts"]["reviews"] == (8, "20270101T000000Z-aaaaaa")
    assert state["leftover_schemas"] == 0


@pytest.mark.emulator
def test_unreachable_warehouse_is_a_transient_error(tmp_path: Path):
    from dev_stack.processes import free_port

    settings = sf_settings(free_port(), "nowhere", login_timeout_s=3, network_timeout_s=3)
    uri = write_bucket(tmp_path / "b", edge_records(), "20270101T000000Z-aaaaaa", T0)
    v = verify_and_stage(uri, tmp_path / "s")
    with pytest.raises(SnowflakeLoadError) as err:
        load_raw_snowflake(settings, v)
    assert err.value.transient and "fake" not in str(err.value).split("connect")[0]
