"""Job entry point: `python -m loader extract --url URL --output DEST` runs one load and exits.

Exit codes: 0 done (the last stdout line is the manifest's location), 1 terminal failure, 2 bad usage or
configuration, 75 transient failure (worth retrying later). The API key comes from CURSOR_SIM_API_KEY only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from etl_common.errors import ConfigError, EtlError
from etl_common.job_health import job_health_server
from etl_common.logs import configure_logging
from loader.progress import TerminalProgress
from loader.run import ExtractRequest, extract
from loader.settings import get_settings

log = logging.getLogger("loader")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser(
        "extract", help="extract everything from cursor-sim into Parquet + manifest"
    )
    ex.add_argument("--url", help="cursor-sim base URL (default: CURSOR_SIM_URL)")
    ex.add_argument(
        "--output", help="local directory or gs://bucket/prefix (default: LOADER_OUTPUT)"
    )
    ex.add_argument(
        "--rate-limit-per-minute",
        type=float,
        help="the upstream's global request limit (default 100)",
    )
    ex.add_argument("--concurrency", type=int, help="requests in flight at once (default 6)")
    sub.add_parser("serve", help="run the HTTP service (PORT, default 8080)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    interactive = sys.stderr.isatty()
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"loader: {exc}", file=sys.stderr)
        return 2
    configure_logging("loader", "WARNING" if interactive else settings.log_level)
    if args.command == "serve":
        from loader.app import serve

        serve()
        return 0
    req = ExtractRequest(
        source_url=args.url or settings.source_url,
        api_key=settings.api_key.get_secret_value(),
        output=args.output or settings.output,
        rate_limit_per_minute=args.rate_limit_per_minute or settings.rate_limit_per_minute,
        concurrency=args.concurrency or settings.concurrency,
        timeout_s=settings.timeout_s,
        max_attempts=settings.max_attempts,
        row_group_rows=settings.row_group_rows,
    )
    progress = TerminalProgress(req.rate_limit_per_minute / 60) if interactive else None
    try:
        with job_health_server():
            result = asyncio.run(
                extract(req, on_plan=progress.on_plan if progress else None, on_progress=progress)
            )
    except EtlError as exc:
        if progress:
            progress.close()
            print(f"loader: error: {exc}", file=sys.stderr)
        else:
            log.error(str(exc), extra={"error_type": type(exc).__name__})
        return 75 if exc.transient else 1
    except KeyboardInterrupt:
        print("loader: interrupted; no manifest written", file=sys.stderr)
        return 130
    if progress:
        progress.close()
        rows = ", ".join(f"{e} {o.rows:,}" for e, o in result.manifest.entities.items())
        print(
            f"extracted {rows} in {result.manifest.requests['sent']} requests, "
            f"{result.manifest.timings_s['total']:.1f}s",
            file=sys.stderr,
        )
    print(result.manifest_uri, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
