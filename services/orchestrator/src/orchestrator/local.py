"""`make pipeline`: the whole pipeline on one machine, with an embedded default for everything missing.

Starts what is not given, on free loopback ports, and stops it on every exit path (Ctrl-C included):
- the cursor-sim double, unless CURSOR_SIM_URL names a running upstream;
- a fake-gcs-server bucket from the PyPI wheel, unless PIPELINE_OUTPUT names a directory or gs:// prefix.
Then it runs the loader and the dbt-runner in sequence, in this process, and prints a summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from etl_common.errors import EtlError
from etl_common.settings import DEFAULT_SOURCE_API_KEY

DEFAULT_BUCKET = "cursor-analytics"


@dataclass(frozen=True)
class PipelineOptions:
    developers: int = 2
    seed: int = 42
    rate_limit_per_minute: int = 100
    duckdb_path: Path = Path("data/warehouse.duckdb")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _source(opts: PipelineOptions) -> Iterator[str]:
    url = os.environ.get("CURSOR_SIM_URL")
    if url:
        say(f"source: {url} (CURSOR_SIM_URL)")
        yield url
        return
    from fake_cursor_sim.testing import (
        run_double,  # a dev tool: only imported for the embedded default
    )

    say(
        f"notice: CURSOR_SIM_URL is not set; starting the cursor-sim double ({opts.developers} developers,"
        f" 90 days, seed {opts.seed}, {opts.rate_limit_per_minute} requests/minute like the upstream)"
    )
    with run_double(
        developers=opts.developers,
        days=90,
        seed=opts.seed,
        rate_limit_per_minute=opts.rate_limit_per_minute,
    ) as url:
        say(f"source: {url}")
        yield url


@contextlib.contextmanager
def _bucket() -> Iterator[str]:
    output = os.environ.get("PIPELINE_OUTPUT")
    if output:
        yield output
        return
    from etl_common.gcs_emulator import run_fake_gcs

    with run_fake_gcs(buckets=(DEFAULT_BUCKET,)) as endpoint:
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = endpoint
        say(f"bucket: gs://{DEFAULT_BUCKET} on fake-gcs-server at {endpoint}")
        try:
            yield f"gs://{DEFAULT_BUCKET}/raw"
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous


def run_pipeline(opts: PipelineOptions) -> int:
    from dbt_runner.run import run_manifest
    from dbt_runner.settings import RunnerSettings
    from loader.run import ExtractRequest, extract

    t0 = time.monotonic()
    with _source(opts) as url, _bucket() as output:
        say("step 1/2: extract")
        api_key = os.environ.get("CURSOR_SIM_API_KEY", DEFAULT_SOURCE_API_KEY)
        try:
            extracted = asyncio.run(
                extract(
                    ExtractRequest(
                        source_url=url,
                        api_key=api_key,
                        output=output,
                        rate_limit_per_minute=opts.rate_limit_per_minute,
                    )
                )
            )
        except EtlError as exc:
            say(f"extract failed: {exc}")
            return 1
        m = extracted.manifest
        t_extract = time.monotonic() - t0
        say(
            "  "
            + ", ".join(f"{e} {o.rows:,}" for e, o in m.entities.items())
            + f"; {m.requests['sent']} requests, {m.requests['throttled_429']} throttled; {t_extract:.1f}s"
        )
        say(f"  manifest: {extracted.manifest_uri}")
        say("step 2/2: load raw and dbt build")
        settings = RunnerSettings(duckdb_path=opts.duckdb_path)
        result = run_manifest(extracted.manifest_uri, settings, target="dev")
    t_total = time.monotonic() - t0
    if result.dbt:
        counts = ", ".join(f"{k} {v}" for k, v in result.dbt.counts.items())
        say(
            f"  dbt build: {'passed' if result.dbt.success else 'FAILED'} ({counts}) in {result.dbt.seconds:.1f}s"
        )
    if not result.ok:
        say(f"pipeline failed: {result.error}")
        return 1
    db = opts.duckdb_path.resolve()
    say(
        f"done in {t_total:.1f}s (extract {t_extract:.1f}s, raw load "
        f"{result.raw_load.seconds if result.raw_load else 0:.2f}s, dbt "
        f"{result.dbt.seconds if result.dbt else 0:.1f}s)"
    )
    say(f"warehouse: {db}")
    say(
        f"query it:  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{db}', read_only=True)"
        ".sql('select * from mart.velocity order by week desc limit 10'))\""
    )
    return 0
