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

.PHONY: help venv test test-fast lint lint-containers bench pipeline images up down compose-smoke lock clean

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

# mypy --strict (root pyproject.toml) on every member's source, the tools/ scripts and the sqlfluff stand-ins.
MYPY_PATHS := $(wildcard libs/*/src services/*/src tools/*/src) $(wildcard tools/*.py) dbt/sqlfluff_libs

lint: venv ## ruff check, ruff format --check, mypy (strict), sqlfluff on the dbt SQL
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(MYPY_PATHS)
	$(VENV)/bin/sqlfluff lint dbt

lint-containers: venv ## hadolint on every Dockerfile; the real compose binary's `config -q`
	$(VENV)/bin/hadolint Dockerfile .ci/fake-gcs-server.Dockerfile
	CURSOR_SIM_API_KEY=lint $(PY) -c 'import compose, os, pathlib, sys; \
		binary = pathlib.Path(compose.__file__).parent / "docker-compose"; \
		os.execv(binary, [str(binary), "-f", "docker-compose.yml", "config", "-q"])'
	@echo "Dockerfiles and docker-compose.yml: no errors"

bench: venv ## Benchmarks, each printed beside a baseline from the same run
	$(PY) bench/run_all.py

# Starts fake-gcs-server, the loader, dbt-runner and orchestrator services (and the cursor-sim double
# unless CURSOR_SIM_URL is set) on free loopback ports, POSTs /run, follows it and stops them all;
# with ORCHESTRATOR_URL set it only triggers and follows that running stack.
pipeline: venv ## Run the whole pipeline: local services on an embedded default, summary, DuckDB in data/
	$(PY) -m dev_stack pipeline

# Images: docker by default, podman where it is the engine (podman needs the docker format for HEALTHCHECK).
# BASE_IMAGE defaults to the official slim Python; IMAGE_BUILD_FLAGS passes extra build flags (CI adds
# host networking and the CA bundle for its proxy).
CONTAINER_ENGINE ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || echo docker)
BASE_IMAGE ?= python:3.11-slim-bookworm
IMAGE_PREFIX ?= cursor-analytics
IMAGE_TAG ?= latest
IMAGE_BUILD_FLAGS ?=
# One Dockerfile at the root, one target per image (each buildable alone: `--target NAME`).
IMAGES := loader dbt-runner orchestrator fake-cursor-sim
FORMAT_FLAG := $(if $(filter podman,$(notdir $(CONTAINER_ENGINE))),--format docker,)

images: ## Build the four images (CONTAINER_ENGINE, BASE_IMAGE, IMAGE_PREFIX, IMAGE_TAG)
	@for name in $(IMAGES); do \
		echo "building $(IMAGE_PREFIX)/$$name:$(IMAGE_TAG) (Dockerfile, target $$name)"; \
		$(CONTAINER_ENGINE) build $(FORMAT_FLAG) $(IMAGE_BUILD_FLAGS) --build-arg BASE_IMAGE=$(BASE_IMAGE) \
			--target $$name -t $(IMAGE_PREFIX)/$$name:$(IMAGE_TAG) . || exit 1; \
	done

up: venv ## Start the compose stack (.env from .env.example if missing) and wait until it is healthy
	CONTAINER_ENGINE=$(CONTAINER_ENGINE) $(PY) tools/compose_stack.py up

down: venv ## Stop the compose stack (the warehouse volume is kept)
	CONTAINER_ENGINE=$(CONTAINER_ENGINE) $(PY) tools/compose_stack.py down

compose-smoke: venv ## Throwaway compose stack: healthy, one pipeline run, marts checked, torn down
	CONTAINER_ENGINE=$(CONTAINER_ENGINE) $(PY) tools/compose_stack.py smoke

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) data
