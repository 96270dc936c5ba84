"""The loader job end to end: real subprocess, real HTTP against the double, real Parquet, real manifest."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dev_stack.double import run_double
from etl_common.manifest import Manifest
from etl_common.schemas import ENTITIES, NATURAL_KEYS, raw_schema, schema_fingerprint
from etl_common.storage import open_store
from etl_common.timestamps import parse_rfc3339_ns

from .conftest import Double, run_loader


def read_manifest(uri: str) -> Manifest:
    return Manifest.parse(Path(uri).read_bytes())


def test_extracts_every_entity_completely_with_manifest_last(
    double_2dev: Double, tmp_path: Path
) -> None:
    result = run_loader(double_2dev.url, tmp_path, "--rate-limit-per-minute", "100000")
    assert result.code == 0, result.stdout + result.stderr
    manifest_path = Path(result.last_line)
    assert manifest_path.parent == tmp_path / "manifests"
    manifest = read_manifest(str(manifest_path))
    totals = double_2dev.stats()
    repos = double_2dev.get("/repos")
    expected = {
        "commits": totals["total_commits"],
        "pull_requests": totals["total_prs"],
        "reviews": totals["total_reviews"],
        "repos": len(repos),
    }
    for entity in ENTITIES:
        out = manifest.entities[entity]
        assert out.rows == expected[entity], entity
        assert out.schema_fingerprint == schema_fingerprint(raw_schema(entity))
        (file,) = out.files
        table = pq.read_table(tmp_path / file.path)
        assert table.schema == raw_schema(entity)
        assert table.num_rows == expected[entity]
        keys = table.column(NATURAL_KEYS[entity]).to_pylist()
        assert len(set(keys)) == len(keys)
        assert set(table.column("_load_id").to_pylist()) == {manifest.load_id}
    assert all(c.ok for c in manifest.checks), [c for c in manifest.checks if not c.ok]
    # the manifest was written after every data file it names
    newest_data = max(
        (tmp_path / f.path).stat().st_mtime_ns for o in manifest.entities.values() for f in o.files
    )
    assert manifest_path.stat().st_mtime_ns >= newest_data
    assert manifest.requests["throttled_429"] == 0
    assert "cursor-sim-dev-key" not in manifest_path.read_text()
    # one trace of the load's steps; the total spans them
    steps = list(manifest.timings_s)
    assert steps == ["discover", "extract", "write", "publish", "total"]
    assert manifest.timings_s["total"] >= sum(
        v for k, v in manifest.timings_s.items() if k != "total"
    )


def test_values_survive_with_nanoseconds_and_missing_keys_as_null(
    double_2dev: Double, tmp_path: Path
) -> None:
    result = run_loader(double_2dev.url, tmp_path, "--rate-limit-per-minute", "100000")
    assert result.code == 0, result.stderr
    manifest = read_manifest(result.last_line)
    prs = pq.read_table(tmp_path / manifest.entities["pull_requests"].files[0].path)
    source = {
        pr["id"]: pr
        for email in {p["email"] for p in double_2dev.get("/teams/members")["teamMembers"]}
        for pr in double_2dev.get("/analytics/github/prs", author=email, page_size=100)["data"]
    }
    ts = ("created_at", "merged_at", "closed_at")
    rows = (
        prs.select(["id", *ts])
        .cast(pa.schema([pa.field("id", pa.int64())] + [pa.field(t, pa.int64()) for t in ts]))
        .to_pydict()
    )
    checked = 0
    for i, pr_id in enumerate(rows["id"]):
        if pr_id not in source:
            continue
        src = source[pr_id]
        assert rows["created_at"][i] == parse_rfc3339_ns(src["created_at"])  # nanoseconds kept
        assert (rows["merged_at"][i] is None) == ("merged_at" not in src)
        assert (rows["closed_at"][i] is None) == ("closed_at" not in src)
        checked += 1
    assert checked >= 50


def test_a_second_run_gets_its_own_load_id_and_files(double_2dev: Double, tmp_path: Path) -> None:
    first = run_loader(double_2dev.url, tmp_path, "--rate-limit-per-minute", "100000")
    second = run_loader(double_2dev.url, tmp_path, "--rate-limit-per-minute", "100000")
    assert first.code == second.code == 0
    a, b = read_manifest(first.last_line), read_manifest(second.last_line)
    assert a.load_id != b.load_id
    assert {e: o.rows for e, o in a.entities.items()} == {e: o.rows for e, o in b.entities.items()}
    assert sorted(p.name for p in (tmp_path / "manifests").iterdir()) == sorted(
        [f"{a.load_id}.json", f"{b.load_id}.json"]
    )


@pytest.mark.emulator
def test_extracts_to_a_gcs_bucket(double_2dev: Double, gcs_bucket_uri: str) -> None:
    result = run_loader(double_2dev.url, gcs_bucket_uri, "--rate-limit-per-minute", "100000")
    assert result.code == 0, result.stdout + result.stderr
    assert result.last_line.startswith(gcs_bucket_uri + "/manifests/")
    store = open_store(gcs_bucket_uri)
    key = result.last_line.removeprefix(gcs_bucket_uri + "/")
    manifest = Manifest.parse(store.get_bytes(key))
    for entity, out in manifest.entities.items():
        info = store.stat(out.files[0].path)
        assert info is not None and info.size == out.files[0].bytes, entity


def test_wrong_api_key_fails_with_one_clear_line_and_no_manifest(
    double_2dev: Double, tmp_path: Path
) -> None:
    result = run_loader(double_2dev.url, tmp_path, env={"CURSOR_SIM_API_KEY": "not-the-key"})
    assert result.code == 1
    (error,) = [log for log in result.logs() if log["severity"] == "ERROR"]
    assert "HTTP 401" in error["message"] and "CURSOR_SIM_API_KEY" in error["message"]
    assert "not-the-key" not in result.stdout + result.stderr
    assert not (tmp_path / "manifests").exists()


def test_unreachable_upstream_is_transient_exit_75(tmp_path: Path) -> None:
    from dev_stack.processes import free_port

    result = run_loader(
        f"http://127.0.0.1:{free_port()}", tmp_path, env={"LOADER_MAX_ATTEMPTS": "2"}
    )
    assert result.code == 75, result.stdout + result.stderr
    assert result.stdout == ""
    (error,) = [log for log in result.logs() if log["severity"] == "ERROR"]
    assert "gave up after 2 attempts" in error["message"]
    assert not (tmp_path / "manifests").exists()


@pytest.mark.slow
def test_paced_under_the_upstream_limit_without_a_single_429(tmp_path: Path) -> None:
    """More requests than the burst: the client must wait for tokens exactly like the server refills."""
    with run_double(developers=24, days=90, seed=3, rate_limit_per_minute=120) as url:
        double = Double(url)
        result = run_loader(url, tmp_path, "--rate-limit-per-minute", "120", timeout=180)
        served = double.served()
    assert result.code == 0, result.stdout + result.stderr
    manifest = read_manifest(result.last_line)
    assert manifest.requests["sent"] > 120  # the burst alone was not enough
    assert manifest.requests["throttled_429"] == 0
    assert served["rate_limited"] == 0


def test_progress_estimate_accounts_for_the_spent_burst() -> None:
    import io

    from loader.progress import TerminalProgress

    progress = TerminalProgress(100 / 60, stream=io.StringIO())
    assert progress.seconds_left(left=50, sent=10, elapsed_s=0) == 0  # the burst covers it
    assert progress.seconds_left(left=156, sent=185, elapsed_s=19) == pytest.approx(
        156 / (100 / 60), rel=0.05
    )
    assert progress.seconds_left(left=100, sent=0, elapsed_s=0) == 0
