"""Upstream JSON records to typed Arrow tables, per the raw schemas.

Missing keys become nulls (the upstream omits `merged_at`, `closed_at`, `comments` rather than sending null);
JSON integers are accepted for float fields; timestamps of any fraction width and offset become UTC
nanoseconds. Keys the contract does not know are kept, as JSON in `_extra`, and counted so the loader can
report them. A missing required field or a value of the wrong type raises `SchemaViolation` naming the entity,
the field and an example record.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from etl_common.errors import SchemaViolation
from etl_common.schemas import COMMENT_TYPE, SOURCE_SCHEMAS, TIMESTAMP, raw_schema
from etl_common.timestamps import parse_rfc3339_ns

_TS_FIELDS = {
    entity: tuple(f.name for f in schema if f.type == TIMESTAMP)
    for entity, schema in SOURCE_SCHEMAS.items()
}
_REQUIRED = {
    entity: tuple(f.name for f in schema if not f.nullable)
    for entity, schema in SOURCE_SCHEMAS.items()
}
_KNOWN = {entity: frozenset(schema.names) for entity, schema in SOURCE_SCHEMAS.items()}
_COMMENT_TS = tuple(
    COMMENT_TYPE.field(i).name
    for i in range(COMMENT_TYPE.num_fields)
    if COMMENT_TYPE.field(i).type == TIMESTAMP
)


@dataclass
class ConversionReport:
    """What a conversion saw besides the rows: unknown keys and how often each appeared."""

    unknown_fields: Counter[str] = field(default_factory=Counter)

    def merge(self, other: ConversionReport) -> None:
        self.unknown_fields.update(other.unknown_fields)


def _example(record: Mapping[str, Any]) -> str:
    text = json.dumps(record, default=str, sort_keys=True)
    return text if len(text) <= 400 else text[:400] + "…"


def _normalise(entity: str, record: Mapping[str, Any], report: ConversionReport) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise SchemaViolation(
            entity,
            "<record>",
            f"expected a JSON object, got {type(record).__name__}",
            _example({"value": record}),
        )
    row = dict(record)
    for name in _REQUIRED[entity]:
        if row.get(name) is None:
            raise SchemaViolation(
                entity, name, "required field is missing or null", _example(record)
            )
    for name in _TS_FIELDS[entity]:
        value = row.get(name)
        if value is not None:
            row[name] = _parse_ts(entity, name, value, record)
    if entity == "reviews" and row.get("comments"):
        comments = row["comments"]
        if not isinstance(comments, list):
            raise SchemaViolation(entity, "comments", "expected a list", _example(record))
        row["comments"] = [
            {
                **c,
                **{
                    n: _parse_ts(entity, f"comments.{n}", c[n], record)
                    for n in _COMMENT_TS
                    if isinstance(c, Mapping) and c.get(n) is not None
                },
            }
            if isinstance(c, Mapping)
            else c
            for c in comments
        ]
    extra_keys = row.keys() - _KNOWN[entity]
    if extra_keys:
        report.unknown_fields.update(extra_keys)
        row["_extra"] = json.dumps({k: row.pop(k) for k in sorted(extra_keys)}, default=str)
    return row


def _parse_ts(entity: str, name: str, value: Any, record: Mapping[str, Any]) -> int:
    if not isinstance(value, str):
        raise SchemaViolation(
            entity, name, f"expected an RFC 3339 string, got {value!r}", _example(record)
        )
    try:
        return parse_rfc3339_ns(value)
    except ValueError as exc:
        raise SchemaViolation(entity, name, str(exc), _example(record)) from None


def to_arrow(
    entity: str,
    records: Iterable[Mapping[str, Any]],
    *,
    load_id: str,
    extracted_at_ns: int,
    report: ConversionReport | None = None,
) -> pa.Table:
    """A table in `raw_schema(entity)` from upstream records, or SchemaViolation naming what is wrong."""
    report = report if report is not None else ConversionReport()
    rows = [_normalise(entity, r, report) for r in records]
    schema = raw_schema(entity)
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    source_names = SOURCE_SCHEMAS[entity].names
    for row in rows:
        for name in source_names:
            columns[name].append(row.get(name))
        columns["_extra"].append(row.get("_extra"))
    columns["_load_id"] = [load_id] * len(rows)
    columns["_extracted_at"] = [extracted_at_ns] * len(rows)
    arrays = []
    for f in schema:
        try:
            arrays.append(pa.array(columns[f.name], type=f.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
            raise _locate_type_error(entity, f, rows, records_fallback=exc) from None
    return pa.Table.from_arrays(arrays, schema=schema)


def _locate_type_error(
    entity: str, f: pa.Field, rows: list[dict[str, Any]], records_fallback: Exception
) -> SchemaViolation:
    """Find the first record whose value for `f` does not convert, for an error a person can act on."""
    for row in rows:
        try:
            pa.array([row.get(f.name)], type=f.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
            return SchemaViolation(
                entity, f.name, f"value {row.get(f.name)!r} is not of type {f.type}", _example(row)
            )
    return SchemaViolation(entity, f.name, str(records_fallback), "")
