"""`python -m orchestrator serve`: the service (`make pipeline` is `python -m dev_stack pipeline`)."""

from __future__ import annotations

import argparse
import sys

from etl_common.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the HTTP API (HOST, PORT, ORCHESTRATOR_*)")
    parser.parse_args(argv)
    from etl_common.service import serve
    from orchestrator.app import create_app
    from orchestrator.settings import get_settings

    configure_logging("orchestrator", get_settings().log_level)
    serve(create_app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
