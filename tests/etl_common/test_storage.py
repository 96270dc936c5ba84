"""The storage layer behaves the same on a local directory and on gs:// (against real fake-gcs-server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl_common.errors import StorageError
from etl_common.storage import (
    GcsStore,
    LocalStore,
    ObjectExists,
    ObjectNotFound,
    ObjectStore,
    atomic_write,
    open_store,
    split_gs_uri,
)

from .storage_files import MB, sha256_file, write_random_file


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.emulator)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return open_store(str(tmp_path / "store-root"))
    return open_store(request.getfixturevalue("gcs_bucket_uri"))


# --- behaviour shared by both stores ---------------------------------------------------------


def test_bytes_round_trip_reports_uri_key_and_size(store: ObjectStore) -> None:
    info = store.put_bytes("raw/day=1/part-0.json", b'{"a": 1}', content_type="application/json")

    assert info.key == "raw/day=1/part-0.json"
    assert info.uri == store.url_for("raw/day=1/part-0.json")
    assert info.uri.startswith(store.uri + "/")
    assert info.size == 8
    assert store.get_bytes("raw/day=1/part-0.json") == b'{"a": 1}'


def test_file_round_trip_streams_a_multi_megabyte_file(store: ObjectStore, tmp_path: Path) -> None:
    source = write_random_file(tmp_path / "source.bin", 5 * MB + 123)

    put = store.put_file("files/big.bin", source)
    got = store.get_file("files/big.bin", tmp_path / "out" / "nested" / "big.bin")

    assert put.size == got.size == 5 * MB + 123
    assert sha256_file(tmp_path / "out" / "nested" / "big.bin") == sha256_file(source)


def test_overwrite_replaces_the_whole_object(store: ObjectStore) -> None:
    store.put_bytes("k", b"a longer first version")
    store.put_bytes("k", b"short")
    assert store.get_bytes("k") == b"short"


def test_stat_is_none_for_absent_objects_and_describes_present_ones(store: ObjectStore) -> None:
    assert store.stat("missing.txt") is None
    store.put_bytes("dir/present.txt", b"12345")

    info = store.stat("dir/present.txt")

    assert info is not None
    assert (info.key, info.size, info.uri) == (
        "dir/present.txt",
        5,
        store.url_for("dir/present.txt"),
    )
    assert store.stat("dir") is None  # a "directory" is not an object


def test_list_returns_sorted_keys_under_a_string_prefix(store: ObjectStore) -> None:
    for key in ["b/1", "a/2/x", "a/1", "ab"]:
        store.put_bytes(key, b".")

    assert store.list() == ["a/1", "a/2/x", "ab", "b/1"]
    assert store.list("a/") == ["a/1", "a/2/x"]
    assert store.list("a") == ["a/1", "a/2/x", "ab"]  # like GCS: a prefix of names, not a folder
    assert store.list("a/2/x") == ["a/2/x"]
    assert store.list("nothing/") == []


def test_delete_removes_the_object_and_tolerates_absent_ones(store: ObjectStore) -> None:
    store.put_bytes("gone.txt", b"x")
    store.delete("gone.txt")
    assert store.stat("gone.txt") is None
    assert store.list() == []
    store.delete("gone.txt")  # redelivered events delete twice


def test_if_absent_refuses_to_overwrite_an_existing_object(store: ObjectStore) -> None:
    store.put_bytes("manifest.json", b"first", if_absent=True)

    with pytest.raises(ObjectExists) as excinfo:
        store.put_bytes("manifest.json", b"second", if_absent=True)

    assert isinstance(excinfo.value, StorageError)
    assert store.url_for("manifest.json") in str(excinfo.value)
    assert store.get_bytes("manifest.json") == b"first"


def test_missing_objects_raise_not_found_naming_the_uri(store: ObjectStore, tmp_path: Path) -> None:
    uri = store.url_for("no/such/object.parquet")
    with pytest.raises(ObjectNotFound, match=uri):
        store.get_bytes("no/such/object.parquet")
    with pytest.raises(ObjectNotFound, match=uri) as excinfo:
        store.get_file("no/such/object.parquet", tmp_path / "dest.parquet")

    assert isinstance(excinfo.value, StorageError)
    assert not excinfo.value.transient
    assert list(tmp_path.glob("dest*")) == [] and list(tmp_path.glob(".tmp-*")) == []


BAD_KEYS = ["../escape", "a/../../escape", "/etc/passwd", "a\\b", "", "a//b", "a/", "./a", "a/./b"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_outside_the_root_are_rejected_by_every_operation(
    store: ObjectStore, key: str, tmp_path: Path
) -> None:
    calls = [
        lambda: store.url_for(key),
        lambda: store.put_bytes(key, b"x"),
        lambda: store.put_file(key, tmp_path / "whatever"),
        lambda: store.get_bytes(key),
        lambda: store.get_file(key, tmp_path / "dest"),
        lambda: store.stat(key),
        lambda: store.delete(key),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="invalid storage key"):
            call()
    assert not (tmp_path / "escape").exists()


def test_list_rejects_a_prefix_that_escapes_the_root(store: ObjectStore) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        store.list("../")


def test_check_passes_for_a_usable_root(store: ObjectStore) -> None:
    store.check()


# --- local directory specifics ---------------------------------------------------------------


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    source = write_random_file(tmp_path / "src.bin", 2 * MB)
    for i in range(20):
        store.put_bytes(f"out/{i % 3}/obj-{i}", b"x" * i)
    store.put_file("out/file.bin", source)
    store.put_bytes("out/once", b"1", if_absent=True)
    with pytest.raises(ObjectExists):
        store.put_bytes("out/once", b"2", if_absent=True)
    store.get_file("out/file.bin", tmp_path / "copy.bin")

    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
    assert len(store.list("out/")) == 22


def test_local_failed_write_keeps_the_old_file_and_no_partial_one(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old complete content")

    def fail_halfway(out):  # type: ignore[no-untyped-def]
        out.write(b"new but incompl")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fail_halfway)

    assert target.read_bytes() == b"old complete content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_local_list_hides_in_flight_temporary_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("a/real", b"1")
    (tmp_path / "a" / ".tmp-0123456789abcdef.part").write_bytes(b"partial")
    assert store.list() == ["a/real"]


def test_local_check_creates_the_root_and_rejects_a_file(tmp_path: Path) -> None:
    LocalStore(tmp_path / "new" / "root").check()
    assert (tmp_path / "new" / "root").is_dir()

    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(StorageError, match="a-file"):
        LocalStore(tmp_path / "a-file").check()


def test_open_store_resolves_relative_paths_and_file_uris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_store("data/out")
    assert isinstance(relative, LocalStore)
    assert relative.uri == (tmp_path / "data" / "out").as_posix()
    assert relative.url_for("x/y") == (tmp_path / "data" / "out" / "x" / "y").as_posix()

    from_uri = open_store(f"file://{tmp_path}/with%20space/")
    assert from_uri.uri == (tmp_path / "with space").as_posix()


def test_open_store_builds_no_gcs_client_until_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    store = open_store("gs://some-bucket/a/prefix/")
    assert isinstance(store, GcsStore)
    assert store.uri == "gs://some-bucket/a/prefix"
    assert store.url_for("k/v.json") == "gs://some-bucket/a/prefix/k/v.json"
    assert store._client is None


@pytest.mark.parametrize("uri", ["s3://bucket/x", "", "file://otherhost/x"])
def test_open_store_rejects_unsupported_uris(uri: str) -> None:
    with pytest.raises(ValueError):
        open_store(uri)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("gs://bucket", ("bucket", "")),
        ("gs://bucket/", ("bucket", "")),
        ("gs://my.bucket-1/a/b/", ("my.bucket-1", "a/b")),
    ],
)
def test_split_gs_uri(uri: str, expected: tuple[str, str]) -> None:
    assert split_gs_uri(uri) == expected


@pytest.mark.parametrize(
    "uri", ["bucket/x", "gs://", "gs:///x", "gs://Bad_Bucket", "gs://b", "gs://bucket/../x",
            "gs://bucket/a//b", "http://bucket/x"]
)  # fmt: skip
def test_split_gs_uri_rejects_malformed_uris(uri: str) -> None:
    with pytest.raises(ValueError):
        split_gs_uri(uri)
