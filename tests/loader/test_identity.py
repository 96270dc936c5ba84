"""Run identity against the upstream's coarse uptime (contract 10.1): never a false "restarted", whatever the
load's length or the server's age, and every change of generation caught."""

from __future__ import annotations

import math

import pytest

from loader.identity import SourceSnapshot, uptime_bounds


def coarse(seconds: float, *, truncate: bool = False) -> str:
    """The upstream's `server.uptime`: exact seconds below a minute, whole minutes (Go's Round, or a
    truncating variant) below a day, then `XdYhZm` with zero parts left out."""
    if seconds < 60:
        return f"{int(seconds)}s"
    minutes = int(seconds // 60) if truncate else math.floor(seconds / 60 + 0.5)
    if minutes < 24 * 60:
        hours, mins = divmod(minutes, 60)
        return f"{hours}h{mins}m0s" if hours else f"{mins}m0s"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return f"{days}d" + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")


FIRST = {"commitHash": "28bb6928bbf5", "commitTs": "2026-09-03T19:18:03.878932149Z"}
TOTALS = {"total_commits": 10, "total_prs": 9, "total_reviews": 8, "total_developers": 2}


def snap(uptime: str, at: float, first: dict | None = None, totals: dict | None = None):
    return SourceSnapshot(
        uptime_raw=uptime,
        version="2.0.0",
        generation=totals or TOTALS,
        first_commit=first or FIRST,
        commit_count=10,
        taken_at=at,
    )


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("42s", 41, 43),
        ("0s", 0, 1),
        ("1m0s", 30, 120),
        ("3m0s", 150, 240),
        ("1h2m0s", 3690, 3780),
        ("1d", 86370, 86460),
        ("2d3h", 183570, 183660),
        ("1d4m", 86610, 86700),
        ("1d2h3m", 93750, 93840),
        ("1.5s", 0.5, 2.5),
    ],
)
def test_uptime_strings_give_the_interval_the_rounding_allows(text, low, high) -> None:
    assert uptime_bounds(text) == pytest.approx((low, high))


@pytest.mark.parametrize("bad", ["", None, "6x", "1h2", "m5s", "1d 2h", "s"])
def test_unreadable_uptimes_are_none(bad) -> None:
    assert uptime_bounds(bad) is None


def test_the_reading_that_failed_real_loads_is_not_a_restart() -> None:
    # Seen on the real upstream: `1m0s` at the start, `3m0s` 132 s later, same process.
    assert snap("3m0s", at=1132.0).restarted_since(snap("1m0s", at=1000.0)) is None


@pytest.mark.parametrize("truncate", [False, True])
@pytest.mark.parametrize("load_s", [10, 59, 61, 132, 600, 3600, 90_000])
def test_no_false_restart_for_any_load_length_or_server_age(truncate, load_s) -> None:
    ages = [*range(0, 200, 7), 3_599, 86_340, 86_399, 86_400, 86_430, 200_000]
    for age in ages:
        for offset in (0.0, 0.4, 29.6, 30.0, 30.5, 59.9):
            start = age + offset
            before = snap(coarse(start, truncate=truncate), at=1000.0)
            after = snap(coarse(start + load_s, truncate=truncate), at=1000.0 + load_s)
            assert after.restarted_since(before) is None, (start, load_s)


@pytest.mark.parametrize("old_uptime", [150, 600, 86_500])
@pytest.mark.parametrize("restart_after", [1, 30, 100])
def test_a_restart_with_identical_data_is_still_caught_by_uptime(old_uptime, restart_after) -> None:
    # a restart whose data happens to be identical: only the server's start time can tell
    load_s = restart_after + 40
    before = snap(coarse(old_uptime), at=1000.0)
    after = snap(coarse(load_s - restart_after), at=1000.0 + load_s)
    reason = after.restarted_since(before)
    assert reason is not None and "restarted" in reason


def test_a_new_generation_with_the_same_totals_is_caught_by_its_first_commit() -> None:
    other = {"commitHash": "41649f767c45", "commitTs": FIRST["commitTs"]}
    reason = snap("5m0s", at=1060.0, first=other).restarted_since(snap("4m0s", at=1000.0))
    assert reason is not None and "41649f767c45" in reason and "28bb6928bbf5" in reason


def test_changed_totals_are_named_a_regeneration() -> None:
    reason = snap("5m0s", at=1060.0, totals={**TOTALS, "total_prs": 11}).restarted_since(
        snap("4m0s", at=1000.0)
    )
    assert reason is not None and "regenerated" in reason
