"""`python -m orchestrator pipeline`: the local end-to-end run behind `make pipeline`.

Environment: CURSOR_SIM_URL (else the double is started), PIPELINE_OUTPUT (else a fake-gcs-server bucket),
PIPELINE_DEVELOPERS (default 2), DUCKDB_PATH (default data/warehouse.duckdb).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from etl_common.logs import configure_logging
from orchestrator.local import PipelineOptions, run_pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("pipeline", help="run extract -> raw load -> dbt build locally")
    args = parser.parse_args(argv)
    configure_logging("orchestrator", os.environ.get("LOG_LEVEL", "WARNING"))
    if args.command == "pipeline":
        opts = PipelineOptions(
            developers=int(os.environ.get("PIPELINE_DEVELOPERS", "2")),
            duckdb_path=Path(os.environ.get("DUCKDB_PATH", "data/warehouse.duckdb")),
        )
        try:
            return run_pipeline(opts)
        except KeyboardInterrupt:
            print("interrupted; everything started was stopped", file=sys.stderr)
            return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
