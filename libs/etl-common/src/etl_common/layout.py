"""Where everything lives in the bucket, and what a load id looks like: the one place that knows.

Relative to one root (a `gs://bucket/prefix` or a local directory):

    <load_id>/<entity>/part-00000.parquet     the loader's data files (written first)
    manifests/<load_id>.json                  the manifest (written last; consumers react only to it)
    build-results/<load_id>/<attempt>.json    each dbt-runner attempt, append-only
    build-results/<load_id>/latest.json       the newest attempt
    orchestrator/runs/<run_id>.json           the orchestrator's run records
    orchestrator/events/<sha256>.json         its event dedupe markers

Load ids (and run and attempt ids, which share the format) sort by time: `20261130T193612Z-1a2b3c`.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from etl_common.errors import ManifestError

MANIFESTS_DIR = "manifests"
BUILD_RESULTS_DIR = (
    "build-results"  # beside manifests/, outside it: consumers react only to manifests
)
RUNS_DIR = "orchestrator/runs"
EVENTS_DIR = "orchestrator/events"
LOAD_ID_FORMAT = "YYYYMMDDTHHMMSSZ-xxxxxx"
_STAMP = "%Y%m%dT%H%M%SZ"
_LOAD_ID = r"(?P<stamp>\d{8}T\d{6}Z)-[0-9a-f]{6}"
LOAD_ID_RE = re.compile(rf"^{_LOAD_ID}$")
_MANIFEST_KEY = re.compile(rf"^(?:(?P<prefix>.+)/)?{MANIFESTS_DIR}/(?P<load_id>{_LOAD_ID})\.json$")


def new_load_id(now: datetime | None = None) -> str:
    """Sortable by time (`20261130T193612Z-1a2b3c`), unique by its random tail."""
    now = now or datetime.now(UTC)
    return f"{now.strftime(_STAMP)}-{secrets.token_hex(3)}"


def new_run_id(now: datetime | None = None) -> str:
    """Run and attempt ids: the load-id format, so they sort by time too."""
    return new_load_id(now)


def is_load_id(text: str) -> bool:
    return LOAD_ID_RE.match(text) is not None


def load_started(load_id: str) -> datetime | None:
    """The UTC instant a load id names, or None if `load_id` is not one."""
    match = LOAD_ID_RE.match(load_id)
    if match is None:
        return None
    return datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)


def require_load_id(text: str) -> str:
    if not is_load_id(text):
        raise ValueError(f"load_id {text!r} is not of the form {LOAD_ID_FORMAT}")
    return text


def entity_prefix(load_id: str, entity: str) -> str:
    """Where a load's files of one entity go (the data file names are the sink's)."""
    return f"{load_id}/{entity}"


def manifest_key(load_id: str) -> str:
    return f"{MANIFESTS_DIR}/{load_id}.json"


def manifest_keys(keys: list[str]) -> dict[str, str]:
    """{load id: key} of the manifests among `keys` (a listing of the root)."""
    found = {}
    for key in keys:
        match = _MANIFEST_KEY.match(key)
        if match is not None and match["prefix"] is None:
            found[match["load_id"]] = key
    return found


def manifest_load_id(name: str) -> str | None:
    """The load id of an object name `[<prefix>/]manifests/<load_id>.json`, or None if it is no manifest."""
    match = _MANIFEST_KEY.match(name)
    return match["load_id"] if match else None


def split_manifest_uri(uri: str) -> tuple[str, str]:
    """(`root`, `manifests/<name>.json`) for a manifest URI, or ManifestError if it is not one."""
    head, sep, name = uri.rstrip("/").rpartition(f"/{MANIFESTS_DIR}/")
    if not sep or not name.endswith(".json") or "/" in name or not head:
        raise ManifestError(f"{uri}: a manifest must be at <root>/{MANIFESTS_DIR}/<load_id>.json")
    return head, f"{MANIFESTS_DIR}/{name}"


def load_id_of_manifest_uri(uri: str) -> str:
    """The load id a manifest URI names, or ManifestError if it names none."""
    _, key = split_manifest_uri(uri)
    load_id = manifest_load_id(key)
    if load_id is None:
        raise ManifestError(f"{uri}: the manifest's name is not a load id ({LOAD_ID_FORMAT})")
    return load_id


def build_result_key(load_id: str, attempt: str) -> str:
    return f"{BUILD_RESULTS_DIR}/{load_id}/{attempt}.json"


def latest_build_result_key(load_id: str) -> str:
    return build_result_key(load_id, "latest")


def run_key(run_id: str) -> str:
    return f"{RUNS_DIR}/{run_id}.json"


def event_marker_key(digest: str) -> str:
    return f"{EVENTS_DIR}/{digest}.json"
