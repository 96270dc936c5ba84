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
    """The request body: the job's own container, with the manifest as its argument override."""
    return {
        "name": job,
        "overrides": {
            "container_overrides": [{"args": ["run", "--manifest", manifest_uri]}],
            "task_count": 1,
        },
    }


def run_build_job(settings: OrchestratorSettings, manifest_uri: str) -> str:
    """Start one execution; return the operation name (recorded as the step's remote id)."""
    from google.api_core import exceptions as gexc
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import run_v2

    if not settings.cloud_run_job:
        raise ConfigError("ORCHESTRATOR_CLOUD_RUN_JOB: required when DBT_RUNNER_MODE=cloud_run_job")
    options: dict[str, Any] = {}
    credentials = None
    if settings.cloud_run_endpoint:  # a recording server in tests, never a real project
        options["api_endpoint"] = settings.cloud_run_endpoint
        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    client = run_v2.JobsClient(transport="rest", client_options=options, credentials=credentials)
    try:
        operation = client.run_job(
            request=run_job_request(settings.cloud_run_job, manifest_uri), timeout=30.0
        )
    except gexc.ClientError as exc:
        raise CloudRunError(f"Cloud Run run_job refused: {exc}") from exc
    except gexc.GoogleAPIError as exc:
        error = CloudRunError(f"Cloud Run run_job failed: {exc}")
        error.transient = True
        raise error from exc
    return str(operation.operation.name)
