"""The shared step trace: a block's start, end, outcome and counts; a failure's one line and type."""

from __future__ import annotations

import pytest

from etl_common.errors import EtlError
from etl_common.trace import StepTrace, step


class _Busy(EtlError):
    transient = True


def test_a_traced_block_records_its_span_outcome_and_counts() -> None:
    traces: list[StepTrace] = []
    with step("load", traces) as trace:
        trace.counts["rows"] = 3
    (done,) = traces
    assert done.name == "load" and done.outcome == "succeeded" and done.counts == {"rows": 3}
    assert done.started_at is not None and done.finished_at is not None
    assert done.finished_at >= done.started_at and done.seconds is not None and done.seconds >= 0


def test_an_exception_fails_the_step_in_one_line_and_goes_on() -> None:
    traces: list[StepTrace] = []
    with pytest.raises(_Busy), step("build", traces):
        raise _Busy("warehouse locked\nby pid 42")
    (failed,) = traces
    assert failed.outcome == "failed" and failed.error_type == "_Busy"
    assert failed.transient is True and "\n" not in (failed.error or "")
