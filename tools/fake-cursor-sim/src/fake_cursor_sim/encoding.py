"""JSON bytes the way Go's encoding/json writes them: compact, raw UTF-8, `<`, `>`, `&`, U+2028 and U+2029
escaped as `\\u003c` etc., floats as Go prints a float64 (`32`, not `32.0`; `0.00001`, not `1e-05`), and
(for whole bodies) a trailing newline."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_ESCAPES = (
    ("&", "\\u0026"),
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
# a float Python's encoder cannot print the Go way, carried through the encoder as a marked string
_MARK = "\x00go-float:"
_MARKED = re.compile(r'"\\u0000go-float:([^"]*)"')
_SAFE_INT = 2**53  # below this an integral float64 prints exactly as its integer value


def go_float(value: float) -> str:
    """Go's `encoding/json` text for a float64: `strconv.FormatFloat(f, 'f', -1, 64)` (shortest digits,
    no exponent) between 1e-6 and 1e21, else the 'e' form with the exponent's leading zero dropped
    (`1e-7`, `1e+21`)."""
    if not math.isfinite(value):
        raise ValueError(f"Go's encoding/json refuses {value!r}")
    shortest = repr(value)  # the shortest round-tripping digits, as Go's -1 precision uses
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, _, exponent = shortest.partition("e")  # repr uses the exponent form out here
        sign, digits = exponent[0], exponent[1:].lstrip("0")
        return f"{mantissa}e{sign}{digits.zfill(2) if sign == '+' else digits or '0'}"
    text = format(Decimal(shortest), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _go_floats(value: Any) -> Any:
    """`value` with every float replaced by what encodes to Go's text: an int when integral and exact,
    else a marked string that `go_json` unmarks after encoding."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _SAFE_INT:
            return int(value) if value or math.copysign(1, value) > 0 else _MARK + "-0"
        text = go_float(value)
        return value if text == repr(value) else _MARK + text
    if isinstance(value, dict):
        return {k: _go_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_go_floats(v) for v in value]
    return value


def go_json(value: Any, *, floats: bool = True) -> bytes:
    """One value without a newline. Safe to escape after encoding: these characters occur only in strings.
    `floats=False` skips the float pass, for records built with Go-shaped numbers already (the hot path:
    generation serialises every record once)."""
    text = _encode(_go_floats(value) if floats else value)
    if "\\u0000go-float:" in text:
        text = _MARKED.sub(lambda m: m.group(1), text)
    for raw, escaped in _ESCAPES:
        if raw in text:
            text = text.replace(raw, escaped)
    return text.encode()


def go_body(value: Any) -> bytes:
    """A whole response body: the value plus the newline `json.NewEncoder(w).Encode` appends."""
    return go_json(value) + b"\n"


def join_array(parts: list[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"
