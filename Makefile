# Every target runs under bash with -eu -o pipefail: a failing step fails the target.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
# uv must never fetch a Python build from outside the package registries.
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
MEMBER_PYPROJECTS := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)

.PHONY: help venv test test-fast lint bench pipeline lock clean

help: ## Show the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "} {printf "  %-12s %s\n", $$1, $$2}'

# The stamp is newer than the lock file and every pyproject.toml once .venv matches them, so an
# up-to-date environment costs nothing; uv itself is pinned in the lock's dev group.
$(VENV)/.synced: uv.lock pyproject.toml $(MEMBER_PYPROJECTS)
	@if [ ! -x $(UV) ]; then \
		echo "Creating $(VENV) with uv $(UV_VERSION)"; \
		$(PYTHON) -m venv $(VENV); \
		$(VENV)/bin/pip install --quiet "uv==$(UV_VERSION)"; \
	fi
	$(UV) sync --frozen --all-packages --python $(PY)
	@touch $@

venv: $(VENV)/.synced ## Create or refresh .venv from uv.lock

lock: ## Re-resolve uv.lock after a dependency change
	$(UV) lock

test: venv ## Run the whole test suite (starts the emulators it needs)
	$(PY) -m pytest

test-fast: venv ## Run the tests that start no emulator and take no long waits
	$(PY) -m pytest -m "not slow and not emulator"

lint: venv ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/etl-common/src services/loader/src services/dbt-runner/src services/orchestrator/src

bench: venv ## Benchmarks, each printed beside a baseline from the same run
	$(PY) bench/run_all.py

# Starts fake-gcs-server, the loader, dbt-runner and orchestrator services (and the cursor-sim double
# unless CURSOR_SIM_URL is set) on free loopback ports, POSTs /run, follows it and stops them all;
# with ORCHESTRATOR_URL set it only triggers and follows that running stack.
pipeline: venv ## Run the whole pipeline: local services on an embedded default, summary, DuckDB in data/
	$(PY) -m orchestrator pipeline

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) data
