"""`/admin/stats`, `/admin/config` and `POST /admin/regenerate` (contract 2.5, 4.8)."""

from __future__ import annotations

import os
import random
from collections import Counter
from typing import Any

from fake_cursor_sim.decoding import DecodeError, decode_first
from fake_cursor_sim.responses import Resp, error, json_resp
from fake_cursor_sim.store import Store
from fake_cursor_sim.timefmt import DAY_NS, NS, go_duration, go_round

VERSION = "2.0.0"


def coarse_uptime(seconds: float) -> str:
    """`server.uptime` as the upstream prints it (contract 10.1): exact whole seconds below a minute
    (`42s`); then Go's `Duration.Round(time.Minute).String()` (`1m0s`, `1h2m0s`; halves round away from
    zero, so 1m30s reads `2m0s`); from one day on `XdYhZm` with zero parts left out (`1d`, `2d3h`, `1d4m`)."""
    if seconds < 60:
        return f"{int(seconds)}s"
    rounded = go_round(int(seconds * NS), 60 * NS)
    if rounded < DAY_NS:
        return go_duration(rounded)
    days, rest = divmod(rounded // (60 * NS), 24 * 60)
    hours, mins = divmod(rest, 60)
    return f"{days}d" + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")


def _counts(values: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))  # Go marshals map keys sorted


def _shuffled(values: list[str] | set[str], rng: random.Random) -> list[str]:
    """A list the upstream builds by iterating a Go map: a different order on every call (contract 10.3)."""
    out = sorted(values)
    rng.shuffle(out)
    return out


def _rss_mb() -> str:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return f"{pages * os.sysconf('SC_PAGE_SIZE') / (1024 * 1024):.1f} MB"
    except (OSError, ValueError):
        return "N/A"


def generation(store: Store) -> dict[str, Any]:
    return {
        "total_commits": store.totals["commits"],
        "total_prs": store.totals["prs"],
        "total_reviews": store.totals["reviews"],
        "total_issues": store.totals.get("issues", 0),
        # the seed file's developers, not the replicated total (contract 4.7)
        "total_developers": store.seed_developers,
        "data_size": store.data_size,
    }


def stats(store: Store, last_generation: str, rng: random.Random) -> Resp:
    people = store.people
    extra = store.stats_extra
    return json_resp(
        {
            "generation": generation(store),
            "developers": {
                "by_seniority": _counts([p.seniority for p in people]),
                "by_region": _counts([p.region for p in people]),
                "by_team": _counts([p.team for p in people]),
                "by_activity": _counts([p.activity for p in people]),
            },
            "quality": {
                "avg_revert_rate": 0.02,
                "avg_hotfix_rate": 0.08,
                "avg_code_survival_30d": 0.85,
                "avg_review_thoroughness": extra["avg_review_thoroughness"],
                "avg_pr_iterations": 1,
            },
            "variance": {
                "commits_std_dev": extra["commits_std_dev"],
                "pr_size_std_dev": extra["pr_size_std_dev"],
                "cycle_time_std_dev": extra["cycle_time_std_dev"],
            },
            "performance": {
                "last_generation_time": last_generation,
                "memory_usage": _rss_mb(),
                "storage_efficiency": "95%",
            },
            "organization": {
                "teams": _shuffled(set(store.teams), rng),
                "divisions": ["Engineering"],
                "repositories": _shuffled(store.repo_names, rng),
            },
        }
    )


def config(store: Store, port: int, uptime_s: float, rng: random.Random) -> Resp:
    people = store.people
    return json_resp(
        {
            "generation": {
                "days": store.days,
                "velocity": "medium",
                "developers": store.developers,
                "max_commits": 0,
            },
            "seed": {
                "version": "1.0",
                "developers": store.seed_developers,
                "repositories": len(store.repo_names),
                "organizations": ["acme-corp"],
                "divisions": ["Engineering"],
                "teams": _shuffled(set(store.teams), rng),
                "regions": _shuffled({p.region for p in people}, rng),
                "by_seniority": _counts([p.seniority for p in people]),
                "by_region": _counts([p.region for p in people]),
                "by_team": _counts([p.team for p in people]),
            },
            "external_sources": {
                "harvey": {
                    "enabled": True,
                    "models": ["gpt-4", "claude-3-sonnet", "claude-3-opus"],
                },
                "copilot": {"enabled": True, "total_licenses": 50, "active_users": 35},
                "qualtrics": {
                    "enabled": True,
                    "survey_id": "SV_aitools_q1_2026",
                    "response_count": 150,
                },
            },
            "server": {"port": port, "version": VERSION, "uptime": coarse_uptime(uptime_s)},
        }
    )


def parse_regenerate(body: bytes) -> dict[str, Any] | Resp:
    """The request as Go's `json.NewDecoder(r.Body).Decode(&req)` reads it (one value; anything after it is
    never read), or the upstream's 400 `Failed to parse request: <decoder error>`."""
    value = decode_first(body)
    if isinstance(value, DecodeError):
        return error(f"Failed to parse request: {value.message}", 400)
    # JSON null decodes into the request struct as nothing
    request: dict[str, Any] = value if isinstance(value, dict) else {}
    mode = request.get("mode") or "override"
    if mode != "override":
        # the upstream appends; the double has no append mode, and answering as if it did would lie
        return error(f'fake-cursor-sim models only mode "override", not {mode!r}', 501)
    return request


def regenerated(before: dict[str, Any], store: Store, duration: str) -> Resp:
    """The override report: what changed against the previous totals, the new totals, and the time taken
    (`duration`, as Go prints a millisecond-rounded `Duration`: `7ms`, `1.234s`)."""
    after = generation(store)
    kinds = ("commits", "prs", "reviews", "issues")
    return json_resp(
        {
            "status": "success",
            "mode": "override",
            "data_cleaned": True,
            **{f"{k}_added": after[f"total_{k}"] - before[f"total_{k}"] for k in kinds},
            **{f"total_{k}": after[f"total_{k}"] for k in kinds},
            "duration": duration,
        }
    )
