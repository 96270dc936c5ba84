"""The warehouse interface: what a build asks of an engine, so that one path (`run.py`) drives DuckDB and
Snowflake alike and the load rules are applied once.

A build holds the warehouse for writing, reads the load it holds now, and, unless that load is already
built, fills a private place (DuckDB: a copy of the file; Snowflake: a schema set) with this load's raw
tables, runs dbt there, and publishes it in one step. Readers see the live warehouse only: raw and marts of
one load, or of the previous one. Leaving `building` without a publish discards the private place.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from dbt_runner.load_rules import LoadedState, LoadOutcome
from etl_common.manifest import Manifest


class RawFiles(Protocol):
    """One verified load's files (`manifest_check.VerifiedLoad` is one)."""

    @property
    def manifest(self) -> Manifest: ...
    @property
    def manifest_uri(self) -> str: ...
    @property
    def manifest_sha256(self) -> str: ...
    @property
    def files(self) -> dict[str, list[Path]]:
        """entity -> local Parquet paths, in manifest order"""
        ...


class Build(Protocol):
    """The private place one build fills before anything is published."""

    def replace_raw(self, load: RawFiles, *, previous_load_id: str | None) -> LoadOutcome:
        """Every raw table replaced by this load's, row counts checked, its `_loads` row added
        (`building`), all or nothing."""
        ...

    def dbt_env(self) -> dict[str, str]:
        """What `dbt build` needs in its environment to build here rather than on the live warehouse."""
        ...

    def publish(self, load_id: str, counts: dict[str, int]) -> None:
        """Mark the green build on its `_loads` row and make raw and marts live at once."""
        ...


class Warehouse(Protocol):
    # Snowflake's staging views read raw by name, so after a publish they are re-created to pick up a
    # changed definition; DuckDB's copy carries the views it was built with.
    refreshes_views_after_publish: bool

    def writing(self, load_id: str) -> AbstractContextManager[None]:
        """Be the one writer for the length of the block."""
        ...

    def current_load(self) -> LoadedState | None:
        """The load the live warehouse holds, without disturbing its readers."""
        ...

    def building(self, load_id: str) -> AbstractContextManager[Build]:
        """A private place to build `load_id`; discarded afterwards unless published."""
        ...

    def build_env(self) -> dict[str, str]:
        """What dbt's environment will be in a build, as far as it is known before one starts (for a
        parse ahead of the build that finds its saved parse valid)."""
        ...
