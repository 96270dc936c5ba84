"""Query-parameter parsing with the upstream's exact tolerance: where it errors, where it falls back."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qsl

from fake_cursor_sim.timefmt import date_to_day_index

# ASCII digits only: Python's `\d` and `int()` also take other scripts' digits, Go's parsers do not
_INT = re.compile(r"[+-]?[0-9]+")
_INT64 = 2**63
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Go's `time.Parse(time.RFC3339, s)`: a literal upper-case `T` and `Z`, a one- or two-digit hour (its
# general parser reads `15` leniently), a fraction after `.` or `,`, or a `±hh:mm` offset
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:[.,][0-9]+)?"
    r"(?:Z|[+-]([0-9]{2}):([0-9]{2}))"
)


def query(raw: bytes) -> dict[str, str]:
    """Like Go's `r.URL.Query().Get`: the first value of each name."""
    out: dict[str, str] = {}
    if raw:
        for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            out.setdefault(key, value)
    return out


def go_atoi(text: str) -> int | None:
    """`strconv.Atoi`: optional sign and decimal digits in int64 range, else an error (None)."""
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if -_INT64 <= value < _INT64 else None


def first(q: dict[str, str], *names: str) -> str:
    for name in names:
        value = q.get(name, "")
        if value:
            return value
    return ""


def calendar_day(text: str) -> int | None:
    """A strict `YYYY-MM-DD` as a day index since the epoch, or None."""
    if not _DAY.fullmatch(text):
        return None
    try:
        return date_to_day_index(date.fromisoformat(text))
    except ValueError:
        return None


def commits_day(text: str, today: int) -> int | None:
    """The commits endpoint's date formats (contract 2.1, 10.3), as a day index: `today` and `now` (the
    server-local date, `today`), `Nd` with `strconv.Atoi`'s optional sign (`+5d`, and `-5d` in the
    future), `YYYY-MM-DD`, and RFC 3339 as Go's `time.Parse` takes it, of which only the date written
    counts (the date in the value's own zone). Anything else is None (the caller's 400)."""
    if text in ("today", "now"):
        return today
    if text.endswith("d"):
        days = go_atoi(text[:-1])
        if days is not None:
            return today - days
    day = calendar_day(text)
    if day is not None:
        return day
    m = _RFC3339.fullmatch(text)
    if m is None:
        return None
    hour, minute, second = int(m.group(2)), int(m.group(3)), int(m.group(4))
    if hour > 23 or minute > 59 or second > 59:
        return None  # Go: "hour out of range" and the like
    if m.group(5) is not None and (int(m.group(5)) > 24 or int(m.group(6)) > 60):
        return None  # Go allows offsets up to 24:00 and minutes up to 60
    return calendar_day(m.group(1))


def lenient_int(text: str, default: int) -> int:
    """The GitHub-style routes: bad or non-positive values fall back silently."""
    value = go_atoi(text) if text else None
    return value if value is not None and value > 0 else default
