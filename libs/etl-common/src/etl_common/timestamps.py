"""RFC 3339 parsing that keeps nanoseconds.

The upstream sends 0-9 fractional digits (trailing zeros trimmed) and, when it runs outside UTC, local
offsets that change with DST. `datetime.fromisoformat` would truncate to microseconds, so the fraction is
parsed separately and the instant is returned as integer nanoseconds since the epoch, in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})\Z"
)
_EPOCH_DAY_CACHE: dict[str, int] = {}


def parse_rfc3339_ns(value: str) -> int:
    """Nanoseconds since the Unix epoch (UTC) for an RFC 3339 timestamp; ValueError if it is not one."""
    m = _RFC3339.match(value)
    if m is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    day, hh, mm, ss, frac, zone = m.groups()
    day_s = _EPOCH_DAY_CACHE.get(day)
    if day_s is None:
        day_s = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())
        _EPOCH_DAY_CACHE[day] = day_s
    seconds = day_s + int(hh) * 3600 + int(mm) * 60 + int(ss)
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    nanos = int(frac.ljust(9, "0")) if frac else 0
    return seconds * 1_000_000_000 + nanos


def format_rfc3339_ns(ns: int) -> str:
    """The upstream's own rendering: UTC, `Z`, fraction with trailing zeros trimmed (none if zero)."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        base += "." + f"{nanos:09d}".rstrip("0")
    return base + "Z"
