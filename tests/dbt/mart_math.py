"""The arithmetic of the independent mart recomputation: exact integer microseconds, ISO weeks, hours,
`math.fsum` means, linear-interpolation percentiles, the AI-usage bands of the seed CSV."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

SEED = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "ai_usage_bands.csv"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def week(us: int) -> date:
    d = (_EPOCH + timedelta(microseconds=us)).date()
    return d - timedelta(days=d.weekday())


def hours(start_us: int | None, end_us: int | None) -> float | None:
    if start_us is None or end_us is None:
        return None
    return (end_us - start_us) / 3_600_000_000.0


def div(n: float | None, d: float | None) -> float | None:
    if n is None or d is None or d == 0:
        return None
    return float(n) / float(d)


def avg(values: Iterable[float | None]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return math.fsum(xs) / len(xs) if xs else None


def pct(values: Iterable[float | None], p: float) -> float | None:
    xs = sorted(float(v) for v in values if v is not None)
    if not xs:
        return None
    pos = p * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


def us(ns: int | None) -> int | None:
    return None if ns is None else ns // 1000


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def bands() -> list[tuple[str, float | None, float | None]]:
    with SEED.open() as fh:
        return [
            (
                r["ai_usage_band"],
                float(r["lower_bound"]) if r["lower_bound"] else None,
                float(r["upper_bound"]) if r["upper_bound"] else None,
            )
            for r in csv.DictReader(fh)
        ]


def band(ratio: float | None, bands: list[tuple[str, float | None, float | None]]) -> str | None:
    if ratio is None:
        return None
    for name, lo, hi in bands:
        if (lo is None or ratio >= lo) and (hi is None or ratio < hi):
            return name
    return None
