"""Static checks of the project's shape: dispatch macros, profiles, no DuckDB-only SQL in model files."""

from __future__ import annotations

import re

import yaml

from .dbt_harness import PROJECT_DIR

MACRO_DIR = PROJECT_DIR / "macros" / "cross_db"
MACRO_TESTS = PROJECT_DIR / "tests" / "macros"


def _dispatched_macros() -> dict[str, str]:
    found = {}
    for path in MACRO_DIR.glob("*.sql"):
        text = path.read_text()
        for name in re.findall(r"adapter\.dispatch\('(\w+)', 'cursor_analytics'\)", text):
            found[name] = text
    return found


def test_every_dispatched_macro_has_duckdb_snowflake_and_a_raising_default() -> None:
    macros = _dispatched_macros()
    assert len(macros) >= 8, sorted(macros)
    for name, text in macros.items():
        assert re.search(rf"macro duckdb__{name}\(", text), name
        assert re.search(rf"macro snowflake__{name}\(", text), name
        default = re.search(rf"macro default__{name}\(.*?endmacro", text, re.S)
        assert default and "unsupported_adapter" in default.group(0), name


def test_every_dispatched_macro_is_exercised_by_a_dbt_test() -> None:
    test_sql = "\n".join(p.read_text() for p in MACRO_TESTS.glob("*.sql"))
    for name in _dispatched_macros():
        assert re.search(rf"\b{name}\(", test_sql), f"no test under dbt/tests/macros calls {name}"


def test_models_call_no_engine_specific_function_directly() -> None:
    """Engine differences live in macros only: model SQL must not name a dialect's own functions."""
    banned = re.compile(
        r"\b(?:quantile_cont|percentile_cont|epoch_\w+|date_diff|datediff|timestampdiff|"
        r"date_trunc|dayofweekiso|array_size|len|unnest|flatten|iff|make_timestamp)"
        r"\s*\(|::",
        re.I,
    )
    for path in (PROJECT_DIR / "models").rglob("*.sql"):
        sql = re.sub(r"\{\{.*?\}\}", "", path.read_text(), flags=re.S)  # macro calls are the point
        hits = banned.findall(sql)
        assert not hits, f"{path.name}: {hits}"


def test_profiles_read_every_connection_value_from_the_environment() -> None:
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["cursor_analytics"]
    assert profile["target"].startswith("{{ env_var(")
    dev, prod = profile["outputs"]["dev"], profile["outputs"]["prod"]
    assert dev["type"] == "duckdb" and "env_var('DUCKDB_PATH'" in dev["path"]
    assert prod["type"] == "snowflake"
    for key in (
        "account",
        "user",
        "password",
        "role",
        "database",
        "warehouse",
        "host",
        "port",
        "protocol",
    ):
        assert "env_var(" in str(prod[key]), key
    assert "DBT_ENV_SECRET_" in prod["password"]


def test_schema_names_are_not_prefixed_by_the_target_schema() -> None:
    text = (PROJECT_DIR / "macros" / "generate_schema_name.sql").read_text()
    assert "custom_schema_name | trim" in text
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    models = project["models"]["cursor_analytics"]
    assert models["staging"]["+schema"] == "staging"
    assert models["marts"]["+schema"] == "mart"
    assert models["marts"]["+contract"]["enforced"] is True
