"""Schema drift: a field the upstream stopped sending fails the load, before anything is published.

A dropped or renamed field converts cleanly (a missing key is a null), so without this a load with no
`merged_at` passes every completeness check and empties three of four marts. Each contract field's presence,
counted as rows streamed (`FieldStats`), is compared with what the contract promises
(`etl_common.schemas.FIELD_EXPECTATIONS`) and with the previous load in the same root. A field whose values
vanished (missing or null on every row that should carry one) is blocking when a mart depends on it and a
warning otherwise; a partial loss is a warning. A vanished field next to a new unknown key that looks like it
(`mergedAt`) is named as a probable rename.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from etl_common.errors import EtlError, ManifestError, StorageError
from etl_common.layout import MANIFESTS_DIR, manifest_keys
from etl_common.manifest import Check, EntityOutput, FieldStats, Manifest
from etl_common.schemas import FIELD_EXPECTATIONS, FieldExpectation
from etl_common.storage import ObjectStore

log = logging.getLogger(__name__)

# A share of rows with a value that fell by this much since the previous load is worth a warning.
RATE_DROP_WARNING = 0.5
SUMMARY_CHECK = "drift: every field present and valued as expected"


class SchemaDriftError(EtlError):
    """A field a mart depends on stopped arriving; the load is refused rather than published."""


@dataclass(frozen=True)
class Finding:
    entity: str
    field: str
    expected: str
    actual: str
    blocking: bool
    detail: str = ""

    @property
    def line(self) -> str:
        text = f"{self.entity}.{self.field}: expected {self.expected}, got {self.actual}"
        return text + (f" ({self.detail})" if self.detail else "")

    def check(self) -> Check:
        return Check(
            name=f"drift: {self.entity}.{self.field}",
            expected=self.expected,
            actual=self.actual,
            ok=False,
            blocking=self.blocking,
            detail=self.detail,
        )


def previous_manifest(store: ObjectStore, load_id: str) -> Manifest | None:
    """The newest manifest in the root older than `load_id` (load ids sort by time), if one is readable."""
    found = manifest_keys(store.list(f"{MANIFESTS_DIR}/"))
    earlier = [found[earlier_id] for earlier_id in sorted(found) if earlier_id < load_id]
    if not earlier:
        return None
    try:
        return Manifest.parse(store.get_bytes(earlier[-1]), where=earlier[-1])
    except (ManifestError, StorageError) as exc:
        log.warning(
            "previous manifest unreadable; drift compared with the contract only",
            extra={"previous": earlier[-1], "problem": str(exc)},
        )
        return None


def find_drift(
    entities: Mapping[str, EntityOutput], previous: Manifest | None
) -> tuple[list[Finding], Check]:
    """Every finding, and the summary check that records what was compared."""
    findings = []
    for entity, out in entities.items():
        before = previous.entities.get(entity) if previous else None
        for name, expectation in FIELD_EXPECTATIONS[entity].items():
            stats = out.field_stats.get(name)
            if stats is None or out.rows == 0:
                continue
            prior = before.field_stats.get(name) if before and before.rows else None
            finding = _judge(
                entity,
                name,
                expectation,
                out,
                stats,
                (previous.load_id, before.rows, prior) if previous and before and prior else None,
            )
            if finding is not None:
                findings.append(finding)
    against = f"the contract and load {previous.load_id}" if previous else "the contract"
    warnings = [f for f in findings if not f.blocking]
    summary = Check(
        name=SUMMARY_CHECK,
        expected=against,
        actual=f"{len(warnings)} warning(s)" if warnings else "as expected",
        ok=not any(f.blocking for f in findings),
        detail="; ".join(f.line for f in findings if f.blocking),
    )
    return findings, summary


def require_no_drift(findings: list[Finding]) -> None:
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise SchemaDriftError(
            "schema drift, no manifest written: " + "; ".join(f.line for f in blocking)
        )


# A judgement so far: what was expected, what was seen ("" when nothing is wrong), and whether every row
# that should carry a value has none.
_Verdict = tuple[str, str, bool]


def _judge(
    entity: str,
    name: str,
    x: FieldExpectation,
    out: EntityOutput,
    s: FieldStats,
    prior: tuple[str, int, FieldStats] | None,
) -> Finding | None:
    """One field of one load against the contract's promise, then against the previous load."""
    rows = out.rows
    detail: list[str] = []
    verdict = _against_contract(x, rows, s)
    if prior is not None:
        verdict = _against_prior(x, rows, s, prior, verdict, detail)
    expected, actual, vanished = verdict
    if not actual:
        return None
    if vanished and s.missing == rows and (rename := _probable_rename(name, x, s, out)):
        detail.insert(0, rename)
    return Finding(
        entity,
        name,
        expected,
        actual,
        blocking=vanished and x.mart and x.presence != "null",
        detail="; ".join(detail),
    )


def _against_contract(x: FieldExpectation, rows: int, s: FieldStats) -> _Verdict:
    valued = rows - s.missing - s.null
    cond = x.describe_when()
    if x.presence == "always":
        if valued == 0:
            return "a value on every row", _none_of(rows, s), True
        if valued < rows:
            return "a value on every row", f"no value on {rows - valued} of {rows} rows", False
        return "a value on every row", "", False
    if x.presence == "when":
        wr, wv = s.when_rows or 0, s.when_valued or 0
        expected = f"a value on every row with {cond}"
        if wr and not wv:
            return expected, _none_of(rows, s, where=f"the {wr} rows with {cond}"), True
        if wr and wv < wr:
            return expected, f"no value on {wr - wv} of the {wr} rows with {cond}", False
        if not wr and valued:
            actual = f"values on {valued} rows, none of which has {cond}"
            return f"values only on rows with {cond}", actual, True
        return expected, "", False
    return "", "", False


def _against_prior(
    x: FieldExpectation,
    rows: int,
    s: FieldStats,
    prior: tuple[str, int, FieldStats],
    verdict: _Verdict,
    detail: list[str],
) -> _Verdict:
    """The contract's verdict, sharpened by what the previous load `prior` had (detail added in place)."""
    expected, actual, vanished = verdict
    prev_id, prev_rows, p = prior
    valued = rows - s.missing - s.null
    prev_valued = prev_rows - p.missing - p.null
    cond = x.describe_when()
    if vanished:
        if prev_valued:
            detail.append(f"load {prev_id} had a value on {prev_valued} of {prev_rows} rows")
        return verdict
    if x.presence == "when" and not (s.when_rows or 0) and (p.when_rows or 0):
        expected = f"rows with {cond}, as load {prev_id} had ({p.when_rows} of {prev_rows})"
        return expected, f"no row with {cond} among {rows}", True
    if prev_valued and not valued:
        expected = f"values, as load {prev_id} had on {prev_valued} of {prev_rows} rows"
        return expected, _none_of(rows, s), True
    if (
        x.presence == "optional"  # the others' partial losses are judged against the contract
        and prev_valued
        and valued / rows <= prev_valued / prev_rows - RATE_DROP_WARNING
    ):
        expected = f"a value on about {prev_valued / prev_rows:.0%} of rows, as in load {prev_id}"
        return expected, f"a value on {valued} of {rows} rows ({valued / rows:.0%})", False
    return expected, actual, vanished


def _none_of(rows: int, s: FieldStats, *, where: str = "") -> str:
    scope = where or f"the {rows} rows"
    if s.missing == rows:
        return f"no value on any of {scope}: the key is missing from every row"
    if s.null == rows:
        return f"no value on any of {scope}: null on every row"
    return f"no value on any of {scope} ({s.missing} rows without the key, {s.null} null)"


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _probable_rename(name: str, x: FieldExpectation, s: FieldStats, out: EntityOutput) -> str:
    """An unknown key spelled like the vanished field, or else one seen on exactly as many rows as the
    field should have had values on."""
    if not out.unknown_fields:
        return ""
    should = s.when_rows if x.presence == "when" else out.rows
    candidates = [k for k in out.unknown_fields if _normal(k) == _normal(name)] or [
        k for k, n in out.unknown_fields.items() if n == should
    ]
    if not candidates:
        return ""
    found = ", ".join(f"`{k}` on {out.unknown_fields[k]} rows" for k in sorted(candidates))
    return f"probable rename to {found}, kept in _extra"
