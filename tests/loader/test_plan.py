import pytest

from loader.plan import SourceSnapshot, parse_go_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("6m0s", 360.0), ("1h2m3.5s", 3723.5), ("45.25s", 45.25), ("250ms", 0.25), ("0s", 0.0)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", None, "6x", "1h2", "m5s"])
def test_unreadable_durations_are_none(bad: str | None) -> None:
    assert parse_go_duration(bad) is None


def snap(uptime: float, at: float, generation: dict | None = None) -> SourceSnapshot:
    return SourceSnapshot(
        uptime_s=uptime,
        uptime_raw=f"{uptime}s",
        version="2.0.0",
        generation=generation or {"total_prs": 10},
        taken_at=at,
    )


def test_same_lifetime_is_not_a_restart() -> None:
    assert snap(130.0, at=1030.0).restarted_since(snap(100.0, at=1000.0)) is None
    assert snap(129.0, at=1030.0).restarted_since(snap(100.0, at=1000.0)) is None  # rounding slack


def test_a_quick_restart_is_caught_even_when_uptime_grew() -> None:
    # 60 s passed on our clock but uptime advanced only 20 s: a new process started 40 s in.
    reason = snap(30.0, at=1060.0).restarted_since(snap(10.0, at=1000.0))
    assert reason is not None and "restarted" in reason


def test_a_regeneration_is_named() -> None:
    reason = snap(130.0, at=1030.0, generation={"total_prs": 11}).restarted_since(
        snap(100.0, at=1000.0)
    )
    assert reason is not None and "regenerated" in reason
