"""The upstream URL as the loader may show it: never with the credentials a user put in `CURSOR_SIM_URL`.

`etl_common.urls.redact` strips userinfo and secret query values from the URL itself; `scrub` also removes
the raw URL and its `user:password@` part from any text built around it (error messages, log lines, run
records), whichever library formatted it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from etl_common.urls import redact


def scrub(text: str, url: str) -> str:
    safe = redact(url)
    if safe == url:
        return text
    for raw in (url, url.rstrip("/")):
        text = text.replace(raw, safe.rstrip("/") if raw != url else safe)
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    if parts.password is not None or parts.username is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        if userinfo:
            text = text.replace(userinfo + "@", "")
    return text
