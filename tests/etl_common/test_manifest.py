import json
from datetime import UTC, datetime

import pytest

from etl_common.errors import ManifestError
from etl_common.layout import new_load_id
from etl_common.manifest import SCHEMA_PATH, Manifest, json_schema

FILE = {
    "path": "20261130T193612Z-abcdef/commits/part-00000.parquet",
    "rows": 1,
    "bytes": 10,
    "sha256": "0" * 64,
}


def manifest_dict(**over):
    entity = {"rows": 1, "schema_fingerprint": "sha256:x", "files": [FILE]}
    base = {
        "load_id": "20261130T193612Z-abcdef",
        "created_at": datetime(2026, 11, 30, tzinfo=UTC).isoformat(),
        "extracted_at": datetime(2026, 11, 30, tzinfo=UTC).isoformat(),
        "source": {"url": "http://127.0.0.1:8080"},
        "window": {"startDate": "2000-01-01", "endDate": "2100-01-01"},
        "entities": dict.fromkeys(("commits", "pull_requests", "reviews", "repos"), entity),
    }
    return {**base, **over}


def test_round_trip() -> None:
    m = Manifest.parse(json.dumps(manifest_dict()).encode())
    assert Manifest.parse(m.to_json()) == m


@pytest.mark.parametrize(
    "path", ["../x.parquet", "/etc/passwd", "a//b", "gs://other/x", "a\\b", "./a"]
)
def test_paths_outside_the_root_are_refused(path: str) -> None:
    bad = manifest_dict()
    bad["entities"]["commits"] = {**bad["entities"]["commits"], "files": [{**FILE, "path": path}]}
    with pytest.raises(ManifestError, match="must be a relative key"):
        Manifest.parse(json.dumps(bad).encode())


def test_missing_entity_and_wrong_version_are_named() -> None:
    d = manifest_dict()
    del d["entities"]["reviews"]
    with pytest.raises(ManifestError, match=r"missing \['reviews'\]"):
        Manifest.parse(json.dumps(d).encode())
    with pytest.raises(ManifestError, match="manifest_version"):
        Manifest.parse(json.dumps(manifest_dict(manifest_version=2)).encode())
    with pytest.raises(ManifestError, match="not a valid manifest"):
        Manifest.parse(b"{not json")


def test_field_stats_are_optional_so_earlier_manifests_still_parse() -> None:
    # a manifest written before field_stats existed
    earlier = Manifest.parse(json.dumps(manifest_dict()).encode())
    assert earlier.entities["pull_requests"].field_stats == {}
    d = manifest_dict()
    stats = {
        "merged_at": {"missing": 3, "null": 0, "when": "state = merged", "when_rows": 9},
        "title": {"missing": 0, "null": 1},
    }
    d["entities"]["pull_requests"] = {**d["entities"]["pull_requests"], "field_stats": stats}
    m = Manifest.parse(json.dumps(d).encode())
    assert m.entities["pull_requests"].field_stats["merged_at"].when_rows == 9
    assert Manifest.parse(m.to_json()) == m
    d["entities"]["pull_requests"]["field_stats"] = {"title": {"missing": -1, "null": 0}}
    with pytest.raises(ManifestError, match="field_stats"):
        Manifest.parse(json.dumps(d).encode())


def test_load_ids_sort_by_time() -> None:
    a = new_load_id(datetime(2026, 1, 1, tzinfo=UTC))
    b = new_load_id(datetime(2026, 1, 2, tzinfo=UTC))
    assert a < b
    Manifest.parse(json.dumps(manifest_dict(load_id=a)).encode())


def test_published_json_schema_is_current() -> None:
    """The committed schema is what consumers validate against; regenerate it when the model changes:
    python -c 'import json; from etl_common.manifest import json_schema; print(json.dumps(json_schema(), indent=2))' > libs/etl-common/src/etl_common/manifest.schema.json
    """
    assert json.loads(SCHEMA_PATH.read_text()) == json_schema()
