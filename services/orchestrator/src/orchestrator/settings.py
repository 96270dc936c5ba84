"""The orchestrator's settings, from the environment only (prefix `ORCHESTRATOR_`), built lazily."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from etl_common.settings import load_settings


class OrchestratorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORCHESTRATOR_", extra="ignore")

    loader_url: str = Field(default="http://127.0.0.1:8081", description="The loader service")
    dbt_runner_url: str = Field(default="http://127.0.0.1:8082", description="The dbt-runner")
    root: str = Field(
        default="data/raw",
        description="Where the loader writes (`gs://bucket/prefix`); manifests, build results and "
        "this service's run records (`orchestrator/runs/`) all live under it",
    )
    poll_interval_s: float = Field(
        default=0.5,
        gt=0,
        description="How often a running step is polled (the Cloud Run Admin API too, in job mode); "
        "the local stack polls its local services every 0.1 s",
    )
    extract_timeout_s: float = Field(default=1800, gt=0)
    build_timeout_s: float = Field(default=1800, gt=0)
    busy_retry_s: float = Field(
        default=120, ge=0, description="How long a pipeline run waits for a busy dbt-runner"
    )
    dbt_runner_mode: Literal["service", "cloud_run_job"] = Field(
        default="service",
        description="`service`: POST the dbt-runner's /runs; `cloud_run_job`: execute the Cloud "
        "Run job through the Admin API with the manifest as an override",
    )
    cloud_run_job: str = Field(
        default="", description="projects/P/locations/L/jobs/dbt-runner (cloud_run_job mode)"
    )
    cloud_run_loader_job: str = Field(
        default="",
        description="projects/P/locations/L/jobs/loader: when set, `POST /run` executes this job "
        "instead of calling ORCHESTRATOR_LOADER_URL; its manifest's storage event starts the build",
    )
    cloud_run_endpoint: str = Field(
        default="", description="Admin API endpoint override (tests record the request)"
    )
    ready_cache_s: float = Field(
        default=3.0,
        ge=0,
        description="How long `/readyz` reuses a dependency check (loader, dbt-runner, bucket)",
    )
    ready_timeout_s: float = Field(
        default=2.0, gt=0, description="The longest a `/readyz` probe waits for its checks"
    )
    lease_ttl_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a run stays owned by the instance driving it without a heartbeat; "
        "another instance takes the run over only after its lease expired",
    )
    heartbeat_s: float = Field(
        default=5.0,
        gt=0,
        description="How often the driving instance renews its leases, and how often every "
        "instance looks for runs whose lease expired",
    )
    unreachable_grace_s: float = Field(
        default=15.0,
        gt=0,
        description="How long a step rides out a loader or dbt-runner it cannot reach",
    )
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> OrchestratorSettings:
        if self.heartbeat_s * 2 > self.lease_ttl_s:
            raise ValueError(
                "ORCHESTRATOR_HEARTBEAT_S must be at most half of ORCHESTRATOR_LEASE_TTL_S "
                f"({self.heartbeat_s:g} s > {self.lease_ttl_s:g} s / 2): a lease would lapse "
                "between two heartbeats"
            )
        return self


@lru_cache
def get_settings() -> OrchestratorSettings:
    return load_settings(OrchestratorSettings)
