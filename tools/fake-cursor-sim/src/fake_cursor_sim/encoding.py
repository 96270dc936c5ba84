"""JSON bytes the way Go's encoding/json writes them: compact, raw UTF-8, `<`, `>`, `&`, U+2028 and U+2029
escaped as `\\u003c` etc., and (for whole bodies) a trailing newline."""

from __future__ import annotations

import json
from typing import Any

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_ESCAPES = (
    ("&", "\\u0026"),
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def go_json(value: Any) -> bytes:
    """One value without a newline. Safe to escape after encoding: these characters occur only in strings."""
    text = _encode(value)
    for raw, escaped in _ESCAPES:
        if raw in text:
            text = text.replace(raw, escaped)
    return text.encode()


def go_body(value: Any) -> bytes:
    """A whole response body: the value plus the newline `json.NewEncoder(w).Encode` appends."""
    return go_json(value) + b"\n"


def join_array(parts: list[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"
