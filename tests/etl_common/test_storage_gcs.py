"""The gs:// store's own behaviour, against a real fake-gcs-server: what the emulator reports, prefixes,
credentials, a missing bucket or an unreachable server, persistence and throughput."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from dev_stack.gcs_emulator import run_fake_gcs
from dev_stack.processes import free_port
from etl_common.errors import StorageError
from etl_common.storage import (
    GcsStore,
    open_store,
)

from .storage_files import MB, md5_b64, sha256_file, write_random_file


@pytest.fixture
def gcs_store(gcs_bucket_uri: str) -> GcsStore:
    store = open_store(gcs_bucket_uri)
    assert isinstance(store, GcsStore)
    return store


# --- gs:// specifics (fake-gcs-server) ---------------------------------------------------------


@pytest.mark.emulator
def test_gcs_size_md5_and_generation_come_from_the_emulator(
    gcs_store: GcsStore, gcs_emulator: str, tmp_path: Path
) -> None:
    data = os.urandom(3 * MB + 7)
    source = tmp_path / "payload.bin"
    source.write_bytes(data)

    from_bytes = gcs_store.put_bytes("p/bytes.bin", data)
    from_file = gcs_store.put_file("p/file.bin", source)
    stat = gcs_store.stat("p/file.bin")
    fetched = gcs_store.get_file("p/file.bin", tmp_path / "back.bin")

    for info in (from_bytes, from_file, stat, fetched):
        assert info is not None
        assert (info.size, info.md5_b64) == (len(data), md5_b64(data))
        assert info.generation
    assert stat is not None and fetched.generation == stat.generation == from_file.generation
    # the same facts straight from the JSON API, not through google-cloud-storage
    name = f"{gcs_store.prefix}/p/file.bin".replace("/", "%2F")
    raw = httpx.get(f"{gcs_emulator}/storage/v1/b/{gcs_store.bucket_name}/o/{name}", timeout=10)
    assert raw.json()["md5Hash"] == md5_b64(data)
    assert int(raw.json()["size"]) == len(data)


@pytest.mark.emulator
def test_gcs_stores_with_different_prefixes_do_not_see_each_other(gcs_bucket_uri: str) -> None:
    left, right = open_store(gcs_bucket_uri + "/left"), open_store(gcs_bucket_uri + "/left2")
    left.put_bytes("k", b"l")
    right.put_bytes("k", b"r")
    assert left.list() == ["k"] and right.list() == ["k"]
    assert left.get_bytes("k") == b"l"
    assert open_store(gcs_bucket_uri).list() == ["left/k", "left2/k"]


@pytest.mark.emulator
def test_gcs_client_uses_anonymous_credentials_against_the_emulator(gcs_store: GcsStore) -> None:
    from google.auth.credentials import AnonymousCredentials

    assert isinstance(gcs_store.client._credentials, AnonymousCredentials)
    assert gcs_store.client.project == "local"


@pytest.mark.emulator
def test_gcs_check_fails_clearly_for_a_missing_bucket(gcs_bucket_uri: str) -> None:
    store = open_store("gs://no-such-bucket/prefix")
    with pytest.raises(StorageError, match=r"gs://no-such-bucket does not exist") as excinfo:
        store.check()
    assert not excinfo.value.transient


@pytest.mark.emulator
def test_gcs_check_fails_fast_when_the_emulator_is_unreachable(
    gcs_bucket_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")
    store = open_store(gcs_bucket_uri)

    started = time.monotonic()
    with pytest.raises(StorageError, match=gcs_bucket_uri) as excinfo:
        store.check()

    assert time.monotonic() - started < 10
    assert "ConnectionError" in str(excinfo.value)
    assert excinfo.value.transient


@pytest.mark.emulator
def test_filesystem_backend_keeps_objects_across_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "gcs-data"
    with run_fake_gcs(buckets=("keep-bucket",), backend="filesystem", data_dir=data_dir) as url:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
        open_store("gs://keep-bucket/x").put_bytes("k", b"persisted")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/storage/v1/b", timeout=2)  # stopped on exit

    with run_fake_gcs(buckets=("keep-bucket",), backend="filesystem", data_dir=data_dir) as url:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
        assert open_store("gs://keep-bucket/x").get_bytes("k") == b"persisted"


@pytest.mark.emulator
@pytest.mark.slow
def test_gcs_throughput_for_a_50_mb_file(
    gcs_store: GcsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Measured, not asserted: the numbers depend on the machine. Integrity is asserted."""
    size = 50 * MB
    source = write_random_file(tmp_path / "fifty.bin", size)

    started = time.perf_counter()
    gcs_store.put_file("bench/fifty.bin", source)
    upload_s = time.perf_counter() - started
    started = time.perf_counter()
    gcs_store.get_file("bench/fifty.bin", tmp_path / "fifty-back.bin")
    download_s = time.perf_counter() - started

    assert sha256_file(tmp_path / "fifty-back.bin") == sha256_file(source)
    with capsys.disabled():
        print(
            f"\n[storage throughput, 50 MB vs fake-gcs-server] upload {size / MB / upload_s:.0f} MB/s"
            f" ({upload_s:.2f} s), download {size / MB / download_s:.0f} MB/s ({download_s:.2f} s)"
        )
