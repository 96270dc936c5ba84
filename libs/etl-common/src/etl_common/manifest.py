"""The manifest: the one handoff between the loader and everything downstream.

The loader writes its data files first and the manifest last, at `<root>/manifests/<load_id>.json` (where
everything lives: `etl_common.layout`); a consumer acts only on manifests. File paths inside are keys relative
to that same root, so a bucket prefix can move without rewriting manifests, and a consumer can refuse any path that would leave it. The JSON schema is
published beside this module (`manifest.schema.json`) and versioned by `manifest_version`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from etl_common.errors import ManifestError
from etl_common.layout import LOAD_ID_FORMAT, is_load_id
from etl_common.schemas import ENTITIES

MANIFEST_VERSION: Literal[1] = 1
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataFile(_Strict):
    path: str = Field(
        description="Key relative to the manifest's root, e.g. `<load_id>/commits/part-00000.parquet`"
    )
    rows: int = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("path")
    @classmethod
    def _relative_inside_root(cls, v: str) -> str:
        parts = v.split("/")
        if v.startswith("/") or "\\" in v or any(p in ("", ".", "..") for p in parts) or "://" in v:
            raise ValueError(f"file path {v!r} must be a relative key inside the manifest's root")
        return v


class FieldStats(_Strict):
    """How one contract field arrived across an entity's rows; a value was sent on rows - missing - null."""

    missing: int = Field(ge=0, description="Rows whose record lacked the key")
    null: int = Field(ge=0, description="Rows whose record sent the key as null")
    when: str | None = Field(
        default=None,
        description="For a field expected only on some rows: the condition, e.g. `state = merged`",
    )
    when_rows: int | None = Field(default=None, ge=0, description="Rows meeting `when`")
    when_valued: int | None = Field(
        default=None, ge=0, description="Rows meeting `when` that carried a value"
    )


class EntityOutput(_Strict):
    rows: int = Field(ge=0)
    schema_fingerprint: str
    files: list[DataFile]
    unknown_fields: dict[str, int] = Field(
        default_factory=dict,
        description="Keys the upstream sent that the contract does not know, with counts",
    )
    field_stats: dict[str, FieldStats] = Field(
        default_factory=dict,
        description="Per contract field, its presence across the rows (what the drift checks compared); "
        "empty in manifests written before these were recorded",
    )


class Check(_Strict):
    name: str
    expected: int | str | None
    actual: int | str | None
    ok: bool
    blocking: bool = Field(
        default=True, description="A failed blocking check prevents the manifest"
    )
    detail: str = ""


class SourceInfo(_Strict):
    url: str = Field(description="Base URL of the upstream, without credentials")
    version: str | None = None
    uptime_at_start: str | None = None
    generation: dict[str, Any] = Field(default_factory=dict)
    identity: dict[str, Any] = Field(
        default_factory=dict,
        description="What was compared at the start and the end of the load to prove one upstream "
        "generation: the earliest commit, the commit count, the server uptime and the totals",
    )


class Manifest(_Strict):
    manifest_version: Literal[1] = MANIFEST_VERSION
    load_id: str
    created_at: datetime = Field(description="When the manifest was written (UTC)")
    extracted_at: datetime = Field(description="When extraction started (UTC); orders loads")
    source: SourceInfo
    window: dict[str, str] = Field(description="Date filters sent to windowed endpoints")
    entities: dict[str, EntityOutput]
    requests: dict[str, Any] = Field(default_factory=dict)
    timings_s: dict[str, float] = Field(default_factory=dict)
    checks: list[Check] = Field(default_factory=list)

    @field_validator("load_id")
    @classmethod
    def _load_id_shape(cls, v: str) -> str:
        if not is_load_id(v):
            raise ValueError(f"load_id {v!r} is not of the form {LOAD_ID_FORMAT}")
        return v

    @field_validator("entities")
    @classmethod
    def _all_entities(cls, v: dict[str, EntityOutput]) -> dict[str, EntityOutput]:
        missing = [e for e in ENTITIES if e not in v]
        unknown = [e for e in v if e not in ENTITIES]
        if missing or unknown:
            raise ValueError(
                f"entities must be exactly {list(ENTITIES)}; missing {missing}, unknown {unknown}"
            )
        return v

    def to_json(self) -> bytes:
        return self.model_dump_json(indent=2).encode() + b"\n"

    @classmethod
    def parse(cls, raw: bytes, *, where: str = "manifest") -> Manifest:
        """Parse and validate, or ManifestError naming what is wrong."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            raise ManifestError(
                f"{where} is not a valid manifest v{MANIFEST_VERSION}: {problems}"
            ) from None


def json_schema() -> dict[str, Any]:
    return Manifest.model_json_schema()
