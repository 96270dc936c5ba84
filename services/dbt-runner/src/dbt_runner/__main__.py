"""Job entry point: `python -m dbt_runner run --manifest URI [--target dev|prod] [--force]`.

`python -m dbt_runner parse [--target dev|prod]` saves dbt's parse where builds of this project version look
for it (the image runs it at build time, see dbt_state). `python -m dbt_runner summary` prints what the
DuckDB warehouse holds (exit 1 when a mart is missing or empty); `python -m dbt_runner serve` runs the HTTP
service.

Verifies the manifest and its files, loads the raw tables, runs `dbt build`, writes the result beside the
manifest (`<root>/build-results/<load_id>/<attempt>.json`, and `latest.json` beside it) and prints it
as one JSON line on stdout, its only output there (logs, dbt's included, are JSON lines on stderr).
Exit codes are etl_common.job_cli's: 0 only when the load and every model and test passed (or the
manifest was already loaded and built); 75 when a retry may pass (the warehouse is busy with another
build, Snowflake unreachable); 1 otherwise; 2 for bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from dbt_runner.run import BuildResult, run_manifest
from dbt_runner.settings import RunnerSettings, get_settings
from etl_common.errors import ConfigError
from etl_common.job_cli import JobReport
from etl_common.job_health import job_health_server
from etl_common.logs import configure_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dbt_runner", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="load a manifest into raw and run dbt build")
    run.add_argument("--manifest", required=True, help="local path or gs:// URI of a manifest")
    run.add_argument("--target", choices=["dev", "prod"], help="default: DBT_RUNNER_TARGET or dev")
    run.add_argument(
        "--force",
        action="store_true",
        help="load even if this manifest is already loaded or older than the loaded one",
    )
    run.add_argument(
        "--with-unit-tests",
        action="store_true",
        help="also run dbt's unit tests (default: DBT_RUNNER_UNIT_TESTS or off; make test runs them)",
    )
    prepare = sub.add_parser("parse", help="parse the dbt project ahead of builds (image build)")
    prepare.add_argument("--target", choices=["dev", "prod"], help="default: DBT_RUNNER_TARGET")
    sub.add_parser("serve", help="run the HTTP service (PORT, default 8080)")
    sub.add_parser("summary", help="the last load and row counts of the DuckDB warehouse, as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report = JobReport(logging.getLogger("dbt_runner"), "dbt_runner", terminal=False)
    configure_logging("dbt-runner")
    try:
        settings = get_settings()
        settings.dbt_project()
    except ConfigError as exc:  # one JSON line on stderr, like every other log line of the job
        return report.failed(exc)
    configure_logging("dbt-runner", settings.log_level)
    if args.command == "serve":
        from dbt_runner.app import create_app
        from etl_common.service import serve

        serve(create_app)
        return 0
    if args.command == "summary":
        return _summary(settings)
    if args.command == "parse":
        return _parse(args, settings)
    if args.with_unit_tests:
        settings = settings.model_copy(update={"unit_tests": True})
    return report.run(lambda: _run(args, settings))


def _parse(args: argparse.Namespace, settings: RunnerSettings) -> int:
    from dbt_runner.run import prepare

    result = prepare(settings, args.target or settings.target)
    print(result.model_dump_json(exclude={"nodes"}), flush=True)
    return 0 if result.success else 1


def _summary(settings: RunnerSettings) -> int:
    from dbt_runner.summary import warehouse_summary

    summary = warehouse_summary(settings.duckdb_path)
    print(json.dumps(summary, indent=2), flush=True)
    for problem in summary["problems"]:
        print(f"dbt_runner: {problem}", file=sys.stderr)
    return 1 if summary["problems"] else 0


def _run(args: argparse.Namespace, settings: RunnerSettings) -> BuildResult:
    """One build; its result (0 ok, 75 transient, 1 failed) as the one line on stdout."""
    with job_health_server():
        result = run_manifest(args.manifest, settings, target=args.target, force=args.force)
    print(result.model_dump_json(), flush=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
