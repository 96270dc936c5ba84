"""Compare-and-swap writes behave the same on a local directory and on gs:// (real fake-gcs-server):
a write based on a stale generation changes nothing, and of writers racing from one generation
exactly one wins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from etl_common.storage import ObjectNotFound, ObjectStore, open_store
from etl_common.storage_conditional import GenerationMismatch, get_versioned, put_if_generation


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.emulator)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return open_store(str(tmp_path / "store-root"))
    return open_store(request.getfixturevalue("gcs_bucket_uri"))


def test_write_only_from_the_generation_read(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        get_versioned(store, "runs/r.json")
    first = put_if_generation(store, "runs/r.json", b"one", None)
    with pytest.raises(GenerationMismatch):  # "must not exist" once it does
        put_if_generation(store, "runs/r.json", b"other", None)
    read = get_versioned(store, "runs/r.json")
    assert (read.data, read.generation) == (b"one", first)
    second = put_if_generation(store, "runs/r.json", b"two", first)
    assert second != first
    with pytest.raises(GenerationMismatch):  # based on what was there before "two"
        put_if_generation(store, "runs/r.json", b"stale", first)
    assert store.get_bytes("runs/r.json") == b"two"
    assert get_versioned(store, "runs/r.json").generation == second
    assert store.list("runs/") == ["runs/r.json"]  # no lock or temp files left beside it


def test_of_writers_racing_from_one_generation_exactly_one_wins(store: ObjectStore) -> None:
    """Threads, each with its own descriptor (local) or request (gs://): flock and the bucket's
    precondition treat them exactly as they treat separate processes."""
    generation = put_if_generation(store, "runs/r.json", b"start", None)
    start = threading.Barrier(8)

    def write(n: int) -> int:
        start.wait(timeout=30)  # every writer is ready: now they really race
        try:
            put_if_generation(store, "runs/r.json", f"writer {n}".encode(), generation)
            return n
        except GenerationMismatch:
            return -1

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(write, range(8)))
    winners = [r for r in results if r >= 0]
    assert len(winners) == 1, results
    assert store.get_bytes("runs/r.json") == f"writer {winners[0]}".encode()
