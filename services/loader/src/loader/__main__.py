"""Job entry point: `python -m loader extract --url URL --output DEST` runs one load and exits.

stdout carries one line, the manifest's location (a path or gs:// URI), and only on success; on failure it
is empty. Everything else goes to stderr: JSON log lines when stderr is not a terminal, the last of them
the error (severity ERROR, a one-line message); on a terminal a progress line and a plain error line.
A load whose drift checks found only informational losses still exits 0, its last log line (WARNING)
saying "succeeded with warnings: …". Exit codes: 0 done, 1 terminal failure, 2 bad usage or configuration,
75 transient failure (worth retrying later), 130 interrupted (SIGINT), 143 terminated (SIGTERM); on every
one of them the local staging directory is gone. The API key comes from CURSOR_SIM_API_KEY only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from etl_common.errors import ConfigError
from etl_common.job_cli import JobReport, until_signalled
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
    report = JobReport(log, "loader", terminal=interactive, unfinished="no manifest written")
    configure_logging("loader")
    try:
        settings = get_settings()
    except ConfigError as exc:
        return report.failed(exc)
    configure_logging("loader", "WARNING" if interactive else settings.log_level)
    if args.command == "serve":
        from etl_common.service import serve
        from loader.app import create_app

        serve(create_app)
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
        orphan_grace_s=settings.orphan_grace_s,
        staging_grace_s=settings.staging_grace_s,
    )
    report.secret_url = req.source_url
    progress = TerminalProgress(req.rate_limit_per_minute / 60) if interactive else None
    return report.run(lambda: _extract(req, progress))


def _extract(req: ExtractRequest, progress: TerminalProgress | None) -> int:
    """One load; on success its summary on stderr and the manifest's location on stdout."""
    try:
        with job_health_server():
            on_plan = progress.on_plan if progress else None
            work = extract(req, on_plan=on_plan, on_progress=progress)
            result = asyncio.run(until_signalled(work, "no manifest written"))
    finally:
        if progress:
            progress.close()
    if progress:
        rows = ", ".join(f"{e} {o.rows:,}" for e, o in result.manifest.entities.items())
        print(
            f"extracted {rows} in {result.manifest.requests['sent']} requests, "
            f"{result.manifest.timings_s['total']:.1f}s",
            file=sys.stderr,
        )
        if result.warnings:
            print(f"loader: {result.outcome}", file=sys.stderr)
    elif result.warnings:
        log.warning(result.outcome, extra={"warnings": result.warnings})
    print(result.manifest_uri, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
