"""URLs as they may be shown: in manifests, logs, run records and error messages.

A URL a user configures may carry credentials (`http://user:pass@host`, `?api_key=...`). `redact` is the one
place that removes them; every writer of a URL that leaves the process goes through it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters whose value is a secret by name; matched case-insensitively on the whole name.
SECRET_PARAMS = frozenset(
    {"key", "api_key", "apikey", "token", "access_token", "password", "secret", "signature", "sig"}
)


def redact(url: str) -> str:
    """`url` without userinfo and with secret-named query values replaced by `REDACTED`.

    Anything that does not parse as a URL with a host is returned unchanged (a local path has no secrets).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return url
    if not parts.scheme or host is None:
        return url
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMS for k, _ in pairs):
            query = urlencode(
                [(k, "REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def _redact_match(match: re.Match[str]) -> str:
    url = match.group(0)
    core = url.rstrip(".,;:)]")  # punctuation of the sentence around the URL, not part of it
    return redact(core) + url[len(core) :]


def redact_text(text: str, *known: str) -> str:
    """`text` with every URL in it redacted, and the `user:password@` of each `known` URL removed wherever
    it appears (libraries format URLs their own way: without a scheme, or quoted in a repr)."""
    text = _URL.sub(_redact_match, text)
    for url in known:
        try:
            userinfo = urlsplit(url).netloc.rpartition("@")[0]
        except ValueError:
            continue
        if userinfo:
            text = text.replace(userinfo + "@", "")
    return text


__all__ = ["redact", "redact_text"]
