"""The Dockerfiles and the compose file on paper (no engine needed): what the images promise their users,
checked against the code they package, plus hadolint and the real compose binary's `config -q`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..service_harness import REPO

DOCKERFILES = {
    "loader": ("services/loader/Dockerfile", "loader"),
    "dbt-runner": ("services/dbt-runner/Dockerfile", "dbt_runner"),
    "orchestrator": ("services/orchestrator/Dockerfile", "orchestrator"),
    "fake-cursor-sim": ("tools/fake-cursor-sim/Dockerfile", "fake_cursor_sim"),
}
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _instructions(path: str) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", (REPO / path).read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


@pytest.mark.parametrize("name", list(DOCKERFILES))
def test_dockerfile_builds_in_two_stages_and_runs_non_root(name: str) -> None:
    path, module = DOCKERFILES[name]
    steps = _instructions(path)
    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")
    froms = [arg for op, arg in steps if op == "FROM"]
    assert froms == ["${BASE_IMAGE} AS build", "${BASE_IMAGE} AS runtime"]
    runtime = steps[[i for i, (op, _) in enumerate(steps) if op == "FROM"][1] :]
    build = steps[: len(steps) - len(runtime)]
    # locked dependencies are installed before any of our source is copied
    syncs = [i for i, (op, arg) in enumerate(build) if op == "RUN" and "uv sync --frozen" in arg]
    sources = [i for i, (op, arg) in enumerate(build) if op == "COPY" and "pyproject" not in arg]
    assert len(syncs) == 2 and syncs[0] < min(sources) < syncs[1]
    assert "--no-install-workspace" in build[syncs[0]][1] and "--no-dev" in build[syncs[0]][1]
    # no build tools in the runtime stage: nothing installed there, only copied from the build stage
    for op, arg in runtime:
        if op == "RUN":
            assert not re.search(r"\b(pip|uv|apt-get|apk)\b", arg), arg
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime
    assert ("USER", "10001:10001") in runtime
    [entrypoint] = [json.loads(arg) for op, arg in runtime if op == "ENTRYPOINT"]
    assert entrypoint == ["python", "-m", module]
    assert (REPO / Path(path).parent / "src" / module / "__main__.py").is_file()
    [healthcheck] = [arg for op, arg in runtime if op == "HEALTHCHECK"]
    assert "CMD [" in healthcheck  # exec form
    env = " ".join(arg for op, arg in steps if op in ("ENV", "ARG"))
    assert not re.search(r"(API_KEY|PASSWORD|SECRET|TOKEN)=", env)


def test_the_dbt_project_is_baked_into_the_dbt_runner_image_read_only() -> None:
    steps = _instructions(DOCKERFILES["dbt-runner"][0])
    assert ("COPY", "dbt /app/dbt") in steps
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "DBT_PROJECT_DIR=/app/dbt" in env and "DBT_RUNNER_WORK_DIR=/tmp/" in env
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {"dbt/target", "dbt/logs", ".env", ".venv", ".git"} <= set(ignored)


def test_compose_uses_the_images_the_makefile_builds_and_waits_on_health() -> None:
    services = COMPOSE["services"]
    makefile = (REPO / "Makefile").read_text()
    for name, (path, _) in DOCKERFILES.items():
        assert f"{name}={Path(path).parent}" in makefile
    for name in ("loader", "dbt-runner", "orchestrator"):
        service = services[name]
        assert service["image"].endswith(f"/{name}:${{IMAGE_TAG:-latest}}")
        assert service["build"]["dockerfile"] == DOCKERFILES[name][0]
        assert service["read_only"] is True and service["healthcheck"]["test"][-1] == (
            "etl_common.healthcheck"
        )
    assert services["cursor-sim"]["build"]["dockerfile"] == DOCKERFILES["fake-cursor-sim"][0]
    assert services["gcs"]["image"] == "fsouza/fake-gcs-server:1.54.0"  # pinned
    for dependant, needs in (("loader", "gcs"), ("dbt-runner", "gcs"), ("orchestrator", "loader")):
        assert services[dependant]["depends_on"][needs]["condition"] == "service_healthy"
    assert (
        services["dbt-runner"]["volumes"] == ["warehouse:/data"]
        and "warehouse" in COMPOSE["volumes"]
    )
    assert services["pubsub"]["profiles"] == ["events"]


def _compose_binary() -> Path:
    import compose

    return Path(compose.__file__).parent / "docker-compose"


def test_compose_config_is_valid_and_demands_the_api_key() -> None:
    binary = _compose_binary()
    base = {k: v for k, v in os.environ.items() if k != "CURSOR_SIM_API_KEY"}
    argv = [str(binary), "-f", str(REPO / "docker-compose.yml"), "--env-file", os.devnull]
    ok = subprocess.run(
        [*argv, "config", "-q"],
        env={**base, "CURSOR_SIM_API_KEY": "k"},
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run([*argv, "config", "-q"], env=base, capture_output=True, text=True)
    assert missing.returncode != 0 and "CURSOR_SIM_API_KEY" in missing.stderr


def test_hadolint_finds_nothing_in_any_dockerfile() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    files = [REPO / path for path, _ in DOCKERFILES.values()] + [
        REPO / ".ci/fake-gcs-server.Dockerfile"
    ]
    result = subprocess.run([str(hadolint), *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
