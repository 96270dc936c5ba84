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
import signal
import sys
import traceback
from collections.abc import Coroutine
from typing import Any, TypeVar

from etl_common.errors import ConfigError, EtlError
from etl_common.job_health import job_health_server
from etl_common.logs import configure_logging, one_line
from etl_common.urls import redact_text
from loader.progress import TerminalProgress
from loader.run import ExtractRequest, extract
from loader.settings import get_settings

log = logging.getLogger("loader")
T = TypeVar("T")


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
        if interactive:
            print(f"loader: {exc}", file=sys.stderr)
        else:
            configure_logging("loader")
            _log_error(exc)
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
        orphan_grace_s=settings.orphan_grace_s,
        staging_grace_s=settings.staging_grace_s,
    )
    progress = TerminalProgress(req.rate_limit_per_minute / 60) if interactive else None
    try:
        with job_health_server():
            result = asyncio.run(
                _until_signalled(
                    extract(
                        req, on_plan=progress.on_plan if progress else None, on_progress=progress
                    )
                )
            )
    except Interrupted as exc:
        if progress:
            progress.close()
            print(f"loader: {exc}", file=sys.stderr)
        else:
            log.error(str(exc), extra={"error_type": "Interrupted", "signal": exc.signal.name})
        return 128 + exc.signal.value
    except EtlError as exc:
        if progress:
            progress.close()
            print(
                f"loader: error: {one_line(redact_text(str(exc), req.source_url))}", file=sys.stderr
            )
        else:
            _log_error(exc, url=req.source_url)
        return 75 if exc.transient else 1
    except KeyboardInterrupt:
        if progress:
            progress.close()
            print("loader: interrupted; no manifest written", file=sys.stderr)
        else:
            log.error("interrupted; no manifest written", extra={"error_type": "KeyboardInterrupt"})
        return 130
    except (
        Exception
    ) as exc:  # a bug, not an EtlError: still one JSON line, same exit code as a crash
        if progress:
            progress.close()
            raise
        _log_error(exc, unexpected=True, url=req.source_url)
        return 1
    if progress:
        progress.close()
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


class Interrupted(Exception):
    """SIGINT or SIGTERM stopped the run before its manifest was written."""

    def __init__(self, sig: signal.Signals) -> None:
        super().__init__(f"interrupted by {sig.name}; no manifest written")
        self.signal = sig


async def _until_signalled(work: Coroutine[Any, Any, T]) -> T:
    """Run `work`; SIGINT or SIGTERM cancel it, so every `finally` (the staging directory's removal among
    them) runs before the job exits 130 or 143. The handlers run between event-loop steps, never inside
    the synchronous publish: a signal during publish lets the manifest land, and the run ends as it did."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await work
    except asyncio.CancelledError:
        if received:
            raise Interrupted(received[0]) from None
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _log_error(exc: BaseException, *, unexpected: bool = False, url: str = "") -> None:
    """The run's last word on stderr: one JSON line, severity ERROR, a one-line message (without the
    credentials of the upstream URL, if it carried any)."""
    message = one_line(redact_text(str(exc), url)) or type(exc).__name__
    if unexpected:
        message = f"unexpected {type(exc).__name__}: {message}"
    extra = {"error_type": type(exc).__name__}
    if unexpected:  # the traceback in the same line, scrubbed like the message
        trace = "".join(traceback.format_exception(exc)).rstrip()
        extra["exception"] = redact_text(trace, url)
    log.error(message, extra=extra)


if __name__ == "__main__":
    sys.exit(main())
