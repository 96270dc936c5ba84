"""Session fixtures: one raw DuckDB file and one `dbt build` per dataset, shared by every test of that data."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..samples import samples_dir
from .dbt_harness import DbtRun, run_dbt
from .edge_cases import edge_records
from .raw_fixtures import (
    Records,
    build_raw_duckdb,
    generate_available,
    generated_records,
    sample_records,
)

STRICT = ["--vars", "{relationship_severity: error}"]


@dataclass
class BuiltWarehouse:
    name: str
    db_path: Path
    raw_counts: dict[str, int]
    build: DbtRun
    work_dir: Path


def build_warehouse(
    tmp_root: Path, name: str, records: Records, extra_args: list[str]
) -> BuiltWarehouse:
    work = tmp_root / name
    work.mkdir(parents=True, exist_ok=True)
    db = work / "warehouse.duckdb"
    counts = build_raw_duckdb(db, records)
    run = run_dbt(["build", *extra_args], work_dir=work, db_path=db)
    return BuiltWarehouse(name, db, counts, run, work)


@pytest.fixture(scope="session")
def dbt_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbt")


@pytest.fixture(scope="session")
def edge_warehouse(dbt_tmp: Path) -> BuiltWarehouse:
    return build_warehouse(dbt_tmp, "edge", edge_records(), STRICT)


@pytest.fixture(scope="session")
def samples_warehouse(dbt_tmp: Path) -> BuiltWarehouse:
    # partial extracts: relationship tests stay at their default severity (warn)
    return build_warehouse(dbt_tmp, "samples", sample_records(samples_dir()), [])


def _generated(dbt_tmp: Path, developers: int) -> BuiltWarehouse:
    if not generate_available():
        pytest.skip("fake_cursor_sim.data.generate is not available yet")
    return build_warehouse(
        dbt_tmp, f"generated_{developers}", generated_records(developers), STRICT
    )


@pytest.fixture(scope="session")
def generated_2_warehouse(dbt_tmp: Path) -> BuiltWarehouse:
    return _generated(dbt_tmp, 2)


@pytest.fixture(scope="session")
def generated_50_warehouse(dbt_tmp: Path) -> BuiltWarehouse:
    return _generated(dbt_tmp, 50)


@pytest.fixture
def copy_of(tmp_path: Path):
    def _copy(warehouse: BuiltWarehouse) -> Path:
        dest = tmp_path / "copy.duckdb"
        shutil.copy(warehouse.db_path, dest)
        return dest

    return _copy
