"""The marts agree with a recomputation from raw.* in plain Python (independent_marts.py)."""

from __future__ import annotations

import pytest

from .conftest import BuiltWarehouse
from .independent_marts import compare

pytestmark = pytest.mark.slow


def _check(wh: BuiltWarehouse) -> None:
    assert wh.build.returncode == 0, wh.build.stdout[-3000:]
    report = compare(wh.db_path)
    print(f"\n{wh.name}: rows {report.rows_actual}, columns {report.columns_checked}")
    assert report.rows_expected == report.rows_actual
    assert report.mismatches == []
    assert all(n > 0 for n in report.rows_actual.values())


def test_edge_marts_match_independent_recomputation(edge_warehouse: BuiltWarehouse) -> None:
    _check(edge_warehouse)


def test_sample_marts_match_independent_recomputation(samples_warehouse: BuiltWarehouse) -> None:
    _check(samples_warehouse)


def test_generated_50_marts_match_independent_recomputation(
    generated_50_warehouse: BuiltWarehouse,
) -> None:
    _check(generated_50_warehouse)


def test_generated_2_marts_match_independent_recomputation(
    generated_2_warehouse: BuiltWarehouse,
) -> None:
    _check(generated_2_warehouse)
