"""Fault injection rules: a test-only control surface (`/_double/faults`), never part of the upstream."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from fake_cursor_sim.encoding import go_body

KINDS = (
    "status",
    "drop",
    "delay",
    "truncate",
    "remove_field",
    "rename_field",
    "null_field",
    "regenerate",
)
# Kinds that rewrite the records of a JSON answer (schema drift), each naming the `field` it changes.
FIELD_KINDS = ("remove_field", "rename_field", "null_field")


@dataclass
class Rule:
    kind: str
    path_prefix: str = ""
    times: int = 1
    after: int = 0
    status: int = 503
    seconds: float = 1.0
    field: str = ""
    to: str = ""  # rename_field: the new key
    same_totals: bool = False  # regenerate: keep the totals, change every identity
    seen: int = 0
    applied: int = 0

    def fires(self, path: str) -> bool:
        """Counts a matching request; True when this one is inside the `after`/`times` window."""
        if not path.startswith(self.path_prefix):
            return False
        self.seen += 1
        if self.seen <= self.after or self.applied >= self.times:
            return False
        self.applied += 1
        return True


def parse_rules(payload: Any) -> list[Rule]:
    """Validate a `{"rules": [...]}` document; ValueError names the first problem."""
    if not isinstance(payload, dict) or not isinstance(payload.get("rules"), list):
        raise ValueError('expected {"rules": [...]}')
    rules = []
    for raw in payload["rules"]:
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
            raise ValueError(f"each rule needs a kind in {KINDS}: {raw!r}")
        unknown = set(raw) - {
            "kind",
            "path_prefix",
            "times",
            "after",
            "status",
            "seconds",
            "field",
            "to",
            "same_totals",
        }
        if unknown:
            raise ValueError(f"unknown rule keys {sorted(unknown)}")
        rule = Rule(
            kind=raw["kind"],
            path_prefix=str(raw.get("path_prefix", "")),
            times=int(raw.get("times", 1)),
            after=int(raw.get("after", 0)),
            status=int(raw.get("status", 503)),
            seconds=float(raw.get("seconds", 1.0)),
            field=str(raw.get("field", "")),
            to=str(raw.get("to", "")),
            same_totals=bool(raw.get("same_totals", False)),
        )
        if rule.kind in FIELD_KINDS and not rule.field:
            raise ValueError(f"{rule.kind} needs a field")
        if rule.kind == "rename_field" and not rule.to:
            raise ValueError("rename_field needs `to`, the new key")
        if rule.kind == "status" and not 100 <= rule.status <= 599:
            raise ValueError("status must be an HTTP status code")
        rules.append(rule)
    return rules


class FaultBook:
    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.applied = 0

    def firing(self, path: str) -> list[Rule]:
        if not self.rules:
            return []
        fired = [rule for rule in self.rules if rule.fires(path)]
        self.applied += len(fired)
        return fired

    def describe(self) -> list[dict[str, Any]]:
        return [asdict(rule) for rule in self.rules]


def rewrite_field(body: bytes, rule: Rule) -> bytes:
    """Apply a field rule to every record of a response (list, items/data/teamMembers wrapper, or one
    object): `remove_field` drops the key, `rename_field` moves its value to the key `to` (as an upstream
    release renaming a struct tag would), `null_field` keeps the key with a JSON null. Records without the key
    are left alone: a field the upstream omits on some records stays omitted there."""
    value = json.loads(body)
    records: Any = value
    if isinstance(value, dict):
        for key in ("items", "data", "teamMembers"):
            if isinstance(value.get(key), list):
                records = value[key]
                break
        else:
            records = [value]
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict) or rule.field not in record:
            continue
        if rule.kind == "remove_field":
            del record[rule.field]
        elif rule.kind == "rename_field":
            record[rule.to] = record.pop(rule.field)
        elif rule.kind == "null_field":
            record[rule.field] = None
    return go_body(value)
