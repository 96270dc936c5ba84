"""dbt's saved parse between builds: one state directory per target and project version, seeded from the
image's, and trusted only as far as dbt itself finds it valid."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dbt_runner.dbt_state import PARTIAL_PARSE, project_fingerprint, state_dir

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "dbt"
    shutil.copytree(REPO / "dbt", project, ignore=shutil.ignore_patterns("target", "logs"))
    return project


def test_a_changed_project_gets_a_new_state_and_the_old_one_goes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    first = state_dir(tmp_path / "work", project, "dev")
    (first / PARTIAL_PARSE).write_bytes(b"saved")
    assert state_dir(tmp_path / "work", project, "dev") == first, "same project: same state"
    other_target = state_dir(tmp_path / "work", project, "prod")
    assert other_target != first and first.is_dir(), "each target keeps its own"

    model = project / "models" / "marts" / "velocity.sql"
    model.write_text(model.read_text() + "\n-- changed\n")
    second = state_dir(tmp_path / "work", project, "dev")
    assert second != first and not first.exists(), "the old version's state is removed"
    assert not (second / PARTIAL_PARSE).exists(), "a new version starts without a saved parse"
    assert other_target.is_dir(), "another target's state is left alone"


def test_a_new_state_starts_from_the_shipped_one_of_the_same_key_only(tmp_path: Path) -> None:
    project = _project(tmp_path)
    shipped = tmp_path / "image" / "state"
    key = f"dev-{project_fingerprint(project)}"
    (shipped / key).mkdir(parents=True)
    (shipped / key / PARTIAL_PARSE).write_bytes(b"parsed at image build")
    (shipped / "prod-000000000000").mkdir()
    (shipped / "prod-000000000000" / PARTIAL_PARSE).write_bytes(b"another version")

    dev = state_dir(tmp_path / "work", project, "dev", shipped=shipped)
    assert (dev / PARTIAL_PARSE).read_bytes() == b"parsed at image build"
    prod = state_dir(tmp_path / "work", project, "prod", shipped=shipped)
    assert not (prod / PARTIAL_PARSE).exists(), "no shipped state for this key: none is used"
    assert (shipped / key / PARTIAL_PARSE).read_bytes() == b"parsed at image build", "copied, kept"


def _parse(work: Path, db: Path, shipped: Path | None = None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "DUCKDB_"))}
    env.update(DBT_RUNNER_WORK_DIR=str(work), DUCKDB_PATH=str(db))
    if shipped:
        env["DBT_RUNNER_SHIPPED_STATE"] = str(shipped)
    proc = subprocess.run(
        [sys.executable, "-m", "dbt_runner", "parse"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


@pytest.mark.slow
def test_the_image_parse_is_used_when_the_environment_matches_and_redone_when_not(
    tmp_path: Path,
) -> None:
    """As the image does (`parse` at build time into its state, DBT_RUNNER_SHIPPED_STATE at run time)."""
    db = tmp_path / "data" / "warehouse.duckdb"
    image = _parse(tmp_path / "image", db)
    assert image["parse"] == "full" and image["success"]
    shipped = tmp_path / "image" / "state"

    same = _parse(tmp_path / "job-1", db, shipped)
    assert same["parse"] == "reused", same
    moved = _parse(tmp_path / "job-2", tmp_path / "elsewhere" / "warehouse.duckdb", shipped)
    assert moved["parse"] == "full" and moved["success"], "another DuckDB path: dbt parses again"
    again = _parse(tmp_path / "job-2", tmp_path / "elsewhere" / "warehouse.duckdb", shipped)
    assert again["parse"] == "reused", "and from then on the job's own saved parse is used"
