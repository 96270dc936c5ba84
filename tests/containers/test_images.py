"""The four images as their users run them: services that become healthy as a non-root user on a read-only
root filesystem, the loader and the dbt-runner as one-shot jobs against fake-gcs-server, the dbt-runner
against the Snowflake emulator. Time to healthy is printed, not asserted (bench/bench_containers.py)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev_stack.double import run_double
from dev_stack.gcs_emulator import run_fake_gcs
from dev_stack.processes import free_port
from etl_common.manifest import Manifest
from etl_common.storage import open_store

from ..dbt.dbt_harness import fakesnow_server
from ..snowflake.harness import sf_env
from .engine import ENGINE, image, inspect, require_images, run_job, service

pytestmark = [pytest.mark.containers, pytest.mark.slow]
BUCKET = "jobs-bucket"
API_KEY = "cursor-sim-dev-key"
HEALTH = {
    "loader": "/healthz",
    "dbt-runner": "/healthz",
    "orchestrator": "/healthz",
    "fake-cursor-sim": "/_double/stats",
}


@pytest.fixture(scope="module", autouse=True)
def _images() -> None:
    require_images()


@pytest.mark.parametrize("name", list(HEALTH))
def test_service_image_is_healthy_non_root_on_read_only_root(name: str) -> None:
    assert inspect(image(name), "{{.Config.User}}", "image") == "10001:10001"
    assert "etl_common.healthcheck" in inspect(image(name), "{{.Config.Healthcheck}}", "image") or (
        name == "fake-cursor-sim"
        and "/_double/stats" in inspect(image(name), "{{.Config.Healthcheck}}", "image")
    )
    assert inspect(image(name), "{{.Config.Entrypoint}}", "image").startswith("[python -m ")
    with service(name, free_port(), HEALTH[name]) as (cid, seconds):
        uid = subprocess.run([ENGINE, "exec", cid, "id", "-u"], capture_output=True, text=True)
        assert uid.stdout.strip() == "10001"
        # the image's own HEALTHCHECK command, run on demand (podman without systemd runs no timer)
        if ENGINE == "podman":
            check = subprocess.run(
                [ENGINE, "healthcheck", "run", cid], capture_output=True, text=True
            )
            assert check.returncode == 0, check.stdout + check.stderr
        # nothing outside /tmp is writable
        write = subprocess.run(
            [ENGINE, "exec", cid, "python", "-c", "open('/opt/venv/x', 'w')"], capture_output=True
        )
        assert write.returncode != 0
        print(f"\nCONTAINER {name}: healthy {seconds:.2f}s after `{ENGINE} run`, uid 10001")


MODULES = {
    "loader": "loader",
    "dbt-runner": "dbt_runner",
    "orchestrator": "orchestrator",
    "fake-cursor-sim": "fake_cursor_sim",
}
IMPORT_ALL = (
    "import importlib, pkgutil, sys; pkg = importlib.import_module(sys.argv[1]); "
    "[importlib.import_module(f'{pkg.__name__}.{m.name}') for m in pkgutil.iter_modules(pkg.__path__)"
    " if m.name != '__main__']; print(sorted(sys.modules).count('pyarrow'))"
)


@pytest.mark.parametrize("name", list(MODULES))
def test_every_module_of_the_package_imports_in_its_image(name: str) -> None:
    """Each image carries exactly its package's dependencies (the orchestrator's has no pyarrow): a
    module that needs something the image lacks fails here rather than on its first request. No
    package carries a launcher for tests any more: those live in dev_stack, which no image installs."""
    proc = subprocess.run(
        [ENGINE, "run", "--rm", "--entrypoint", "python", image(name), "-c", IMPORT_ALL, MODULES[name]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == ("1" if name in ("loader", "dbt-runner") else "0")


@pytest.fixture(scope="module")
def extracted() -> Iterator[tuple[str, Manifest, str]]:
    """The loader image as a job: extract the double (2 developers) into a fake-gcs-server bucket."""
    with run_fake_gcs(buckets=(BUCKET,)) as gcs, run_double(developers=2) as double:
        root = f"gs://{BUCKET}/raw-{secrets.token_hex(4)}"
        job = run_job(
            "loader",
            ["extract", "--output", root],
            env={
                "CURSOR_SIM_URL": double,
                "CURSOR_SIM_API_KEY": API_KEY,
                "STORAGE_EMULATOR_HOST": gcs,
                "LOADER_RATE_LIMIT_PER_MINUTE": "6000",
            },
        )
        assert job.returncode == 0, job.stderr[-3000:]
        manifest_uri = job.stdout.strip().splitlines()[-1]
        assert manifest_uri.startswith(f"{root}/manifests/")
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = gcs
        try:
            store = open_store(root)
            manifest = Manifest.model_validate_json(
                store.get_bytes(manifest_uri.removeprefix(root + "/"))
            )
            yield manifest_uri, manifest, gcs
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous


def test_loader_job_container_extracts_into_the_bucket(
    extracted: tuple[str, Manifest, str],
) -> None:
    _, manifest, _ = extracted
    assert manifest.entities["commits"].rows > 0
    assert manifest.entities["pull_requests"].rows > 0
    assert manifest.entities["reviews"].rows > 0
    assert manifest.entities["repos"].rows == 2
    print(
        f"\nLOADER JOB: {manifest.load_id} "
        + json.dumps({e: o.rows for e, o in manifest.entities.items()})
    )


def test_dbt_runner_job_container_builds_from_that_manifest(
    extracted: tuple[str, Manifest, str], tmp_path: Path
) -> None:
    manifest_uri, manifest, gcs = extracted
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)  # the image's user (10001) writes the DuckDB file here
    env = {
        "STORAGE_EMULATOR_HOST": gcs,
        "DBT_RUNNER_MANIFEST_ROOT": manifest_uri.rsplit("/manifests/", 1)[0],
    }
    volume = [f"{data}:/data"]
    job = run_job("dbt-runner", ["run", "--manifest", manifest_uri], env=env, volumes=volume)
    assert job.returncode == 0, (job.stdout + job.stderr)[-4000:]
    result = json.loads(job.stdout.strip().splitlines()[-1])
    assert result["state"] == "succeeded" and result["raw_load"]["status"] == "loaded"
    summary = run_job("dbt-runner", ["summary"], volumes=[f"{data}:/data:ro"])
    assert summary.returncode == 0, summary.stderr
    report = json.loads(summary.stdout)
    assert report["last_load"]["load_id"] == manifest.load_id
    for entity, outcome in manifest.entities.items():
        assert report["rows"][f"raw.{entity}"] == outcome.rows
    again = run_job("dbt-runner", ["run", "--manifest", manifest_uri], env=env, volumes=volume)
    assert again.returncode == 0
    assert json.loads(again.stdout.strip().splitlines()[-1])["state"] == "already_loaded"
    print(f"\nDBT-RUNNER JOB: {json.dumps(report['rows'])}")


@pytest.mark.emulator
def test_dbt_runner_job_container_runs_against_snowflake(
    extracted: tuple[str, Manifest, str], tmp_path: Path
) -> None:
    manifest_uri, manifest, gcs = extracted
    with fakesnow_server(tmp_path / "fakesnow.log") as port:
        env = {
            **sf_env(port, "container_db"),
            "SNOWFLAKE_FAKESNOW_COMPAT": "true",
            "SNOWFLAKE_NETWORK_TIMEOUT_S": "60",
            "DBT_RUNNER_TARGET": "prod",
            "STORAGE_EMULATOR_HOST": gcs,
            "DBT_ENV_SECRET_SNOWFLAKE_PASSWORD": f"pw-{secrets.token_hex(8)}",
        }
        job = run_job("dbt-runner", ["run", "--manifest", manifest_uri], env=env)
    assert job.returncode == 0, (job.stdout + job.stderr)[-4000:]
    result = json.loads(job.stdout.strip().splitlines()[-1])
    assert result["state"] == "succeeded" and result["target"] == "prod"
    assert result["raw_load"]["rows"] == {e: o.rows for e, o in manifest.entities.items()}
    # the password went in the engine's environment, never on its command line or in the output
    assert env["DBT_ENV_SECRET_SNOWFLAKE_PASSWORD"] not in job.stdout + job.stderr
