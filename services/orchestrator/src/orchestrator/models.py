"""The run record: what the orchestrator persists in the bucket and answers on `GET /runs`.

One record per run, rewritten at every step change, so a restarted orchestrator (or a human reading the
bucket) sees exactly how far a run got. A `running` run is owned by one orchestrator instance at a time:
`owner` holds a lease until `lease_expires_at`, renewed by the owner's heartbeat while it drives the run;
another instance takes the run over only once the lease has expired (see `engine`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, PrivateAttr

from etl_common.layout import new_run_id
from etl_common.trace import StepTrace

StepState = Literal["pending", "running", "submitted", "succeeded", "failed", "already_loaded"]
RunState = Literal["running", "submitted", "succeeded", "failed", "already_loaded"]


def now() -> datetime:
    return datetime.now(UTC)


class Step(StepTrace):
    """A run's step, traced like every service's steps; it may start in one orchestrator and end in
    another (a takeover), so it is traced on the persisted record (`start`/`stop`)."""

    name: str | None = Field(default=None, exclude=True)  # its key in `Run.steps`
    outcome: str | None = Field(default=None, exclude=True)  # `state` says it
    state: StepState = "pending"
    remote_id: str | None = Field(default=None, description="load id or dbt-runner build id")
    rows: dict[str, int] = Field(default_factory=dict)
    pages: dict[str, str] = Field(default_factory=dict)
    requests: int | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="dbt nodes per type:status")
    warnings: list[str] = Field(default_factory=list, description="non-blocking checks that failed")

    def begin(self, remote_id: str | None = None) -> None:
        self.state, self.remote_id = "running", remote_id
        self.start()

    def end(self, state: StepState, error: str | None = None, **fields: Any) -> None:
        self.state = state
        self.stop(state, error)
        for key, value in fields.items():
            setattr(self, key, value)


class ObjectRef(BaseModel):
    """The (bucket, name, generation) of a storage event: the dedupe key."""

    bucket: str
    name: str
    generation: str


class Run(BaseModel):
    run_id: str = Field(default_factory=new_run_id)
    trigger: Literal["api", "event"] = "api"
    state: RunState = "running"
    owner: str = Field(description="The orchestrator instance that drives the run")
    lease_expires_at: datetime | None = Field(
        default=None,
        description="While `running`: until when `owner` holds the run (renewed by its heartbeat); "
        "after that another instance may take it over",
    )
    started_at: datetime = Field(
        default_factory=now, validation_alias=AliasChoices("started_at", "created_at")
    )
    finished_at: datetime | None = None
    steps: dict[str, Step] = Field(default_factory=dict)
    manifest_uri: str | None = None
    result_uri: str | None = None
    event: ObjectRef | None = None
    error: str | None = None
    transient: bool | None = Field(default=None, description="a retry may succeed")
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="What a succeeded run's steps warned about (e.g. data drift)",
    )
    # The bucket generation this copy was read or written at: a write based on it fails if anyone
    # else wrote the record since (never serialized).
    _generation: str | None = PrivateAttr(default=None)

    def lease_expired(self, at: datetime | None = None) -> bool:
        """Records without a lease (written before leases existed) count as expired."""
        return self.lease_expires_at is None or self.lease_expires_at <= (at or now())

    def finish(
        self, state: RunState, error: str | None = None, transient: bool | None = None
    ) -> None:
        self.state, self.error, self.transient, self.finished_at = state, error, transient, now()

    @property
    def seconds(self) -> float | None:
        end = self.finished_at or now()
        return round((end - self.started_at).total_seconds(), 3)


class StartedRun(BaseModel):
    run_id: str
    state: RunState
    links: dict[str, str]
