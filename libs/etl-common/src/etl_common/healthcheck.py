"""`python -m etl_common.healthcheck [PATH]`: the containers' HEALTHCHECK command.

GETs http://127.0.0.1:$PORT/PATH (default `/healthz`, the liveness route every service serves) and exits 0
on a 2xx answer, 1 otherwise. Slim images carry neither curl nor wget, and the standard library's urllib
keeps this probe's start-up to a few tens of milliseconds (no httpx or pydantic import).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 2.0


def probe(path: str = "/healthz", port: str | None = None) -> tuple[bool, str]:
    url = f"http://127.0.0.1:{port or os.environ.get('PORT', '8080')}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return 200 <= response.status < 300, f"{url}: {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url}: {exc.code}"
    except OSError as exc:  # refused, reset, timed out
        return False, f"{url}: {exc}"


def main(argv: list[str]) -> int:
    ok, detail = probe(*(argv[:1] or ["/healthz"]))
    if not ok:
        print(f"unhealthy: {detail}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
