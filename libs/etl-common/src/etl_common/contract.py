"""The one contract between the services: what the loader and the dbt-runner accept and answer.

The loader and the dbt-runner declare these as their FastAPI request and response models; the
orchestrator validates every answer against them, so a malformed answer fails a step with the field it
lacks instead of a KeyError deep in the engine. One naming across services: a thing's id is
`<thing>_id` (`load_id`, `build_id`, `run_id`), its times `started_at` and `finished_at`, a location
`*_uri`, a failure `error` (one line), `error_type` and `transient` (a retry may succeed). Names used
before this contract are still accepted when reading (`validation_alias`), so an older service's
answer, or a record already in a bucket, still loads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field

from etl_common.trace import StepTrace

LoadState = Literal["running", "succeeded", "failed"]
BuildState = Literal["running", "succeeded", "failed", "already_loaded"]


class Failure(BaseModel):
    """How a finished thing failed, named the same by every service."""

    error: str | None = Field(default=None, description="Why it failed, on one line")
    error_type: str | None = None
    transient: bool | None = Field(default=None, description="A later attempt may succeed")


class LoadRequest(BaseModel):
    """`POST /runs` on the loader."""

    output: str | None = Field(default=None, description="Override LOADER_OUTPUT for this run")


class LoadStatus(Failure):
    """The loader's answer to `POST /runs` and `GET /runs/{load_id}`."""

    load_id: str
    state: LoadState
    started_at: datetime
    finished_at: datetime | None = None
    output: str
    manifest_uri: str | None = None
    rows: dict[str, int] = Field(default_factory=dict)
    pages: dict[str, str] = Field(default_factory=dict)
    requests: int | None = None
    outcome: str | None = Field(
        default=None,
        description="One line once finished: `succeeded`, `succeeded with warnings: …` or the error",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Drift findings that did not block the load (fields no mart depends on), one each",
    )
    steps: list[StepTrace] = Field(default_factory=list, description="The load's steps, once done")


class NodeResult(BaseModel):
    unique_id: str
    resource_type: str
    status: str
    seconds: float
    rows_affected: int | None = None
    failures: int | None = None
    message: str | None = None
    compiled_sql: str | None = None


class DbtResult(BaseModel):
    command: list[str]
    success: bool
    seconds: float
    counts: dict[str, int] = Field(default_factory=dict, description="nodes per `<type>:<status>`")
    nodes: list[NodeResult] = Field(default_factory=list)
    error: str | None = None
    parse: Literal["reused", "partial", "full"] | None = Field(
        default=None,
        description="How dbt parsed the project: its saved parse as it was, updated for changed files, "
        "or from scratch",
    )
    not_run: dict[str, str] = Field(
        default_factory=dict,
        description="What this invocation left out on purpose (a resource type or test), and why",
    )


class RawLoad(BaseModel):
    status: Literal["loaded", "already_loaded"]
    rows: dict[str, int] = Field(default_factory=dict)
    seconds: float
    previous_load_id: str | None = None


class BuildResult(Failure):
    """One build attempt, as the dbt-runner records it beside the manifest and answers it."""

    manifest_uri: str
    load_id: str | None = None
    manifest_sha256: str | None = None
    attempt: str = Field(description="This attempt's id, sortable by time")
    target: str
    state: Literal["succeeded", "failed", "already_loaded"]
    started_at: datetime
    finished_at: datetime
    timings_s: dict[str, float] = Field(default_factory=dict, description="seconds per step")
    steps: list[StepTrace] = Field(default_factory=list, description="each step as traced")
    raw_load: RawLoad | None = None
    dbt: DbtResult | None = None
    transient: bool = Field(default=False, description="A later attempt may succeed")
    result_uri: str | None = None

    @property
    def ok(self) -> bool:
        return self.state in ("succeeded", "already_loaded")


class BuildRequest(BaseModel):
    """`POST /runs` on the dbt-runner."""

    manifest_uri: str = Field(
        validation_alias=AliasChoices("manifest_uri", "manifest"),
        description="Local path or gs:// URI of a manifest",
    )
    target: Literal["dev", "prod"] | None = None
    force: bool = False


class BuildStatus(Failure):
    """The dbt-runner's answer to `POST /runs` and `GET /runs/{build_id}`; `error`, `error_type` and
    `transient` repeat the result's, or say why there is none (the build crashed)."""

    build_id: str = Field(validation_alias=AliasChoices("build_id", "id"))
    state: BuildState
    manifest_uri: str = Field(validation_alias=AliasChoices("manifest_uri", "manifest"))
    started_at: datetime = Field(validation_alias=AliasChoices("started_at", "submitted_at"))
    finished_at: datetime | None = None
    result: BuildResult | None = None


class BuildBusy(BaseModel):
    """The dbt-runner's 409 detail: the build that holds it."""

    message: str
    build_id: str = Field(validation_alias=AliasChoices("build_id", "running_id"))
    manifest_uri: str = Field(validation_alias=AliasChoices("manifest_uri", "running_manifest"))
