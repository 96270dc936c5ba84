"""The warehouse is never left mixed and no failure is reported as success, through real `dbt_runner` jobs:
kill -9 during the raw load and during the build, two runners on one DuckDB file, readers during a build, a
held lock, a failing build and its retry, a manifest changed under its load id, unusable DUCKDB_PATHs.

Two loads from two different upstreams (X older, Y newer) make every mix visible: raw and marts of X and of
Y differ, so a state is "consistent" only when it equals, table for table, a reference build of one load.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dbt_runner.warehouse_lock import writer_lock
from dev_stack.double import run_double
from etl_common.schemas import ENTITIES

from ..loader.conftest import run_loader
from .test_run_manifest import REPO, _env, result_line

MARTS = ("velocity", "review_costs", "quality", "ai_impact")
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Loads:
    root: Path
    x: str  # manifest URI of the older load
    y: str  # ... of the newer one, from another upstream


@dataclass(frozen=True)
class Refs:
    x_db: Path
    x: tuple[Any, ...]
    y: tuple[Any, ...]


def state(db: Path) -> tuple[Any, ...]:
    """What a reader sees: per raw table (rows, load ids), per mart a digest of its sorted rows."""
    with duckdb.connect(str(db), read_only=True) as con:
        raw = tuple(
            con.execute(f'SELECT count(*), min(_load_id), max(_load_id) FROM raw."{t}"').fetchone()
            for t in ENTITIES
        )
        marts = tuple(
            hashlib.sha256(
                "\n".join(
                    sorted(repr(r) for r in con.execute(f"SELECT * FROM mart.{m}").fetchall())
                ).encode()
            ).hexdigest()[:16]
            for m in MARTS
        )
    return raw, marts


def last_load(db: Path) -> tuple[Any, ...]:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT load_id, outcome, manifest_sha256 FROM raw._loads ORDER BY loaded_at DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return tuple(row)


def job(manifest: str, db: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dbt_runner", "run", "--manifest", manifest],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={
            **_env(),
            "DUCKDB_PATH": str(db),
            "DBT_RUNNER_WORK_DIR": str(db.parent / f"work-{os.urandom(3).hex()}"),
            **env,
        },
    )


def run_job(manifest: str, db: Path, **env: str) -> tuple[int, dict[str, Any], str]:
    proc = job(manifest, db, **env)
    out, err = proc.communicate(timeout=300)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return proc.returncode, result_line(done), err


def wait_until(what: str, ready: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def watch_stderr(proc: subprocess.Popen[str], needle: str | None = None) -> threading.Event:
    """Drain the job's stderr (so it never blocks on a full pipe); the event is set once `needle`
    appears in it."""
    seen = threading.Event()

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if needle is not None and needle in line:
                seen.set()

    threading.Thread(target=drain, daemon=True).start()
    return seen


def building_dirs(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f".{db.name}.building*"))


@pytest.fixture(scope="module")
def loads(tmp_path_factory: pytest.TempPathFactory) -> Loads:
    root = tmp_path_factory.mktemp("bucket")
    uris = []
    for developers, seed in ((2, 31), (3, 32)):
        with run_double(developers=developers, days=60, seed=seed, rate_limit_per_minute=0) as url:
            loaded = run_loader(url, root, "--rate-limit-per-minute", "100000")
        assert loaded.code == 0, loaded.stdout + loaded.stderr
        uris.append(loaded.last_line)
    return Loads(root, uris[0], uris[1])


@pytest.fixture(scope="module")
def refs(loads: Loads, tmp_path_factory: pytest.TempPathFactory) -> Refs:
    """Reference warehouses: X alone, Y alone (each a clean build)."""
    out = {}
    for name, uri in (("x", loads.x), ("y", loads.y)):
        db = tmp_path_factory.mktemp(f"ref-{name}") / "warehouse.duckdb"
        code, result, err = run_job(uri, db)
        assert code == 0 and result["state"] == "succeeded", err[-3000:]
        out[name] = db
    x, y = state(out["x"]), state(out["y"])
    assert x != y and x[1] != y[1], "the two loads must differ in raw and in every mart"
    return Refs(out["x"], x, y)


@pytest.fixture
def live_x(refs: Refs, tmp_path: Path) -> Path:
    """A live warehouse holding X, built and published."""
    db = tmp_path / "wh" / "warehouse.duckdb"
    db.parent.mkdir()
    shutil.copyfile(refs.x_db, db)
    return db


def test_kill_during_the_build_leaves_x_and_the_retry_builds_y(
    loads: Loads, refs: Refs, live_x: Path
) -> None:
    proc = job(loads.y, live_x)
    started = watch_stderr(proc, "LogStartLine")  # dbt has begun running nodes on the copy
    assert started.wait(180), "dbt never started a node"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert state(live_x) == refs.x and last_load(live_x)[1] == "succeeded"
    assert building_dirs(live_x), "the killed build's copy should be left for the next writer"

    code, result, err = run_job(loads.y, live_x)  # not `already_loaded`: Y never built
    assert code == 0 and result["state"] == "succeeded", err[-3000:]
    assert state(live_x) == refs.y
    load_id, outcome, sha = last_load(live_x)
    assert (load_id, outcome, sha) == (result["load_id"], "succeeded", result["manifest_sha256"])
    assert not building_dirs(live_x), "the next writer sweeps what the killed one left"


def test_kill_during_the_raw_load_leaves_x(loads: Loads, refs: Refs, live_x: Path) -> None:
    proc = job(loads.y, live_x)
    watch_stderr(proc)
    wait_until("the building copy", lambda: bool(building_dirs(live_x)))
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert state(live_x) == refs.x
    assert last_load(live_x)[1] == "succeeded"


def test_readers_during_a_build_see_x_or_y_and_a_second_runner_waits(
    loads: Loads, refs: Refs, live_x: Path
) -> None:
    first = job(loads.y, live_x)
    watch_stderr(first)
    lock = live_x.with_name(live_x.name + ".lock")
    wait_until("the first runner's lock", lambda: loads.y.rsplit("/", 1)[-1][:-5] in _text(lock))
    second = job(loads.y, live_x)  # the same load, while the first builds it
    seen = set()
    while first.poll() is None:
        seen.add(state(live_x))
    assert seen <= {refs.x, refs.y}, "a reader saw raw and marts from different loads"
    out, _ = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0
    second_result = json.loads(out)
    assert second_result["state"] == "already_loaded"
    assert second_result["timings_s"]["lock_wait"] > 0
    assert state(live_x) == refs.y
    attempts = sorted((loads.root / "build-results" / second_result["load_id"]).glob("2*.json"))
    states = [json.loads(p.read_text())["state"] for p in attempts]
    assert "succeeded" in states and states[-1] == "already_loaded"  # append-only, one per attempt
    latest = loads.root / "build-results" / second_result["load_id"] / "latest.json"
    assert json.loads(latest.read_text())["attempt"] == second_result["attempt"]


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def test_a_held_lock_is_a_transient_one_line_failure_naming_the_holder(
    loads: Loads, refs: Refs, live_x: Path
) -> None:
    with writer_lock(live_x, load_id="20990101T000000Z-abcdef", timeout_s=1):
        code, result, err = run_job(loads.y, live_x, DBT_RUNNER_LOCK_TIMEOUT_S="1")
    assert code == 75 and result["state"] == "failed" and result["transient"] is True
    assert f"pid {os.getpid()}" in result["error"] and "20990101T000000Z-abcdef" in result["error"]
    assert "\n" not in result["error"] and "Traceback" not in err
    assert state(live_x) == refs.x
    record = Path(result["result_uri"])
    assert json.loads(record.read_text())["error"] == result["error"]


def test_a_failed_build_leaves_x_and_its_retry_builds(
    loads: Loads, refs: Refs, live_x: Path, tmp_path: Path
) -> None:
    project = tmp_path / "dbt"
    shutil.copytree(
        REPO / "dbt", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    (project / "tests" / "always_fails.sql").write_text("select 1 as failure\n")
    code, result, err = run_job(loads.y, live_x, DBT_PROJECT_DIR=str(project))
    assert code == 1 and result["state"] == "failed" and result["transient"] is False
    assert "always_fails" in result["error"] and "\n" not in result["error"]
    assert state(live_x) == refs.x and last_load(live_x)[1] == "succeeded"

    code, result, err = run_job(loads.y, live_x)  # the failure did not count as loaded
    assert code == 0 and result["state"] == "succeeded", err[-3000:]
    assert state(live_x) == refs.y


def test_a_manifest_changed_under_its_load_id_is_refused(
    loads: Loads, refs: Refs, live_x: Path, tmp_path: Path
) -> None:
    bucket = tmp_path / "bucket"
    shutil.copytree(loads.root, bucket)
    manifest = bucket / "manifests" / Path(loads.x).name
    data = json.loads(manifest.read_text())
    data["entities"]["repos"]["rows"] += 1  # changed row counts, files untouched
    data["entities"]["repos"]["files"][0]["rows"] += 1
    manifest.write_text(json.dumps(data))
    code, result, _ = run_job(str(manifest), live_x)
    assert code == 1 and result["error_type"] == "ManifestError"
    assert "must not change under its load id" in result["error"]
    assert state(live_x) == refs.x


@pytest.fixture
def unusable(tmp_path: Path) -> Iterator[dict[str, Path]]:
    (tmp_path / "a-directory.duckdb").mkdir()
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "corrupt.duckdb").write_bytes(b"this is not a DuckDB file" * 100)
    yield {
        "is a directory": tmp_path / "a-directory.duckdb",
        "cannot create its directory": tmp_path / "a-file" / "warehouse.duckdb",
        "cannot read the DuckDB warehouse": tmp_path / "corrupt.duckdb",
    }


def test_unusable_duckdb_paths_are_one_line_results(
    loads: Loads, unusable: dict[str, Path]
) -> None:
    for phrase, path in unusable.items():
        code, result, err = run_job(loads.x, path)
        assert code == 1 and result["state"] == "failed", (phrase, result)
        assert phrase in result["error"] and str(path) in result["error"], result["error"]
        assert "\n" not in result["error"] and "Traceback" not in err, err[-2000:]
        assert result["result_uri"], "even this failure is recorded beside the manifest"
