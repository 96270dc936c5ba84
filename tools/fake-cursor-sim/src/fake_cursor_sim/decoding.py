"""What Go's `json.NewDecoder(r.Body).Decode(&req)` says about a request body, for the upstream's
`Failed to parse request: <error>` (contract 10.3). Decode reads one value and never looks past it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

GO_TYPE = "api.RegenerateRequest"  # a guess: the upstream's request struct is not recorded


@dataclass(frozen=True)
class DecodeError:
    message: str


class _NotJson(ValueError):
    """NaN, Infinity and -Infinity, which Python's decoder would accept and Go's refuses."""


def _reject(name: str) -> None:
    raise _NotJson(name)


_CONTEXT = {  # Python's JSONDecodeError.msg -> what Go's scanner says after "invalid character 'c'"
    "Expecting value": "looking for beginning of value",
    "Expecting ':' delimiter": "after object key",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
}


def decode_first(body: bytes) -> Any:
    """The first JSON value of `body` decoded into an object, or Go's error for it: `EOF` when there is
    none, `unexpected EOF` when it stops early, `invalid character 'x' ...` for a syntax error, `json: cannot
    unmarshal ...` for a value that is not an object (the Go type name there is the double's guess; the
    contract records only `EOF`)."""
    text = body.decode(errors="surrogateescape").lstrip(" \t\r\n")
    if not text:
        return DecodeError("EOF")
    try:
        value, _ = json.JSONDecoder(parse_constant=_reject).raw_decode(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text) or exc.msg.startswith("Unterminated"):
            return DecodeError("unexpected EOF")
        context = _CONTEXT.get(exc.msg)
        if exc.msg == "Expecting ',' delimiter":
            inside_array = _innermost(text[: exc.pos]) == "["
            context = "after array element" if inside_array else "after object key:value pair"
        if exc.msg.startswith("Invalid control character"):
            context = "in string literal"
        context = context or "looking for beginning of value"
        return DecodeError(f"invalid character {_quote_char(text[exc.pos])} {context}")
    except _NotJson as exc:
        if str(exc).startswith("-"):
            return DecodeError("invalid character 'I' in numeric literal")
        return DecodeError(f"invalid character '{str(exc)[0]}' looking for beginning of value")
    if value is not None and not isinstance(value, dict):
        kind = {bool: "bool", str: "string", list: "array"}.get(type(value), "number")
        return DecodeError(f"json: cannot unmarshal {kind} into Go value of type {GO_TYPE}")
    return value


def _innermost(prefix: str) -> str:
    """The innermost open bracket of a JSON prefix (strings skipped)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in prefix:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


_GO_ESCAPES = {
    "\a": "a",
    "\b": "b",
    "\f": "f",
    "\n": "n",
    "\r": "r",
    "\t": "t",
    "\v": "v",
    "\\": "\\",
}


def _quote_char(ch: str) -> str:
    """Go's `quoteChar` of the offending byte: `'x'`, `'\\''`, `'"'`, `'\\n'`, `'\\x01'`; a non-ASCII
    byte reads as the Latin-1 rune of that byte, as `string(byte)` does in Go."""
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    if ch in _GO_ESCAPES:
        return "'\\" + _GO_ESCAPES[ch] + "'"
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
        code -= 0xDC00
    elif code >= 0x80:
        code = ch.encode()[0]
    if code < 0x20 or code == 0x7F:
        return f"'\\x{code:02x}'"
    char = chr(code)
    return f"'{char}'" if char.isprintable() else f"'\\u{code:04x}'"
