from datetime import UTC, datetime

import pytest

from etl_common.timestamps import format_rfc3339_ns, parse_rfc3339_ns

BASE = int(datetime(2026, 9, 1, 17, 29, 4, tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("2026-09-01T17:29:04Z", 0),
        ("2026-09-01T17:29:04.5Z", 500_000_000),
        ("2026-09-01T17:29:04.01960Z", 19_600_000),
        ("2026-09-01T17:29:04.019600676Z", 19_600_676),
        ("2026-09-01T17:29:04.000000001Z", 1),
    ],
)
def test_every_fraction_width_keeps_nanoseconds(text: str, nanos: int) -> None:
    assert parse_rfc3339_ns(text) == BASE + nanos


def test_offsets_normalise_to_utc_across_dst() -> None:
    # The upstream run under TZ=America/New_York sends both -04:00 and -05:00 in one dataset.
    assert parse_rfc3339_ns("2026-09-01T13:29:04.25-04:00") == BASE + 250_000_000
    assert parse_rfc3339_ns("2026-09-01T12:29:04-05:00") == BASE
    assert parse_rfc3339_ns("2026-09-01T19:59:04+02:30") == BASE


@pytest.mark.parametrize(
    "bad", ["2026-09-01", "2026-09-01T17:29:04", "yesterday", "2026-09-01T17:29:04.1234567890Z"]
)
def test_non_rfc3339_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_rfc3339_ns(bad)


def test_format_round_trips_with_trimmed_fraction() -> None:
    for text in [
        "2026-09-01T17:29:04Z",
        "2026-09-01T17:29:04.0196Z",
        "2026-09-01T17:29:04.019600676Z",
    ]:
        assert format_rfc3339_ns(parse_rfc3339_ns(text)) == text
