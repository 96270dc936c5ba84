"""Production build trigger: execute the dbt-runner Cloud Run *job* with the manifest as an override.

Eventarc cannot target a job directly, so the orchestrator service calls the Cloud Run Admin API
(`run_v2.JobsClient.run_job`). The call returns a long-running operation at once; the job writes its
build result beside the manifest, which is where the outcome is read. Selected by
`ORCHESTRATOR_DBT_RUNNER_MODE=cloud_run_job` and `ORCHESTRATOR_CLOUD_RUN_JOB`.
"""

from __future__ import annotations

from typing import Any

from etl_common.errors import ConfigError, EtlError
from orchestrator.settings import OrchestratorSettings


class CloudRunError(EtlError):
    """The Admin API refused or could not be reached; transient unless it is a 4xx."""


def run_job_request(job: str, manifest_uri: str) -> dict[str, Any]:
    """The dbt-runner request: the job's own container, with the manifest as its args override."""
    return _request(job, ["run", "--manifest", manifest_uri])


def loader_job_request(job: str, root: str) -> dict[str, Any]:
    """The loader request: extract into ORCHESTRATOR_ROOT, where the manifest event comes from."""
    return _request(job, ["extract", "--output", root])


def _request(job: str, args: list[str]) -> dict[str, Any]:
    return {"name": job, "overrides": {"container_overrides": [{"args": args}], "task_count": 1}}


def run_build_job(settings: OrchestratorSettings, manifest_uri: str) -> str:
    """Start one dbt-runner execution; return the operation name (the step's remote id)."""
    if not settings.cloud_run_job:
        raise ConfigError("ORCHESTRATOR_CLOUD_RUN_JOB: required when DBT_RUNNER_MODE=cloud_run_job")
    return _run_job(settings, run_job_request(settings.cloud_run_job, manifest_uri))


def run_loader_job(settings: OrchestratorSettings) -> str:
    """Start one loader execution writing under ORCHESTRATOR_ROOT; return the operation name."""
    job = settings.cloud_run_loader_job
    return _run_job(settings, loader_job_request(job, settings.root))


def _run_job(settings: OrchestratorSettings, request: dict[str, Any]) -> str:
    from google.api_core import exceptions as gexc
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import run_v2

    options: dict[str, Any] = {}
    credentials = None
    if settings.cloud_run_endpoint:  # a recording server in tests, never a real project
        options["api_endpoint"] = settings.cloud_run_endpoint
        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    client = run_v2.JobsClient(transport="rest", client_options=options, credentials=credentials)
    try:
        operation = client.run_job(request=request, timeout=30.0)
    except gexc.ClientError as exc:
        raise CloudRunError(f"Cloud Run run_job refused: {exc}") from exc
    except gexc.GoogleAPIError as exc:
        error = CloudRunError(f"Cloud Run run_job failed: {exc}")
        error.transient = True
        raise error from exc
    return str(operation.operation.name)
