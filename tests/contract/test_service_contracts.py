"""The loader and the dbt-runner publish the one contract (`etl_common.contract`) in their OpenAPI
schemas: what they answer on `/runs` is the model the orchestrator validates against, field for field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from etl_common.contract import BuildRequest, BuildStatus, LoadRequest, LoadStatus


def _openapi(service: str, monkeypatch: pytest.MonkeyPatch, tmp: str) -> dict[str, Any]:
    monkeypatch.setenv("LOADER_OUTPUT", tmp)
    monkeypatch.setenv("DUCKDB_PATH", f"{tmp}/warehouse.duckdb")
    if service == "loader":
        from loader.app import create_app as loader_app
        from loader.settings import get_settings as loader_settings

        loader_settings.cache_clear()
        return loader_app().openapi()
    from dbt_runner.app import create_app as runner_app
    from dbt_runner.settings import get_settings as runner_settings

    runner_settings.cache_clear()
    return runner_app().openapi()


def _properties(schema: dict[str, Any], name: str) -> set[str]:
    return set(schema["components"]["schemas"][name]["properties"])


@pytest.mark.parametrize(
    ("service", "status", "request_model", "item"),
    [
        ("loader", LoadStatus, LoadRequest, "/runs/{load_id}"),
        ("dbt_runner", BuildStatus, BuildRequest, "/runs/{build_id}"),
    ],
)
def test_runs_answers_are_the_contract_models(
    service: str,
    status: type[BaseModel],
    request_model: type[BaseModel],
    item: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    schema = _openapi(service, monkeypatch, str(tmp_path))
    name = status.__name__
    for path, method in (("/runs", "post"), (item, "get")):
        answer = schema["paths"][path][method]["responses"]
        ok = answer.get("202") or answer["200"]
        assert ok["content"]["application/json"]["schema"]["$ref"].endswith(f"/{name}")
    assert _properties(schema, name) == set(status.model_fields)
    assert _properties(schema, request_model.__name__) == set(
        request_model.model_json_schema()["properties"]
    )
