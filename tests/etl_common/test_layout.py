"""The bucket layout: every key a reader or writer uses comes from `etl_common.layout`, and load ids and
manifest URIs round-trip through it or are refused with a message that names the expected shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from etl_common import layout
from etl_common.errors import ManifestError

T = datetime(2026, 11, 30, 19, 36, 12, tzinfo=UTC)


def test_a_new_load_id_names_its_instant_and_sorts_by_time():
    load_id = layout.new_load_id(T)
    assert load_id.startswith("20261130T193612Z-") and layout.is_load_id(load_id)
    assert layout.load_started(load_id) == T
    assert layout.new_load_id(datetime(2026, 12, 1, tzinfo=UTC)) > load_id
    assert layout.is_load_id(layout.new_run_id())


@pytest.mark.parametrize(
    "text", ["", "20261130T193612Z", "20261130T193612Z-1A2B3C", "20261130-193612-1a2b3c", "x/y"]
)
def test_malformed_load_ids_are_refused(text: str):
    assert not layout.is_load_id(text) and layout.load_started(text) is None
    with pytest.raises(ValueError, match="YYYYMMDDTHHMMSSZ-xxxxxx"):
        layout.require_load_id(text)


def test_a_manifest_key_round_trips_through_its_uri():
    load_id = layout.new_load_id(T)
    key = layout.manifest_key(load_id)
    for root in ("gs://bucket", "gs://bucket/some/prefix", "/data/loads"):
        assert layout.split_manifest_uri(f"{root}/{key}") == (root, key)
        assert layout.load_id_of_manifest_uri(f"{root}/{key}") == load_id
    assert layout.manifest_load_id(f"prefix/{key}") == load_id
    assert layout.manifest_keys(
        [key, f"{load_id}/commits/part-00000.parquet", "manifests/x.json"]
    ) == {load_id: key}


@pytest.mark.parametrize(
    "uri", ["gs://b/x.json", "manifests/L.json", "gs://b/manifests/", "gs://b/manifests/a/b.json"]
)
def test_a_uri_that_is_no_manifest_is_refused_with_the_expected_shape(uri: str):
    with pytest.raises(ManifestError, match=r"<root>/manifests/<load_id>\.json"):
        layout.split_manifest_uri(uri)


def test_a_manifest_named_other_than_a_load_id_has_no_load_id():
    with pytest.raises(ManifestError, match="not a load id"):
        layout.load_id_of_manifest_uri("gs://b/manifests/latest.json")
    assert layout.manifest_load_id("gs://b/build-results/20261130T193612Z-1a2b3c.json") is None


def test_build_results_and_run_records_live_outside_the_manifests():
    load_id = layout.new_load_id(T)
    assert layout.build_result_key(load_id, "A") == f"build-results/{load_id}/A.json"
    assert layout.latest_build_result_key(load_id) == f"build-results/{load_id}/latest.json"
    assert layout.run_key("R") == "orchestrator/runs/R.json"
    assert layout.event_marker_key("d") == "orchestrator/events/d.json"
    assert layout.entity_prefix(load_id, "commits") == f"{load_id}/commits"
    for key in (layout.build_result_key(load_id, "A"), layout.run_key(load_id)):
        assert layout.manifest_load_id(key) is None
