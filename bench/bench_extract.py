"""Extraction benchmark: our request plan beside the naive pager, against the double, in the same run.

For each scale (developers x 90 days; `50/2` is 50 developers replicated from a 2-developer seed, the
upstream's own default deployment) it starts a double with the upstream's limit (100 requests/minute) and
measures the loader's wall time against the physical floor `(requests - 100) / (100/60 s)`, its 429s and
its completeness; then the naive pager's rows and request count (run against an unlimited double with the same
seed, so its rate-limited time is the same floor formula: waiting hours for it would prove nothing more).
With the limit off it also measures CPU cost (50 developers) and peak RSS (200 developers) of the real CLI.

    .venv/bin/python bench/bench_extract.py [--scales 2,50,50/2,200] [--skip-limited]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))  # bench/ is a folder of scripts, not a package

from naive_pager import naive_extract

from dev_stack.double import run_double
from etl_common.manifest import Manifest
from etl_common.pacing import TokenBucket
from loader.upstream import cursor_sim_client

KEY = "cursor-sim-dev-key"
LIMIT = 100


def floor_s(requests: int, limit: int = LIMIT) -> float:
    return max(0.0, (requests - limit) / (limit / 60))


def totals(url: str) -> dict[str, int]:
    gen = httpx.get(url + "/admin/stats", auth=(KEY, ""), timeout=10).json()["generation"]
    return {
        "commits": gen["total_commits"],
        "pull_requests": gen["total_prs"],
        "reviews": gen["total_reviews"],
    }


def run_cli(url: str, out: str, limit: float) -> tuple[float, Manifest, int]:
    """Run the real loader CLI; returns wall seconds, the manifest and the loader's own peak RSS in KiB
    (reported by the child itself: the doubles are children of this process too)."""
    t0 = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURED_CLI,
            "extract",
            "--url",
            url,
            "--output",
            out,
            "--rate-limit-per-minute",
            str(limit),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"loader failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    rss = json.loads(proc.stderr.strip().splitlines()[-1])["peak_rss_kib"]
    manifest = Manifest.parse(Path(proc.stdout.strip().splitlines()[-1]).read_bytes())
    return wall, manifest, rss


_MEASURED_CLI = """
import json, resource, sys
from loader.__main__ import main
code = main(sys.argv[1:])
print(json.dumps({"peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), file=sys.stderr)
sys.exit(code)
"""


async def run_naive(url: str) -> tuple[dict[str, int], int]:
    async with cursor_sim_client(
        url, KEY, pacer=TokenBucket(1e9, 1e9), max_connections=1
    ) as client:
        result = await naive_extract(client)
    return (
        {
            "commits": result.commits,
            "pull_requests": result.pull_requests,
            "reviews": result.reviews,
        },
        result.requests,
    )


def bench_scale(scale: str, limited: bool) -> dict:
    devs, _, seed_text = scale.partition("/")
    shape = {"developers": int(devs), "seed_developers": int(seed_text) if seed_text else None}
    seed = 100 + int(devs)
    row: dict = {"developers": scale}
    with tempfile.TemporaryDirectory() as tmp:
        if limited:
            with run_double(**shape, days=90, seed=seed, rate_limit_per_minute=LIMIT) as url:
                expected = totals(url)
                time.sleep(0.1)
                wall, manifest, _ = run_cli(url, tmp + "/limited", LIMIT)
            rows = {e: manifest.entities[e].rows for e in expected}
            row |= {
                "expected": expected,
                "ours_rows": rows,
                "ours_complete": rows == expected,
                "ours_requests": manifest.requests["sent"],
                "ours_estimated": manifest.requests["estimated"],
                "pr_mode": manifest.requests["pr_mode"],
                "ours_429": manifest.requests["throttled_429"],
                "ours_wall_s": round(wall, 1),
                "floor_s": round(floor_s(manifest.requests["sent"]), 1),
            }
        with run_double(**shape, days=90, seed=seed, rate_limit_per_minute=0) as url:
            expected = totals(url)
            wall_free, manifest_free, rss_kib = run_cli(url, tmp + "/free", 1e9)
            naive_rows, naive_requests = asyncio.run(run_naive(url))
        row |= {
            "expected": expected,
            "unlimited_wall_s": round(wall_free, 2),
            "unlimited_rss_mb": round(rss_kib / 1024, 1),
            "ours_requests_unlimited": manifest_free.requests["sent"],
            "naive_rows": naive_rows,
            "naive_requests": naive_requests,
            "naive_floor_s": round(floor_s(naive_requests), 1),
            "naive_lost": {e: expected[e] - naive_rows[e] for e in expected},
        }
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="2,50,50/2,200")
    parser.add_argument(
        "--skip-limited", action="store_true", help="only the unlimited measurements"
    )
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = [bench_scale(scale, limited=not args.skip_limited) for scale in args.scales.split(",")]
    print(
        "\nExtraction at the upstream's 100 requests/minute (ours) vs the naive pager (same data)"
    )
    print(
        f"{'devs':>5} {'PR plan':>13} {'requests':>9} {'planned':>8} {'429s':>5} {'wall s':>8} "
        f"{'floor s':>8} {'wall/floor':>10} "
        f"{'complete':>8} | {'naive req':>9} {'naive floor s':>13} {'naive/ours':>10} "
        f"{'naive lost PRs':>14} {'lost reviews':>12} {'lost commits':>12}"
    )
    for r in rows:
        ours_req = r.get("ours_requests", r["ours_requests_unlimited"])
        ratio = f"{r['ours_wall_s'] / r['floor_s']:.3f}" if r.get("floor_s") else "n/a"
        print(
            f"{r['developers']:>5} {r.get('pr_mode', '-'):>13} {ours_req:>9} "
            f"{r.get('ours_estimated', '-'):>8} {r.get('ours_429', '-'):>5} "
            f"{r.get('ours_wall_s', '-'):>8} {r.get('floor_s', '-'):>8} {ratio:>10} "
            f"{r.get('ours_complete', '-')!s:>8} | {r['naive_requests']:>9} "
            f"{r['naive_floor_s']:>13} {r['naive_requests'] / ours_req:>10.1f} "
            f"{r['naive_lost']['pull_requests']:>14} {r['naive_lost']['reviews']:>12} "
            f"{r['naive_lost']['commits']:>12}"
        )
    print(
        "\nWith the rate limit off (CPU cost of the real CLI, including the double's serving time)"
    )
    print(f"{'devs':>5} {'commits':>8} {'PRs':>7} {'reviews':>8} {'wall s':>7} {'peak RSS MB':>11}")
    for r in rows:
        e = r["expected"]
        print(
            f"{r['developers']:>5} {e['commits']:>8} {e['pull_requests']:>7} {e['reviews']:>8} "
            f"{r['unlimited_wall_s']:>7} {r['unlimited_rss_mb']:>11}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
