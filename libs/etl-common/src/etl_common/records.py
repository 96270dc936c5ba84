"""Upstream JSON records to typed Arrow tables, per the raw schemas.

Missing keys become nulls (the upstream omits `merged_at`, `closed_at`, `comments` rather than sending null);
JSON integers are accepted for float fields; timestamps of any fraction width and offset become UTC
nanoseconds. Keys the contract does not know are kept, as JSON in `_extra`, and counted so the loader can
report them. A missing required field or a value of the wrong type raises `SchemaViolation` naming the entity,
the field and an example record. Every contract field's presence is counted as rows pass (key missing, key
sent as null, and for a field expected only on some records, e.g. `merged_at` on merged PRs, how many of
those had it), so the loader can tell a field the upstream dropped or renamed from one that is merely empty.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from etl_common.errors import SchemaViolation
from etl_common.schemas import (
    COMMENT_TYPE,
    FIELD_EXPECTATIONS,
    SOURCE_SCHEMAS,
    TIMESTAMP,
    raw_schema,
)
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
_REQUIRED_SET = {entity: frozenset(names) for entity, names in _REQUIRED.items()}
_TS_SET = {entity: frozenset(names) for entity, names in _TS_FIELDS.items()}
_COMMENT_TS = tuple(
    COMMENT_TYPE.field(i).name
    for i in range(COMMENT_TYPE.num_fields)
    if COMMENT_TYPE.field(i).type == TIMESTAMP
)
_CONDITIONAL = {
    entity: {name: x.when for name, x in fields.items() if x.when is not None}
    for entity, fields in FIELD_EXPECTATIONS.items()
}


@dataclass
class ConversionReport:
    """What a conversion saw besides the rows: unknown keys and how often each appeared, and per contract
    field how many records lacked the key (`missing`) or sent it as null (`null`); for a field expected
    only where a condition holds (`merged_at` where `state = merged`), how many records met the condition
    (`when_rows`) and how many of those carried a value (`when_valued`)."""

    unknown_fields: Counter[str] = field(default_factory=Counter)
    rows: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    null: Counter[str] = field(default_factory=Counter)
    when_rows: Counter[str] = field(default_factory=Counter)
    when_valued: Counter[str] = field(default_factory=Counter)

    def merge(self, other: ConversionReport) -> None:
        self.unknown_fields.update(other.unknown_fields)
        self.rows += other.rows
        self.missing.update(other.missing)
        self.null.update(other.null)
        self.when_rows.update(other.when_rows)
        self.when_valued.update(other.when_valued)

    @classmethod
    def of(cls, entity: str, records: list[Mapping[str, Any]]) -> ConversionReport:
        """The counts for `records` without converting them (for a subset of rows already converted, such
        as the ones left after de-duplication)."""
        report = cls()
        _count(entity, records, {n: [r.get(n) for r in records] for n in _KNOWN[entity]}, report)
        for r in records:
            report.unknown_fields.update(r.keys() - _KNOWN[entity])
        return report

    def field_stats(self, entity: str) -> dict[str, dict[str, Any]]:
        """Per contract field: `missing`, `null`, and for conditional fields `when`, `when_rows`,
        `when_valued` (the shape of the manifest's `field_stats`)."""
        out: dict[str, dict[str, Any]] = {}
        for name in SOURCE_SCHEMAS[entity].names:
            stats: dict[str, Any] = {"missing": self.missing[name], "null": self.null[name]}
            if (cond := _CONDITIONAL[entity].get(name)) is not None:
                stats |= {
                    "when": f"{cond[0]} = {cond[1]}",
                    "when_rows": self.when_rows[name],
                    "when_valued": self.when_valued[name],
                }
            out[name] = stats
        return out


def _count(
    entity: str,
    rows: list[Mapping[str, Any]],
    values: Mapping[str, list[Any]],
    report: ConversionReport,
) -> None:
    """Add `rows`' presence counts to `report`; `values[name]` is `[r.get(name) for r in rows]`."""
    report.rows += len(rows)
    for name, column in values.items():
        empty = column.count(None)
        if empty:
            missing = sum(1 for r in rows if name not in r)
            report.missing[name] += missing
            report.null[name] += empty - missing
    for name, (cond_field, cond_value) in _CONDITIONAL[entity].items():
        hits = [v for c, v in zip(values[cond_field], values[name], strict=True) if c == cond_value]
        report.when_rows[name] += len(hits)
        report.when_valued[name] += len(hits) - hits.count(None)


def _example(record: Mapping[str, Any]) -> str:
    text = json.dumps(record, default=str, sort_keys=True)
    return text if len(text) <= 400 else text[:400] + "…"


def _parse_ts(entity: str, name: str, value: Any, record: Mapping[str, Any]) -> int:
    if not isinstance(value, str):
        raise SchemaViolation(
            entity, name, f"expected an RFC 3339 string, got {value!r}", _example(record)
        )
    try:
        return parse_rfc3339_ns(value)
    except ValueError as exc:
        raise SchemaViolation(entity, name, str(exc), _example(record)) from None


def _timestamps(entity: str, name: str, values: list[Any], records: list[Any]) -> list[int | None]:
    try:
        return [None if v is None else parse_rfc3339_ns(v) for v in values]
    except (ValueError, TypeError):  # slow path, only to name the record
        for value, record in zip(values, records, strict=True):
            if value is not None:
                _parse_ts(entity, name, value, record)
        raise


def _comments(entity: str, values: list[Any], records: list[Any]) -> list[Any]:
    """Review comments keep their nested timestamps as nanoseconds too."""
    out: list[Any] = []
    for value, record in zip(values, records, strict=True):
        if not value:
            out.append(value)
            continue
        if not isinstance(value, list):
            raise SchemaViolation(entity, "comments", "expected a list", _example(record))
        out.append(
            [
                {
                    **c,
                    **{
                        n: _parse_ts(entity, f"comments.{n}", c[n], record)
                        for n in _COMMENT_TS
                        if c.get(n) is not None
                    },
                }
                if isinstance(c, Mapping)
                else c
                for c in value
            ]
        )
    return out


def to_arrow(
    entity: str,
    records: Iterable[Mapping[str, Any]],
    *,
    load_id: str,
    extracted_at_ns: int,
    report: ConversionReport | None = None,
) -> pa.Table:
    """A table in `raw_schema(entity)` from upstream records, or SchemaViolation naming what is wrong.

    Column by column (one comprehension per field) rather than record by record: this is the loader's
    hot path, and per-record work is kept to the records that need it (unknown keys)."""
    report = report if report is not None else ConversionReport()
    rows = list(records)
    for r in rows:
        if not isinstance(r, Mapping):
            raise SchemaViolation(
                entity,
                "<record>",
                f"expected a JSON object, got {type(r).__name__}",
                _example({"value": r}),
            )
    schema = raw_schema(entity)
    raw = {name: [r.get(name) for r in rows] for name in SOURCE_SCHEMAS[entity].names}
    columns: dict[str, list[Any]] = {}
    for name, values in raw.items():
        if name in _REQUIRED_SET[entity] and None in values:
            bad = rows[values.index(None)]
            raise SchemaViolation(entity, name, "required field is missing or null", _example(bad))
        if name in _TS_SET[entity]:
            values = _timestamps(entity, name, values, rows)
        elif entity == "reviews" and name == "comments":
            values = _comments(entity, values, rows)
        columns[name] = values
    _count(entity, rows, raw, report)
    unknown = set().union(*(r.keys() for r in rows)) - _KNOWN[entity] if rows else set()
    if unknown:
        extras: list[str | None] = []
        for r in rows:
            keys = sorted(r.keys() & unknown)
            report.unknown_fields.update(keys)
            extras.append(json.dumps({k: r[k] for k in keys}, default=str) if keys else None)
        columns["_extra"] = extras
    else:
        columns["_extra"] = [None] * len(rows)
    columns["_load_id"] = [load_id] * len(rows)
    columns["_extracted_at"] = [extracted_at_ns] * len(rows)
    arrays = []
    for f in schema:
        try:
            arrays.append(pa.array(columns[f.name], type=f.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
            raise _locate_type_error(entity, f, columns[f.name], rows, exc) from None
    return pa.Table.from_arrays(arrays, schema=schema)


def _locate_type_error(
    entity: str, f: pa.Field, values: list[Any], rows: list[Any], cause: Exception
) -> SchemaViolation:
    """Find the first record whose value for `f` does not convert, for an error a person can act on."""
    for value, row in zip(values, rows, strict=True):
        try:
            pa.array([value], type=f.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
            return SchemaViolation(
                entity, f.name, f"value {row.get(f.name)!r} is not of type {f.type}", _example(row)
            )
    return SchemaViolation(entity, f.name, str(cause), "")
