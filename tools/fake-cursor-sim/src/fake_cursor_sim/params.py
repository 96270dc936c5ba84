"""Query-parameter parsing with the upstream's exact tolerance: where it errors, where it falls back."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qsl

from fake_cursor_sim.timefmt import DAY_NS, date_to_day_index

_INT = re.compile(r"[+-]?\d+")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_RELATIVE = re.compile(r"(-?\d+)d")


def query(raw: bytes) -> dict[str, str]:
    """Like Go's `r.URL.Query().Get`: the first value of each name."""
    out: dict[str, str] = {}
    if raw:
        for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            out.setdefault(key, value)
    return out


def go_atoi(text: str) -> int | None:
    """`strconv.Atoi`: optional sign and decimal digits only, else an error (None)."""
    return int(text) if _INT.fullmatch(text) else None


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


def commits_day(text: str, now_ns: int) -> int | None:
    """The commits endpoint's date formats: YYYY-MM-DD, RFC3339 (date part only), Nd, today, now."""
    today = now_ns // DAY_NS
    if text in ("today", "now"):
        return today
    m = _RELATIVE.fullmatch(text)
    if m:
        return (now_ns - int(m.group(1)) * DAY_NS) // DAY_NS
    day = calendar_day(text)
    if day is not None:
        return day
    m = _RFC3339.fullmatch(text)
    if m:
        return calendar_day(m.group(1))
    return None


def lenient_int(text: str, default: int) -> int:
    """The GitHub-style routes: bad or non-positive values fall back silently."""
    value = go_atoi(text) if text else None
    return value if value is not None and value > 0 else default
