"""One fakesnow server per session (free loopback port, always stopped) and one built pair per dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..dbt.dbt_harness import fakesnow_server
from ..dbt.edge_cases import edge_records
from ..dbt.raw_fixtures import generate_available, generated_records
from .harness import BuiltPair, build_both


@pytest.fixture(scope="session")
def sf_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("snowflake")


@pytest.fixture(scope="session")
def fakesnow_port(sf_tmp: Path) -> Iterator[int]:
    with fakesnow_server(sf_tmp / "fakesnow.log") as port:
        yield port


@pytest.fixture(scope="session")
def edge_pair(sf_tmp: Path, fakesnow_port: int) -> BuiltPair:
    # each pair gets its own database so datasets never meet in `raw`
    return build_both(
        sf_tmp / "edge", fakesnow_port, "edge", edge_records(), "20270101T000000Z-0e0e0e", "edge_db"
    )


@pytest.fixture(scope="session")
def generated_50_pair(sf_tmp: Path, fakesnow_port: int) -> BuiltPair:
    if not generate_available():
        pytest.skip("fake_cursor_sim.data.generate is not available")
    return build_both(
        sf_tmp / "gen50",
        fakesnow_port,
        "generated_50",
        generated_records(50),
        "20270101T000000Z-050050",
        "gen50_db",
    )
