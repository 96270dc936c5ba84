# syntax=docker/dockerfile:1
# Every image of the repository, one target each, from one build context (the repository root, where the uv
# workspace and its lock live):
#   docker build --target loader -t cursor-analytics/loader .
# Targets: loader, dbt-runner, orchestrator (the three services) and fake-cursor-sim (the local stack's
# stand-in for the upstream, never deployed). A target builds only the stages it needs.
#
# Each service image serves PORT (8080) by default and runs one job when given its job command
# (`extract`, `run --manifest gs://...`), exiting 0 (done), 1 (terminal), 2 (configuration) or 75 (a retry may
# pass). Secrets (CURSOR_SIM_API_KEY, SNOWFLAKE_*, DBT_ENV_SECRET_SNOWFLAKE_PASSWORD) come from the runtime
# environment only.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# --- the workspace: uv and every member's metadata, shared by all build stages ---
FROM ${BASE_IMAGE} AS workspace
ARG UV_VERSION=0.13.8
# The build reaches PyPI only; the system CA bundle also covers a TLS-inspecting proxy mounted over it.
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs/etl-common/pyproject.toml libs/etl-common/
COPY services/loader/pyproject.toml services/loader/
COPY services/dbt-runner/pyproject.toml services/dbt-runner/
COPY services/orchestrator/pyproject.toml services/orchestrator/
COPY tools/fake-cursor-sim/pyproject.toml tools/fake-cursor-sim/
COPY tools/dev-stack/pyproject.toml tools/dev-stack/

# --- one build stage per package: locked third-party dependencies first (that layer changes only with
# uv.lock or a pyproject.toml), then our code, installed as wheels (the runtime needs no source tree) ---
FROM workspace AS loader-build
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --package loader --no-install-workspace
COPY libs/etl-common libs/etl-common
COPY services/loader services/loader
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --package loader --no-editable

FROM workspace AS dbt-runner-build
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --package dbt-runner --no-install-workspace
COPY libs/etl-common libs/etl-common
COPY services/dbt-runner services/dbt-runner
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --package dbt-runner --no-editable

FROM workspace AS orchestrator-build
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --package orchestrator --no-install-workspace
COPY libs/etl-common libs/etl-common
COPY services/orchestrator services/orchestrator
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --package orchestrator --no-editable

FROM workspace AS fake-cursor-sim-build
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --package fake-cursor-sim --no-install-workspace
COPY tools/fake-cursor-sim tools/fake-cursor-sim
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --package fake-cursor-sim --no-editable

# --- the runtime every image shares: no build tools, a non-root user, the probe ---
FROM ${BASE_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /tmp --no-create-home --shell /usr/sbin/nologin app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /tmp
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-m", "etl_common.healthcheck"]

# --- the images ---
FROM runtime AS loader
COPY --from=loader-build /opt/venv /opt/venv
USER 10001:10001
ENTRYPOINT ["python", "-m", "loader"]
CMD ["serve"]

# The dbt project is baked in at /app/dbt (read-only; no `dbt deps`, ever), parsed once here for the dev
# target (/app/dbt-state, read-only; a build starts from it, see dbt_runner/dbt_state.py). dbt's target/ and
# logs/ go to /tmp/dbt-runner; the DuckDB file (dev target) to /data, a volume.
FROM runtime AS dbt-runner
COPY --from=dbt-runner-build /opt/venv /opt/venv
COPY dbt /app/dbt
ENV DBT_PROJECT_DIR=/app/dbt \
    DBT_RUNNER_WORK_DIR=/tmp/dbt-runner \
    DBT_RUNNER_SHIPPED_STATE=/app/dbt-state/state \
    DUCKDB_PATH=/data/warehouse.duckdb \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
# A fresh named volume at /data copies this ownership.
RUN mkdir -p /data && chown 10001:10001 /data \
    && DBT_RUNNER_WORK_DIR=/app/dbt-state python -m dbt_runner parse --target dev > /dev/null \
    && rm -rf /app/dbt-state/logs
USER 10001:10001
ENTRYPOINT ["python", "-m", "dbt_runner"]
CMD ["serve"]

# POST /run, GET /runs, storage events on `/` and `/pubsub/push`.
FROM runtime AS orchestrator
COPY --from=orchestrator-build /opt/venv /opt/venv
USER 10001:10001
ENTRYPOINT ["python", "-m", "orchestrator"]
CMD ["serve"]

# Arguments are the double's own (`--developers`, `--days`, `--seed`, `--rate-limit-per-minute`). Its probe
# uses `/_double/stats`, which (unlike the upstream's /health) is exempt from the global rate limit, so
# probing spends none of the pipeline's requests.
FROM runtime AS fake-cursor-sim
COPY --from=fake-cursor-sim-build /opt/venv /opt/venv
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/_double/stats', timeout=2)"]
ENTRYPOINT ["python", "-m", "fake_cursor_sim"]
CMD ["--developers", "2", "--days", "90", "--seed", "42"]
