"""`python -m fake_cursor_sim`: generate once, serve with uvicorn, print one JSON line when ready."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime

import uvicorn

from fake_cursor_sim.app import DEFAULT_API_KEY, create_app
from fake_cursor_sim.data import generate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="fake_cursor_sim", description=__doc__)
    # HOST and PORT as every service here reads them (the container image sets HOST=0.0.0.0)
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    # the upstream reads CURSOR_SIM_DEVELOPERS when -developers is absent (its compose sets 50)
    p.add_argument(
        "--developers", type=int, default=int(os.environ.get("CURSOR_SIM_DEVELOPERS", "2"))
    )
    p.add_argument(
        "--seed-developers",
        type=int,
        default=None,
        help="developers in the seed file (default: all); the rest are replicated clones, as the "
        "upstream's default deployment runs 50 developers from a 2-developer seed",
    )
    p.add_argument(
        "--tz",
        default=None,
        help="the server's time zone (IANA name; default UTC): timestamps carry its offsets, as the "
        "upstream's do when its host has TZ set",
    )
    p.add_argument(
        "--uptime-offset-s",
        type=float,
        default=0.0,
        help="test knob: report uptime as if the server had started this many seconds earlier",
    )
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--rate-limit-per-minute",
        type=int,
        default=100,
        help="the global token bucket (0 disables it)",
    )
    p.add_argument("--api-key", default=DEFAULT_API_KEY)
    p.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="pin the generation instant (RFC 3339) for fully reproducible data",
    )
    return p.parse_args(argv)


async def serve(args: argparse.Namespace, t0: float) -> None:
    dataset = generate(
        args.developers,
        args.days,
        args.seed,
        args.now,
        seed_developers=args.seed_developers,
        tz=args.tz,
    )
    counts = {
        "commits": len(dataset.commits),
        "pull_requests": len(dataset.pull_requests),
        "reviews": len(dataset.reviews),
        "repos": len(dataset.repos),
    }
    app = create_app(
        dataset,
        rate_limit_per_minute=args.rate_limit_per_minute,
        api_key=args.api_key,
        uptime_offset_s=args.uptime_offset_s,
    )
    del dataset  # the app keeps only its compiled bytes and indexes
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,  # the app writes `Date` itself, canonical-cased as Go does
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(
            json.dumps(
                {
                    "ready": True,
                    "url": f"http://{args.host}:{args.port}",
                    "startup_s": round(time.perf_counter() - t0, 3),
                    **counts,
                }
            ),
            flush=True,
        )
    await task


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    args = parse_args(argv)
    asyncio.run(serve(args, t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
