"""URLs as they may be shown: in manifests, logs, run records and error messages.

A URL a user configures may carry credentials (`http://user:pass@host`, `?api_key=...`). `redact` is the one
place that removes them; every writer of a URL that leaves the process goes through it.
"""

from __future__ import annotations

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


__all__ = ["redact"]
