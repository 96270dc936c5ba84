"""Raw-layer DuckDB files for the dbt tests, built exactly as the loader delivers them.

Each builder turns upstream wire-format records into the Arrow tables of `etl_common.schemas.raw_schema` (via
`etl_common.records.to_arrow`) and loads them as `raw.commits`, `raw.pull_requests`, `raw.reviews`,
`raw.repos`. Three sources of records:
- `sample_records()`: the recorded upstream responses in ../shared/contract-samples/ (partial: the PRs'
  commits and the reviews' PRs are mostly not in the sample, so relationships do not hold);
- `edge_cases.edge_records()`: a tiny hand-made dataset for the cases the marts must get right (nulls, negative coding
  lead time, Sunday/Monday and year boundaries, PRs without reviews, arrays null, empty and present);
- `generated_records(...)`: the cursor-sim double (`fake_cursor_sim.data.generate`), when it is importable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from etl_common.records import to_arrow
from etl_common.schemas import ENTITIES, NATURAL_KEYS

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTRACTED_AT_NS = 1_798_761_600_000_000_000  # 2027-01-01T00:00:00Z, a fixed lineage stamp

Records = dict[str, list[dict[str, Any]]]

_SAMPLE_FILES: dict[str, tuple[str, ...]] = {
    "commits": ("analytics_ai-code_commits.page1.json",),
    "pull_requests": (
        "analytics_github_prs.author_partition_200dev.json",
        "analytics_github_prs.page1.json",
        "repos_owner_repo_pulls.page1.json",
    ),
    "reviews": (
        "analytics_github_reviews.reviewer_partition_200dev.json",
        "analytics_github_reviews.page1.json",
    ),
    "repos": ("repos.json",),
}


def _unwrap(body: Any) -> list[dict[str, Any]]:
    """The records of any of the upstream's three response shapes (items / data wrappers, raw arrays)."""
    if isinstance(body, list):
        return body
    for key in ("items", "data"):
        if isinstance(body, dict) and isinstance(body.get(key), list):
            return body[key]
    raise ValueError(f"not a list response: {str(body)[:200]}")


def _dedupe(entity: str, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """First record per natural key wins, as the loader does (samples from two runs reuse ids)."""
    key = NATURAL_KEYS[entity]
    seen: dict[Any, dict[str, Any]] = {}
    for record in records:
        seen.setdefault(record[key], dict(record))
    return list(seen.values())


def sample_records(samples_dir: Path) -> Records:
    """The recorded upstream samples, de-duplicated per entity."""
    out: Records = {}
    for entity, files in _SAMPLE_FILES.items():
        rows: list[dict[str, Any]] = []
        for name in files:
            rows.extend(_unwrap(json.loads((samples_dir / name).read_text())))
        out[entity] = _dedupe(entity, rows)
    return out


def generate_available() -> bool:
    try:
        from fake_cursor_sim.data import generate  # noqa: F401
    except ImportError:
        return False
    return True


def generated_records(developers: int, days: int = 90, seed: int = 42) -> Records:
    """Records from the cursor-sim double; ImportError when it is not there yet."""
    from fake_cursor_sim.data import generate

    dataset = generate(developers, days, seed)
    return {entity: list(getattr(dataset, entity)) for entity in ENTITIES}


def without_field(records: Records, entity: str, field: str) -> Records:
    """A copy of `records` in which no `entity` record carries `field`: an upstream that dropped the field
    (or renamed it: the loader keeps an unknown key in `_extra`, so the raw column is null either way)."""
    out = {name: [dict(r) for r in rows] for name, rows in records.items()}
    for record in out[entity]:
        record.pop(field, None)
    return out


def without_merged_prs(records: Records) -> Records:
    """A copy of `records` without the PRs in state `merged` and their reviews: a small dataset in which the
    marts built from merged PRs are legitimately empty."""
    prs = [dict(r) for r in records["pull_requests"] if r["state"] != "merged"]
    kept = {r["id"] for r in prs}
    return {
        **{name: [dict(r) for r in rows] for name, rows in records.items()},
        "pull_requests": prs,
        "reviews": [dict(r) for r in records["reviews"] if r["pr_id"] in kept],
    }


def build_raw_duckdb(path: Path, records: Records, load_id: str = "test-load") -> dict[str, int]:
    """Create (or replace) the raw schema in the DuckDB file at `path`; returns the row count per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists raw")
        for entity in ENTITIES:
            table = to_arrow(
                entity, records.get(entity, []), load_id=load_id, extracted_at_ns=EXTRACTED_AT_NS
            )
            con.register("arrow_table", table)
            con.execute(f"create or replace table raw.{entity} as select * from arrow_table")
            con.unregister("arrow_table")
            counts[entity] = table.num_rows
    finally:
        con.close()
    return counts


if (
    __name__ == "__main__"
):  # manual use: python -m tests.dbt.raw_fixtures samples|edge|gen:N OUT.duckdb
    import sys

    kind, out = sys.argv[1], Path(sys.argv[2])
    if kind == "samples":
        from ..samples import SAMPLES_DIR

        recs = sample_records(SAMPLES_DIR)
    elif kind == "edge":
        from .edge_cases import edge_records

        recs = edge_records()
    else:
        recs = generated_records(int(kind.split(":")[1]))
    print(build_raw_duckdb(out, recs))
