"""JSON shape comparison for recorded upstream bodies against the double's: same types and keys, recursively,
values free (the data is random). Lists of records are compared against the merge of all recorded elements,
because PRs and reviews legitimately differ in which optional keys they carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Keys the contract documents as present only for some records (2.4, 2.6), with their type when present.
OPTIONAL_KEYS = {"merged_at": "string", "closed_at": "string", "comments": "array"}
# Objects whose keys are data values (team names, regions...), not field names.
DATA_KEYED = {"by_seniority", "by_region", "by_team", "by_activity"}


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        # Go prints an integral float64 without a fraction: int and float are one type
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass
class Schema:
    kinds: set[str] = field(default_factory=set)
    keys: dict[str, Schema] = field(default_factory=dict)
    required: set[str] | None = None
    items: Schema | None = None
    array_lengths: set[bool] = field(default_factory=set)  # which of empty/non-empty were recorded

    def add(self, value: Any, name: str = "") -> None:
        self.kinds.add(kind(value))
        if isinstance(value, dict):
            if name in DATA_KEYED:
                for v in value.values():
                    self.keys.setdefault("*", Schema()).add(v)
                return
            present = set(value)
            self.required = present if self.required is None else self.required & present
            for key, v in value.items():
                self.keys.setdefault(key, Schema()).add(v, key)
        elif isinstance(value, list):
            self.array_lengths.add(bool(value))
            for v in value:
                if self.items is None:
                    self.items = Schema()
                self.items.add(v, name)


def schema_of(value: Any) -> Schema:
    schema = Schema()
    schema.add(value)
    return schema


def mismatches(schema: Schema, value: Any, where: str = "$", name: str = "") -> list[str]:
    """Every way `value` departs from the recorded shape (empty when it conforms)."""
    found = kind(value)
    if found not in schema.kinds:
        return [f"{where}: {found}, recorded {sorted(schema.kinds)}"]
    problems: list[str] = []
    if isinstance(value, dict):
        if name in DATA_KEYED:
            inner = schema.keys.get("*")
            for key, v in value.items():
                if inner is not None:
                    problems += mismatches(inner, v, f"{where}.{key}")
            return problems
        required = (schema.required or set()) - set(OPTIONAL_KEYS)
        missing = required - set(value)
        extra = set(value) - set(schema.keys) - set(OPTIONAL_KEYS)
        if missing:
            problems.append(f"{where}: missing keys {sorted(missing)}")
        if extra:
            problems.append(f"{where}: unexpected keys {sorted(extra)}")
        for key, v in value.items():
            if key in schema.keys:
                problems += mismatches(schema.keys[key], v, f"{where}.{key}", key)
            elif key in OPTIONAL_KEYS and kind(v) != OPTIONAL_KEYS[key]:
                problems.append(f"{where}.{key}: {kind(v)}, documented {OPTIONAL_KEYS[key]}")
    elif isinstance(value, list):
        if schema.array_lengths == {False} and value:
            problems.append(f"{where}: recorded an empty array, got {len(value)} items")
        if schema.array_lengths == {True} and not value:
            problems.append(f"{where}: recorded a non-empty array, got none")
        if schema.items is not None:
            for i, v in enumerate(value):
                problems += mismatches(schema.items, v, f"{where}[{i}]", name)
    return problems
