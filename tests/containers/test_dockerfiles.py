"""The Dockerfile and the compose file on paper (no engine needed): what the images promise their users,
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
from .dockerfile import DOCKERFILE, image_stage, preamble_and_stages

IMAGES = {  # target -> the module its entrypoint runs, and where that package lives
    "loader": ("loader", "services/loader"),
    "dbt-runner": ("dbt_runner", "services/dbt-runner"),
    "orchestrator": ("orchestrator", "services/orchestrator"),
    "fake-cursor-sim": ("fake_cursor_sim", "tools/fake-cursor-sim"),
}
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_one_dockerfile_has_a_build_stage_per_package_and_an_image_target_each() -> None:
    preamble, stages = preamble_and_stages()
    assert preamble == [("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")]
    assert stages["workspace"].base == stages["runtime"].base == "${BASE_IMAGE}"
    for target in IMAGES:
        assert stages[f"{target}-build"].base == "workspace"
        assert stages[target].base == "runtime"
    assert set(stages) == {"workspace", "runtime", *IMAGES, *(f"{t}-build" for t in IMAGES)}


@pytest.mark.parametrize("target", list(IMAGES))
def test_each_build_stage_installs_locked_dependencies_before_its_source(target: str) -> None:
    _, stages = preamble_and_stages()
    package = IMAGES[target][1].rsplit("/", 1)[1]
    build = stages[f"{target}-build"].steps
    syncs = [i for i, (op, arg) in enumerate(build) if op == "RUN" and "uv sync --frozen" in arg]
    sources = [i for i, (op, _) in enumerate(build) if op == "COPY"]
    assert len(syncs) == 2 and syncs[0] < min(sources) < syncs[1]
    assert all(f"--package {package} " in build[i][1] for i in syncs)
    assert "--no-install-workspace" in build[syncs[0]][1] and "--no-dev" in build[syncs[0]][1]
    assert "--no-editable" in build[syncs[1]][1]
    # the workspace stage copies only metadata: no source of ours before the locked dependencies
    workspace_copies = stages["workspace"].args("COPY")
    assert all("pyproject.toml" in arg or "uv.lock" in arg for arg in workspace_copies)


@pytest.mark.parametrize("target", list(IMAGES))
def test_each_image_runs_non_root_with_no_build_tools_and_a_probe(target: str) -> None:
    module, where = IMAGES[target]
    _, stages = preamble_and_stages()
    image = image_stage(target)
    # no build tools in an image: nothing installed, only copied from its own build stage
    for op, arg in image:
        if op == "RUN":
            assert not re.search(r"\b(pip|uv|apt-get|apk)\b", arg), arg
    assert f"--from={target}-build /opt/venv /opt/venv" in stages[target].args("COPY")
    assert [arg for op, arg in image if op == "USER"][-1] == "10001:10001"
    [entrypoint] = [json.loads(arg) for arg in stages[target].args("ENTRYPOINT")]
    assert entrypoint == ["python", "-m", module]
    assert (REPO / where / "src" / module / "__main__.py").is_file()
    healthcheck = [arg for op, arg in image if op == "HEALTHCHECK"][-1]  # the last one wins
    assert "CMD [" in healthcheck  # exec form
    env = " ".join(arg for op, arg in image if op in ("ENV", "ARG"))
    assert not re.search(r"(API_KEY|PASSWORD|SECRET|TOKEN)=", env)


def test_the_dbt_project_is_baked_into_the_dbt_runner_image_read_only() -> None:
    steps = image_stage("dbt-runner")
    assert ("COPY", "dbt /app/dbt") in steps
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "DBT_PROJECT_DIR=/app/dbt" in env and "DBT_RUNNER_WORK_DIR=/tmp/" in env
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {"dbt/target", "dbt/logs", ".env", ".venv", ".git"} <= set(ignored)


def test_compose_uses_the_images_the_makefile_builds_and_waits_on_health() -> None:
    services = COMPOSE["services"]
    makefile = (REPO / "Makefile").read_text()
    assert f"IMAGES := {' '.join(IMAGES)}" in makefile and "--target $$name" in makefile
    for name in ("loader", "dbt-runner", "orchestrator"):
        service = services[name]
        assert service["image"].endswith(f"/{name}:${{IMAGE_TAG:-latest}}")
        assert service["build"] == {
            "context": ".",
            "target": name,
            "args": service["build"]["args"],
        }
        assert service["read_only"] is True and service["healthcheck"]["test"][-1] == (
            "etl_common.healthcheck"
        )
    assert services["cursor-sim"]["build"]["target"] == "fake-cursor-sim"
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
    files = [DOCKERFILE, REPO / ".ci/fake-gcs-server.Dockerfile"]
    result = subprocess.run([str(hadolint), *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
