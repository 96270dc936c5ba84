#!/usr/bin/env bash
# Thin wrapper with the behaviour of `make pipeline`: from the repository root, refresh .venv from
# uv.lock, then start the local stack (or use ORCHESTRATOR_URL), run the pipeline once, print a summary
# and exit non-zero when any step failed. exec keeps Ctrl-C and the exit code going straight through.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
make --no-print-directory venv
exec .venv/bin/python -m dev_stack pipeline
