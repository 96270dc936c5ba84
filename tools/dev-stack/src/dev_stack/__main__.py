"""`python -m dev_stack pipeline` (`make pipeline`): the local stack, one run, a summary."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev_stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("pipeline", help="start what is missing, run the pipeline, print a summary")
    parser.parse_args(argv)
    from dev_stack.pipeline import main as pipeline_main

    return pipeline_main()


if __name__ == "__main__":
    sys.exit(main())
