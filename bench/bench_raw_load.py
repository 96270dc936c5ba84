"""Raw-load benchmark: 1,000,000 rows per table (generated Parquet in the real raw schemas) into DuckDB.

Ours (`dbt_runner.duckdb_load.load_raw`: all four tables in one transaction, row counts checked, bookkeeping
row) beside the straightforward baseline (one autocommitted `CREATE OR REPLACE TABLE ... AS SELECT * FROM
read_parquet(...)` per file), in the same run, each in a fresh database file and a fresh process so peak RSS
is the load's own.

    .venv/bin/python bench/bench_raw_load.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

# the repository root, for tests.local_load (the same load layout the tests write)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl_common.layout import new_load_id
from etl_common.schemas import ENTITIES, raw_schema
from tests.local_load import write_local_load

# Realistic shapes and cardinalities; values are synthetic. Column order follows the raw schemas.
GENERATORS = {
    "commits": """
        SELECT lpad(to_hex(i), 12, '0') AS "commitHash", 'user_' || (i % 200) AS "userId",
          'dev' || (i % 200) || '@example.com' AS "userEmail", 'Dev ' || (i % 200) AS "userName",
          'acme/repo-' || (i % 50) AS "repoName", CASE WHEN i % 3 = 0 THEN 'main' ELSE 'feature/task-' || (i % 997) END AS "branchName",
          i % 2 = 0 AS "isPrimaryBranch", 20 + i % 1700 AS "totalLinesAdded", 1 + i % 90 AS "totalLinesDeleted",
          i % 700 AS "tabLinesAdded", i % 50 AS "tabLinesDeleted", i % 500 AS "composerLinesAdded", i % 30 AS "composerLinesDeleted",
          20 + i % 500 AS "nonAiLinesAdded", 1 AS "nonAiLinesDeleted", 'feat({{ component }}): implement ' || (i % 400) AS message,
          TIMESTAMP '2026-09-01' + INTERVAL (i * 7) SECOND AS "commitTs", TIMESTAMP '2026-09-01' + INTERVAL (i * 7) SECOND AS "createdAt",
          'L' AS _load_id, TIMESTAMP '2026-11-30' AS _extracted_at, NULL::VARCHAR AS _extra
        FROM range({n}) t(i)""",
    "pull_requests": """
        SELECT i + 1 AS id, i + 1 AS number, 'fix: resolve ' || (i % 300) AS title, 'Auto-generated PR from 1 commits' AS body,
          CASE WHEN i % 20 = 0 THEN 'open' WHEN i % 10 = 1 THEN 'closed' ELSE 'merged' END AS state,
          'user_' || (i % 200) AS author_id, 'dev' || (i % 200) || '@example.com' AS author_email, 'Dev ' || (i % 200) AS author_name,
          'acme/repo-' || (i % 50) AS repo_name, 'main' AS base_branch, 'feature/task-' || (i % 997) AS head_branch,
          NULL::VARCHAR[] AS reviewers, NULL::VARCHAR[] AS labels, 20 + i % 1700 AS additions, 1 + i % 90 AS deletions,
          0 AS initial_additions, 0 AS changed_files, 1 AS commit_count, (i % 1000) / 1000.0 AS ai_ratio,
          i % 700 AS tab_lines, i % 500 AS composer_lines, [lpad(to_hex(i), 12, '0')] AS commit_ids,
          TIMESTAMP '2026-09-01' + INTERVAL (i * 7) SECOND AS created_at, TIMESTAMP '2026-09-01' + INTERVAL (i * 7 + 600) SECOND AS updated_at,
          CASE WHEN i % 20 > 1 THEN TIMESTAMP '2026-09-03' + INTERVAL (i * 7) SECOND END AS merged_at,
          CASE WHEN i % 10 = 1 THEN TIMESTAMP '2026-09-05' + INTERVAL (i * 7) SECOND END AS closed_at,
          false AS was_reverted, false AS is_bug_fix,
          'L' AS _load_id, TIMESTAMP '2026-11-30' AS _extracted_at, NULL::VARCHAR AS _extra
        FROM range({n}) t(i)""",
    "reviews": """
        SELECT i + 1 AS id, i // 2 + 1 AS pr_id, 'dev' || (i % 199) || '@example.com' AS reviewer,
          CASE WHEN i % 10 < 7 THEN 'approved' WHEN i % 10 < 9 THEN 'changes_requested' ELSE 'pending' END AS state,
          TIMESTAMP '2026-09-02' + INTERVAL (i * 3) SECOND AS submitted_at, 'LGTM!' AS body,
          CASE WHEN i % 10 >= 7 THEN [{'id': i, 'pr_number': i // 2 + 1, 'repo_name': 'acme/repo-' || (i % 50),
               'author_id': 'dev' || (i % 199) || '@example.com', 'body': 'Could we use a helper here?',
               'state': 'changes_requested', 'created_at': TIMESTAMP '2026-09-02' + INTERVAL (i * 3) SECOND}] END AS comments,
          'L' AS _load_id, TIMESTAMP '2026-11-30' AS _extracted_at, NULL::VARCHAR AS _extra
        FROM range({n}) t(i)""",
    "repos": """
        SELECT 'acme/repo-' || i AS full_name, 'main' AS default_branch, i % 40 AS open_pull_requests_count,
          800 + i % 100 AS total_pull_requests_count,
          'L' AS _load_id, TIMESTAMP '2026-11-30' AS _extracted_at, NULL::VARCHAR AS _extra
        FROM range({n}) t(i)""",
}


def generate(root: Path, rows: int) -> Path:
    """Write one Parquet file per entity (zstd, 50k-row groups, as the loader does) and a manifest."""
    con = duckdb.connect()
    tables = {}
    for entity in ENTITIES:
        n = (
            rows if entity != "repos" else 1_000
        )  # repos are few in reality; a million would be absurd
        sql = GENERATORS[entity].replace("{n}", str(n))
        tables[entity] = con.sql(sql).to_arrow_table().cast(raw_schema(entity))
    return write_local_load(
        root,
        new_load_id(),
        tables,
        extracted_at=datetime.now(UTC),
        source_url="bench",
        compression="zstd",
        row_group_size=50_000,
    )


CHILD = """
import json, resource, sys, time
from pathlib import Path
import duckdb
mode, manifest_path, db = sys.argv[1:4]
from etl_common.manifest import Manifest
m = Manifest.parse(Path(manifest_path).read_bytes())
root = Path(manifest_path).parent.parent
files = {e: [root / f.path for f in o.files] for e, o in m.entities.items()}
t0 = time.perf_counter()
if mode == "ours":
    from dbt_runner.duckdb_load import load_raw
    load_raw(Path(db), m, manifest_path, "0" * 64, files, threads=2)
else:
    con = duckdb.connect(db)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for e, paths in files.items():
        for p in paths:
            con.execute(f"CREATE OR REPLACE TABLE raw.{e} AS SELECT * FROM read_parquet('{p}')")
    con.close()
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(mode: str, manifest: Path, db: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(manifest), str(db)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = generate(root / "bucket", args.rows)
        size = sum(p.stat().st_size for p in (root / "bucket").rglob("*.parquet"))
        results: dict[str, list[dict[str, float]]] = {"baseline": [], "ours": []}
        for i in range(args.repeat):
            for mode in ("baseline", "ours"):  # alternate, so drift hurts both alike
                results[mode].append(measure(mode, manifest, root / f"{mode}-{i}.duckdb"))
    print(
        f"\nRaw load into DuckDB: {args.rows:,} rows each for commits, pull_requests, reviews "
        f"(+1,000 repos), {size / 1e6:.0f} MB of Parquet; best of {args.repeat}, fresh process each"
    )
    print(f"{'variant':<34} {'seconds':>8} {'peak RSS MB':>12}")
    best = {m: min(r, key=lambda x: x["seconds"]) for m, r in results.items()}
    names = {
        "baseline": "baseline: per-file CREATE OR REPLACE",
        "ours": "ours: one transaction + checks",
    }
    for mode in ("baseline", "ours"):
        print(f"{names[mode]:<34} {best[mode]['seconds']:>8.2f} {best[mode]['rss_mb']:>12.0f}")
    print(f"ours / baseline time: {best['ours']['seconds'] / best['baseline']['seconds']:.2f}")


if __name__ == "__main__":
    main()
