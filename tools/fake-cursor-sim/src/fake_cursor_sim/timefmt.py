"""Fast RFC 3339 rendering and day arithmetic on integer nanoseconds, the upstream's own wire format.

Equivalent to `etl_common.timestamps.format_rfc3339_ns` (UTC, `Z`, fraction with trailing zeros trimmed) but
several times faster, because generation renders a few hundred thousand timestamps at startup.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

NS = 1_000_000_000
DAY_NS = 86_400 * NS
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_day_cache: dict[int, str] = {}
_clock_cache: dict[int, str] = {}


def day_string(day_index: int) -> str:
    """`YYYY-MM-DD` of a day counted from the Unix epoch."""
    text = _day_cache.get(day_index)
    if text is None:
        text = date.fromordinal(_EPOCH_ORDINAL + day_index).isoformat()
        _day_cache[day_index] = text
    return text


def fmt_ns(ns: int) -> str:
    seconds, frac = divmod(ns, NS)
    day, rem = divmod(seconds, 86_400)
    clock = _clock_cache.get(rem)
    if clock is None:
        hh, mm_ss = divmod(rem, 3600)
        mm, ss = divmod(mm_ss, 60)
        clock = _clock_cache[rem] = f"T{hh:02d}:{mm:02d}:{ss:02d}"
    text = day_string(day) + clock
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def datetime_to_ns(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1000


def date_to_day_index(value: date) -> int:
    return value.toordinal() - _EPOCH_ORDINAL
