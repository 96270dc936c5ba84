"""What the loader tells the shared paced client about cursor-sim: who is calling, what a refused key means
for the operator, and how its paths group in the request stats of the manifest.

The grouping keeps `by_endpoint` small and comparable across loads: the fallback's per-repository and
per-pull-request paths (`/repos/{owner}/{repo}/pulls/{n}/reviews`) count as one family each, not one key
per repository or pull request.
"""

from __future__ import annotations

import httpx

from etl_common.http import PacedClient, RetryPolicy, path_without_query
from etl_common.pacing import TokenBucket

USER_AGENT = "cursor-analytics-loader"
# the loader reads its key from this variable (loader.settings), so that is what a 401 should point at
AUTH_HINT = "set CURSOR_SIM_API_KEY"


def endpoint_family(path: str) -> str:
    """`/repos/o/r/pulls/7/reviews` -> `/repos/*/*/pulls/*/reviews`; other paths as they are, query dropped."""
    path = path_without_query(path)
    parts = path.strip("/").split("/")
    if parts and parts[0] == "repos" and len(parts) > 3:
        return "/" + "/".join(["repos", "*", "*", *("*" if p.isdigit() else p for p in parts[3:])])
    if parts and parts[0] == "repos" and len(parts) == 3:
        return "/repos/*/*"
    return path


def cursor_sim_client(
    base_url: str,
    api_key: str,
    *,
    pacer: TokenBucket,
    timeout_s: float = 30.0,
    retry: RetryPolicy | None = None,
    max_connections: int = 8,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PacedClient:
    """A paced client for cursor-sim, named and hinted as the loader; the rest as PacedClient."""
    return PacedClient(
        base_url,
        api_key,
        pacer=pacer,
        user_agent=USER_AGENT,
        auth_hint=AUTH_HINT,
        endpoint_family=endpoint_family,
        timeout_s=timeout_s,
        retry=retry,
        max_connections=max_connections,
        transport=transport,
    )
