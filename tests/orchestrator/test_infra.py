"""The production wiring on paper (`infra/cloudrun`, `infra/eventarc`) agrees with the code: entry
points parse, settings exist, and the trigger, service and job names line up."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dbt_runner.__main__ import build_parser as dbt_runner_parser
from loader.__main__ import build_parser as loader_parser
from orchestrator.app import create_app
from orchestrator.cloudrun import loader_job_request, run_job_request
from orchestrator.events import FINALIZED
from orchestrator.settings import OrchestratorSettings

from ..containers.dockerfile import image_stage
from ..service_harness import REPO

INFRA = REPO / "infra"


def _load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((INFRA / path).read_text())
    return data


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]["template"]["spec"]
    if doc["kind"] == "Job":
        spec = spec["template"]["spec"]
    [container] = spec["containers"]
    return container  # type: ignore[no-any-return]


def _env(doc: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "<secret>") for e in _container(doc).get("env", [])}


LOADER = _load("cloudrun/loader-job.yaml")
RUNNER = _load("cloudrun/dbt-runner-job.yaml")
ORCH = _load("cloudrun/orchestrator-service.yaml")
TRIGGER = _load("eventarc/manifest-finalized-trigger.yaml")


def test_loader_and_dbt_runner_are_jobs_that_serve_nothing() -> None:
    for doc, module in ((LOADER, "loader"), (RUNNER, "dbt_runner")):
        assert doc["apiVersion"] == "run.googleapis.com/v1" and doc["kind"] == "Job"
        container = _container(doc)
        assert container["command"] == ["python", "-m", module]
        assert "ports" not in container
    assert loader_parser().parse_args(_container(LOADER)["args"]).command == "extract"
    assert dbt_runner_parser().parse_args(_container(RUNNER)["args"]).command == "run"


def test_jobs_have_a_startup_probe_only_on_the_port_they_answer_on() -> None:
    for doc in (LOADER, RUNNER):
        container = _container(doc)
        probe = container["startupProbe"]["httpGet"]
        assert probe["path"] == "/healthz"
        assert probe["port"] == int(_env(doc)["JOB_HEALTH_PORT"])
        assert "livenessProbe" not in container and "readinessProbe" not in container


def test_the_service_probes_healthz_on_the_images_port() -> None:
    container = _container(ORCH)
    [port] = container["ports"]
    for kind in ("startupProbe", "livenessProbe"):
        assert container[kind]["httpGet"] == {"path": "/healthz", "port": port["containerPort"]}
    image = image_stage("orchestrator")
    assert ("EXPOSE", str(port["containerPort"])) in image
    assert f"PORT={port['containerPort']}" in " ".join(arg for op, arg in image if op == "ENV")


def test_secrets_come_from_secret_manager_and_images_from_the_registry() -> None:
    for doc, image in ((LOADER, "loader"), (RUNNER, "dbt-runner"), (ORCH, "orchestrator")):
        container = _container(doc)
        assert container["image"].rsplit("/", 1)[1].split(":")[0] == image
        assert image_stage(image)  # a target of the one Dockerfile
        for env in container.get("env", []):
            if any(word in env["name"] for word in ("KEY", "PASSWORD", "SECRET", "TOKEN")):
                assert "value" not in env and "secretKeyRef" in env["valueFrom"], env["name"]


def test_the_job_overrides_the_orchestrator_sends_are_valid_commands() -> None:
    request = run_job_request(
        "projects/p/locations/l/jobs/dbt-runner", "gs://b/raw/manifests/x.json"
    )
    [override] = request["overrides"]["container_overrides"]
    parsed = dbt_runner_parser().parse_args(override["args"])
    assert (parsed.command, parsed.manifest) == ("run", "gs://b/raw/manifests/x.json")
    request = loader_job_request("projects/p/locations/l/jobs/loader", "gs://b/raw")
    [override] = request["overrides"]["container_overrides"]
    loader = loader_parser().parse_args(override["args"])
    assert (loader.command, loader.output) == ("extract", "gs://b/raw")


def test_orchestrator_service_settings_exist_and_name_the_dbt_runner_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ORCH["kind"] == "Service" and _container(ORCH)["args"] == ["serve"]
    env = _env(ORCH)
    fields = {f"ORCHESTRATOR_{name.upper()}" for name in OrchestratorSettings.model_fields}
    assert {k for k in env if k.startswith("ORCHESTRATOR_")} <= fields
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = OrchestratorSettings()
    assert settings.dbt_runner_mode == "cloud_run_job"
    assert settings.cloud_run_job.rsplit("/jobs/", 1)[1] == RUNNER["metadata"]["name"]
    assert settings.cloud_run_loader_job.rsplit("/jobs/", 1)[1] == LOADER["metadata"]["name"]
    assert settings.root == _env(LOADER)["LOADER_OUTPUT"]  # manifests land where it looks
    assert settings.root == _env(RUNNER)["DBT_RUNNER_MANIFEST_ROOT"]  # and the runner accepts


def test_eventarc_sends_the_buckets_finalize_events_to_the_orchestrators_event_route() -> None:
    filters = {f["attribute"]: f["value"] for f in TRIGGER["eventFilters"]}
    assert filters["type"] == FINALIZED
    assert f"gs://{filters['bucket']}/" in _env(ORCH)["ORCHESTRATOR_ROOT"] + "/"
    destination = TRIGGER["destination"]["cloudRun"]
    assert destination["service"] == ORCH["metadata"]["name"]
    paths = create_app().openapi()["paths"]  # the service's own published API
    assert "post" in paths[destination["path"]]


def test_every_infra_file_here_is_checked() -> None:
    files = {
        p.relative_to(INFRA).as_posix()
        for d in ("cloudrun", "eventarc")
        for p in (INFRA / d).glob("*.yaml")
    }
    assert files == {
        "cloudrun/loader-job.yaml",
        "cloudrun/dbt-runner-job.yaml",
        "cloudrun/orchestrator-service.yaml",
        "eventarc/manifest-finalized-trigger.yaml",
    }
