"""One step trace for every service (after dlt's pipeline trace): a step's name, start, end, seconds,
outcome, counts and, when it failed, the one-line error, its type and whether a retry may pass.

`step("name")` traces a block and records an exception it lets through as the step's failure; a step
that starts in one process and ends in another (an orchestrator step taken over after a restart) is
traced with `start()` and `stop()` on the persisted record itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from etl_common.logs import one_line


class StepTrace(BaseModel):
    name: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    outcome: str | None = Field(default=None, description="`succeeded`, `failed`, …")
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    transient: bool | None = None

    def start(self) -> None:
        self.started_at, self.finished_at, self.seconds = datetime.now(UTC), None, None

    def stop(self, outcome: str, error: str | None = None) -> None:
        self.outcome, self.error, self.finished_at = outcome, error, datetime.now(UTC)
        if self.started_at is not None:
            self.seconds = round((self.finished_at - self.started_at).total_seconds(), 3)


@contextlib.contextmanager
def step(name: str, into: list[StepTrace] | None = None) -> Iterator[StepTrace]:
    """Trace the block as step `name` (appended to `into`, if given); an exception marks it failed,
    with its one-line message, type and transience, and goes on."""
    trace = StepTrace(name=name)
    trace.start()
    try:
        yield trace
    except BaseException as exc:
        trace.error_type = type(exc).__name__
        trace.transient = bool(getattr(exc, "transient", False))
        trace.stop("failed", one_line(str(exc)) or type(exc).__name__)
        raise
    else:
        trace.stop(trace.outcome or "succeeded", trace.error)
    finally:
        if into is not None:
            into.append(trace)
