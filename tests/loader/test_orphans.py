"""Leftovers through real processes and signals: the staging directory goes on every exit the loader
controls and is swept after the ones it cannot (kill -9); a load killed mid-publish leaves objects without a
manifest in the bucket, which a later run deletes once past the grace period, keeping every published load."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from dev_stack.double import run_double
from etl_common.layout import manifest_key
from etl_common.manifest import Manifest
from etl_common.storage import open_store
from loader.gc import collect_orphans
from loader.staging import MARKER, sweep

from ..service_harness import run_service
from .conftest import CliResult, Double, _base_env, run_loader
from .gcs_gate import gcs_gate

FAST = ("--rate-limit-per-minute", "100000")
SLOW = ("--rate-limit-per-minute", "3")  # about 20 s a request: a run takes minutes


def wait_until(what: str, done: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.02)
    raise AssertionError(f"not {what} after {timeout_s}s")


def start_loader(url: str, output: str, tmpdir: Path, *extra: str, env: dict | None = None):
    return subprocess.Popen(
        [sys.executable, "-m", "loader", "extract", "--url", url, "--output", output, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**_base_env(), "TMPDIR": str(tmpdir), **(env or {})},
    )


def finish(proc: subprocess.Popen) -> CliResult:
    out, err = proc.communicate(timeout=60)
    return CliResult(proc.returncode, out, err)


def staging_dirs(tmpdir: Path) -> list[Path]:
    return sorted(p for p in tmpdir.iterdir() if p.name.startswith("loader-"))


def owned_staging_dir(tmpdir: Path, pid: int) -> Path:
    """Wait for the loader `pid` to have made its staging directory; return it."""
    found: list[Path] = []

    def made() -> bool:
        for path in staging_dirs(tmpdir):
            try:
                if json.loads((path / MARKER).read_text())["pid"] == pid:
                    found.append(path)
                    return True
            except (OSError, ValueError):
                pass  # the marker is being written
        return False

    wait_until("a staging directory", made)
    return found[0]


@pytest.fixture
def slow_double() -> Iterator[Double]:
    with run_double(developers=2, days=90, seed=13, rate_limit_per_minute=0) as url:
        yield Double(url)


def test_kill_9_during_extraction_leaves_staging_that_the_next_start_sweeps(
    slow_double: Double, tmp_path: Path
) -> None:
    tmpdir, root = tmp_path / "tmp", tmp_path / "root"
    tmpdir.mkdir()
    # a second loader, alive throughout: its directory is never swept, whatever its age
    live = start_loader(slow_double.url, str(tmp_path / "other"), tmpdir, *SLOW)
    try:
        live_dir = owned_staging_dir(tmpdir, live.pid)
        proc = start_loader(slow_double.url, str(root), tmpdir, *SLOW)
        staging = owned_staging_dir(tmpdir, proc.pid)
        wait_until("extracting", lambda: slow_double.served()["total"] >= 1)
        proc.kill()
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert staging.is_dir(), "kill -9 cannot be caught: the directory stays behind"
        result = run_loader(slow_double.url, root, *FAST, env={"TMPDIR": str(tmpdir)})
        assert result.code == 0, result.stderr[-3000:]
        assert not staging.exists()
        swept = [line for line in result.logs() if line["message"].startswith("removed a stale")]
        assert [(s["path"], s["owner_pid"], s["reason"]) for s in swept] == [
            (str(staging), proc.pid, "owner process gone")
        ]
        assert staging_dirs(tmpdir) == [live_dir]
    finally:
        live.kill()
        live.wait(timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_extraction_removes_staging_and_exits_with_its_code(
    slow_double: Double, tmp_path: Path, sig: signal.Signals
) -> None:
    tmpdir, root = tmp_path / "tmp", tmp_path / "root"
    tmpdir.mkdir()
    proc = start_loader(slow_double.url, str(root), tmpdir, *SLOW)
    staging = owned_staging_dir(tmpdir, proc.pid)
    wait_until("extracting", lambda: slow_double.served()["total"] >= 1)
    t0 = time.monotonic()
    proc.send_signal(sig)
    result = finish(proc)
    assert result.code == 128 + sig.value, result.stderr[-3000:]
    assert time.monotonic() - t0 < 10, "a signal stops the run at once, not after the pacer's wait"
    assert not staging.exists() and staging_dirs(tmpdir) == []
    assert result.stdout == ""
    last = result.logs()[-1]
    assert last["severity"] == "ERROR"
    assert last["message"] == f"interrupted by {sig.name}; no manifest written"
    assert not (root / "manifests").exists()


def test_sigterm_to_the_service_mid_run_removes_its_staging(
    slow_double: Double, tmp_path: Path
) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {
        "CURSOR_SIM_URL": slow_double.url,
        "LOADER_OUTPUT": str(tmp_path / "root"),
        "LOADER_RATE_LIMIT_PER_MINUTE": "3",
        "TMPDIR": str(tmpdir),
    }
    with run_service("loader", env, tmp_path / "loader.log") as url:
        httpx.post(url + "/runs", timeout=10).raise_for_status()
        wait_until("a staging directory", lambda: bool(staging_dirs(tmpdir)))
        wait_until("extracting", lambda: slow_double.served()["total"] >= 1)
        # leaving the block stops the service with SIGTERM (then SIGKILL after 5 s)
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 5, "stopped by SIGTERM, not by the SIGKILL fallback"
    assert staging_dirs(tmpdir) == []
    log = (tmp_path / "loader.log").read_text()
    assert "interrupted: the loader service stopped; no manifest written" in log


def test_sweep_keeps_live_owners_and_fresh_unmarked_dirs(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    for name, owner in {
        "dead": {"pid": dead.pid, "host": socket.gethostname(), "start": None},
        "live": {"pid": os.getpid(), "host": socket.gethostname(), "start": None},
        "reused": {"pid": os.getpid(), "host": socket.gethostname(), "start": "1"},
        "elsewhere": {"pid": os.getpid(), "host": "another-host", "start": None},
    }.items():
        path = tmp_path / f"loader-{name}"
        path.mkdir()
        (path / MARKER).write_text(json.dumps(owner))
    (tmp_path / "loader-unmarked").mkdir()
    (tmp_path / "not-ours").mkdir()
    assert sorted(p.name for p in sweep(3600, tmp_path)) == ["loader-dead", "loader-reused"]
    assert sorted(p.name for p in sweep(0, tmp_path)) == ["loader-elsewhere", "loader-unmarked"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loader-live", "not-ours"]


def test_collection_spares_the_current_load_published_loads_and_young_prefixes(
    tmp_path: Path,
) -> None:
    store = open_store(str(tmp_path))
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def load_id(age: timedelta, tail: str) -> str:
        return f"{(now - age).strftime('%Y%m%dT%H%M%SZ')}-{tail}"

    published, orphan = load_id(timedelta(hours=5), "aaaaaa"), load_id(timedelta(hours=2), "bbbbbb")
    young, current = load_id(timedelta(minutes=5), "cccccc"), load_id(timedelta(hours=3), "dddddd")
    for lid in (published, orphan, young, current):
        store.put_bytes(f"{lid}/commits/part-00000.parquet", b"x")
        store.put_bytes(f"{lid}/reviews/part-00000.parquet", b"x")
    store.put_bytes(manifest_key(published), b"{}")
    store.put_bytes(f"build-results/{orphan}.json", b"{}")  # not a load prefix: never touched
    store.put_bytes("notaload/x", b"x")
    removed = collect_orphans(store, current=current, grace_s=3600, now=now)
    assert [(o.load_id, o.objects) for o in removed] == [(orphan, 2)]
    assert not (tmp_path / orphan).exists(), "no empty directories left behind"
    assert {k.split("/")[0] for k in store.list("")} == {
        published,
        young,
        current,
        "manifests",
        "build-results",
        "notaload",
    }


def test_a_kill_during_publish_leaves_an_orphan_that_a_later_run_collects(
    gcs_emulator: str, gcs_bucket_uri: str, tmp_path: Path, fresh_double: Double
) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    store = open_store(gcs_bucket_uri)  # the test reads the emulator directly
    direct = {"STORAGE_EMULATOR_HOST": gcs_emulator, "TMPDIR": str(tmpdir)}

    first = run_loader(fresh_double.url, gcs_bucket_uri, *FAST, env=direct)
    assert first.code == 0, first.stderr[-3000:]
    published = Manifest.parse(store.get_bytes(first.last_line.split(gcs_bucket_uri + "/")[1]))

    with gcs_gate(gcs_emulator, hold=2) as gate:  # the second Parquet upload never completes
        proc = start_loader(
            fresh_double.url,
            gcs_bucket_uri,
            tmpdir,
            *FAST,
            env={"STORAGE_EMULATOR_HOST": gate.url},
        )
        assert gate.held.wait(timeout=60), "the loader never reached its second upload"
        loads = {k.split("/")[0] for k in store.list("")} - {"manifests"}
        (killed,) = loads - {published.load_id}
        assert store.list(f"{killed}/") == [f"{killed}/commits/part-00000.parquet"]
        proc.kill()
        assert proc.wait(timeout=30) == -signal.SIGKILL
    assert store.stat(manifest_key(killed)) is None
    # never read: no manifest names anything under the orphan prefix
    assert all(killed not in store.get_bytes(k).decode() for k in store.list("manifests/"))

    second = run_loader(fresh_double.url, gcs_bucket_uri, *FAST, env=direct)
    assert second.code == 0, second.stderr[-3000:]
    assert store.list(f"{killed}/"), "younger than the default grace (1 h): kept"
    assert staging_dirs(tmpdir) == [], "the killed loader's staging was swept"

    third = run_loader(
        fresh_double.url, gcs_bucket_uri, *FAST, env={**direct, "LOADER_ORPHAN_GRACE_S": "0"}
    )
    assert third.code == 0, third.stderr[-3000:]
    assert store.list(f"{killed}/") == []
    collected = [line for line in third.logs() if line["message"].startswith("removed an unpub")]
    assert [(c["orphan_load_id"], c["objects"]) for c in collected] == [(killed, 1)]
    manifests = [Manifest.parse(store.get_bytes(k)) for k in store.list("manifests/")]
    assert len(manifests) == 3 and published in manifests
    for m in manifests:  # every published load is whole
        for out in m.entities.values():
            for f in out.files:
                assert store.stat(f.path) is not None, f.path
    assert {k.split("/")[0] for k in store.list("")} == {"manifests"} | {
        m.load_id for m in manifests
    }
