"""The dbt-runner job from a real loader manifest: verify, load raw atomically, refuse bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dev_stack.double import run_double
from etl_common.manifest import Manifest
from etl_common.storage import open_store

from ..loader.conftest import run_loader

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def loads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """Two successive loads from one double into one local bucket directory."""
    root = tmp_path_factory.mktemp("bucket")
    with run_double(developers=2, days=90, seed=21, rate_limit_per_minute=0) as url:
        uris = []
        for _ in range(2):
            result = run_loader(url, root, "--rate-limit-per-minute", "100000")
            assert result.code == 0, result.stdout + result.stderr
            uris.append(result.last_line)
    yield root, uris


def runner(
    manifest: str, db: Path, *extra: str, timeout: float = 300
) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "dbt_runner", "run", "--manifest", manifest, *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**_env(), "DUCKDB_PATH": str(db), "DBT_RUNNER_WORK_DIR": str(db.parent / "dbt-work")},
    )
    return proc.returncode, result_line(proc), proc.stdout + proc.stderr


def result_line(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The job's stdout is its result and nothing else: one JSON line (logs, dbt's included, go to stderr)."""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, (
        f"stdout must be one result line, got {len(lines)}: {proc.stdout[-2000:]}"
    )
    return json.loads(lines[0])


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "DUCKDB_"))}


def raw_snapshot(db: Path) -> dict[str, Any]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {
            t: con.execute(f'SELECT count(*), max(_load_id) FROM raw."{t}"').fetchone()
            for t in ("commits", "pull_requests", "reviews", "repos")
        }
        loads = con.execute("SELECT load_id FROM raw._loads ORDER BY loaded_at").fetchall()
    return {"tables": tables, "loads": loads}


@pytest.fixture(scope="module")
def built(
    loads: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any], str]:
    db = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    code, result, output = runner(loads[1][1], db)
    assert code == 0, output
    return db, result, output


@pytest.mark.slow
def test_manifest_to_raw_to_green_dbt_build(loads: tuple[Path, list[str]], built) -> None:
    db, result, output = built
    root, uris = loads
    manifest = Manifest.parse(Path(uris[1]).read_bytes())
    assert result["state"] == "succeeded"
    assert result["raw_load"]["rows"] == {e: o.rows for e, o in manifest.entities.items()}
    assert result["dbt"]["success"] is True
    statuses = {n["status"] for n in result["dbt"]["nodes"]}
    assert statuses <= {"success", "pass"}, result["dbt"]["counts"]
    # a production build runs models, seeds and data tests; unit tests are left out, and it says so
    kinds = {n["resource_type"] for n in result["dbt"]["nodes"]}
    assert kinds == {"model", "seed", "test"}, kinds
    assert "make test" in result["dbt"]["not_run"]["unit_test"]
    assert result["dbt"]["parse"] == "full", (
        "the first build in a fresh work dir parses from scratch"
    )
    # every step traced once, in order, and the timings are the same trace's seconds
    steps = result["steps"]
    assert [s["name"] for s in steps] == ["verify", "lock_wait", "raw_load", "dbt_build", "publish"]
    assert {s["outcome"] for s in steps} == {"succeeded"}
    assert result["timings_s"] == {s["name"]: s["seconds"] for s in steps}
    assert steps[3]["counts"] == result["dbt"]["counts"]
    # the result is also written beside the manifest
    attempts = root / "build-results" / manifest.load_id
    written = json.loads((attempts / f"{result['attempt']}.json").read_text())
    assert written["state"] == "succeeded" and written["result_uri"] == result["result_uri"]
    assert json.loads((attempts / "latest.json").read_text()) == written
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM mart.velocity").fetchone()[0] > 0
        (prs,) = con.execute("SELECT count(*) FROM staging.stg_pull_requests").fetchone()
    assert prs == manifest.entities["pull_requests"].rows
    # dbt's console output is not lost: it arrives as our JSON log lines (on stderr), one per dbt event
    dbt_lines = [
        json.loads(line)
        for line in output.splitlines()
        if line.startswith("{") and '"dbt_event"' in line
    ]
    events = {line["dbt_event"] for line in dbt_lines}
    assert {"MainReportVersion", "LogModelResult"} <= events, sorted(events)
    assert all(line["service"] == "dbt-runner" for line in dbt_lines)


@pytest.mark.slow
def test_same_manifest_twice_is_already_loaded_and_older_is_refused(loads, built) -> None:
    db, _, _ = built
    before = raw_snapshot(db)
    code, result, _ = runner(loads[1][1], db)
    assert code == 0 and result["state"] == "already_loaded"
    code, result, _ = runner(loads[1][0], db)  # the older load
    assert code == 1 and result["error_type"] == "ManifestError"
    assert "older than the loaded" in result["error"] and "--force" in result["error"]
    assert raw_snapshot(db) == before


@pytest.mark.slow
def test_a_later_build_reuses_the_parse_and_unit_tests_run_on_demand(loads, built) -> None:
    db, first, _ = built
    code, result, output = runner(loads[1][1], db, "--force", "--with-unit-tests")
    assert code == 0 and result["state"] == "succeeded", output[-3000:]
    assert result["dbt"]["parse"] == "reused", "same project, same environment: no parse"
    assert result["dbt"]["not_run"] == {}
    unit = [n for n in result["dbt"]["nodes"] if n["resource_type"] == "unit_test"]
    assert unit and {n["status"] for n in unit} == {"pass"}
    others = {n["unique_id"] for n in result["dbt"]["nodes"] if n["resource_type"] != "unit_test"}
    assert others == {n["unique_id"] for n in first["dbt"]["nodes"]}, "the same models and tests"


def _corrupt_copy(root: Path, uri: str, tmp: Path, edit) -> str:  # type: ignore[no-untyped-def]
    """A copy of a load's bucket with one thing broken by `edit(copy_root, manifest_dict)`."""
    copy = tmp / "bucket"
    shutil.copytree(root, copy)
    manifest_path = copy / "manifests" / Path(uri).name
    data = json.loads(manifest_path.read_text())
    edit(copy, data)
    if data is not None:
        manifest_path.write_text(json.dumps(data))
    return str(manifest_path)


def _file_of(data: dict, entity: str = "reviews") -> dict:
    return data["entities"][entity]["files"][0]


BAD_INPUTS = {
    "not-json": (lambda root, d: None, "not a valid manifest"),
    "missing-field": (lambda root, d: d.pop("entities"), "entities"),
    "path-escapes-root": (
        lambda root, d: _file_of(d).update(path="../../etc/passwd"),
        "must be a relative key",
    ),
    "other-bucket": (
        lambda root, d: _file_of(d).update(path="gs://other-bucket/x.parquet"),
        "must be a relative key",
    ),
    "missing-file": (lambda root, d: (root / _file_of(d)["path"]).unlink(), "names a missing file"),
    "corrupted-file": (
        lambda root, d: (root / _file_of(d)["path"]).write_bytes(
            (root / _file_of(d)["path"]).read_bytes()[:-9] + b"corrupted"
        ),
        "is corrupted",
    ),
    "wrong-size": (
        lambda root, d: _file_of(d).update(bytes=_file_of(d)["bytes"] + 1),
        "bytes, the manifest says",
    ),
    "schema-fingerprint": (
        lambda root, d: d["entities"]["reviews"].update(schema_fingerprint="sha256:0"),
        "schema fingerprint",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_by_name_and_raw_is_unchanged(
    case: str, loads, built, tmp_path: Path
) -> None:
    db, _, _ = built
    root, uris = loads
    edit, phrase = BAD_INPUTS[case]
    if case == "not-json":
        path = _corrupt_copy(root, uris[1], tmp_path, lambda r, d: None)
        Path(path).write_text("{not json")
    else:
        path = _corrupt_copy(root, uris[1], tmp_path, edit)
    before = raw_snapshot(db)
    code, result, output = runner(path, db, "--force")
    assert code == 1, output
    assert result["state"] == "failed"
    assert phrase in result["error"], result["error"]
    assert raw_snapshot(db) == before


def test_a_manifest_outside_the_served_root_is_refused(loads, tmp_path: Path) -> None:
    _root, uris = loads
    db = tmp_path / "warehouse.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "dbt_runner", "run", "--manifest", uris[1]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={
            **_env(),
            "DUCKDB_PATH": str(db),
            "DBT_RUNNER_MANIFEST_ROOT": str(tmp_path / "elsewhere"),
        },
    )
    result = result_line(proc)
    assert proc.returncode == 1
    assert "outside the manifest root this runner serves" in result["error"]
    assert not db.exists()


@pytest.mark.slow
@pytest.mark.emulator
def test_a_gcs_manifest_is_verified_downloaded_and_built(
    gcs_bucket_uri: str, tmp_path: Path
) -> None:
    with run_double(developers=2, days=90, seed=23, rate_limit_per_minute=0) as url:
        loaded = run_loader(url, gcs_bucket_uri, "--rate-limit-per-minute", "100000")
    assert loaded.code == 0, loaded.stdout + loaded.stderr
    db = tmp_path / "warehouse.duckdb"
    code, result, output = runner(loaded.last_line, db)
    assert code == 0, output
    assert result["state"] == "succeeded" and result["result_uri"].startswith(gcs_bucket_uri)
    manifest = Manifest.parse(
        open_store(gcs_bucket_uri).get_bytes(loaded.last_line.removeprefix(gcs_bucket_uri + "/"))
    )
    assert result["raw_load"]["rows"] == {e: o.rows for e, o in manifest.entities.items()}
