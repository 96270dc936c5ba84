"""One consistent DuckDB warehouse: raw and marts of one load, or the previous ones, at every instant.

Readers (the dashboard, `summary`) open the live file. A build never writes it. Under the writer lock
(`warehouse_lock`) it copies the live file into a private directory beside it, keeping the file name (dbt's
catalog name is the file stem, and views refer to it), loads raw and runs dbt on the copy, and only when the
build succeeded replaces the live file with the copy in one rename, which POSIX makes atomic. A reader that
has the old file open keeps its consistent old view; the next reader opens the new one. A failed or killed
build leaves only its building directory, which the next writer removes before it starts.

The copy costs one file copy per build (tens of MB at 50 developers, well under a second) and, for the
length of a build, twice the disk space.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from dbt_runner import duckdb_load
from dbt_runner.load_rules import LoadedState, LoadOutcome
from dbt_runner.warehouse import RawFiles
from dbt_runner.warehouse_lock import writer_lock
from etl_common.errors import EtlError
from etl_common.logs import one_line

log = logging.getLogger(__name__)


class WarehouseError(EtlError):
    """The DuckDB file cannot be read or written (a foreign lock, a bad path, a corrupt file)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def _building_dirs(live: Path) -> list[Path]:
    return sorted(live.parent.glob(f".{live.name}.building*"))


class DuckDBWarehouse:
    """The `Warehouse` on one DuckDB file: builds on a copy, publishes by rename."""

    refreshes_views_after_publish = False

    def __init__(self, live: Path, *, lock_timeout_s: float, threads: int | None = None) -> None:
        self.live = live
        self.lock_timeout_s = lock_timeout_s
        self.threads = threads

    @contextlib.contextmanager
    def writing(self, load_id: str) -> Iterator[None]:
        """Be the one writer: hold the lock, and clear what a killed writer left behind."""
        try:
            self.live.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(
                f"DUCKDB_PATH {self.live}: cannot create its directory: {exc}"
            ) from None
        if self.live.is_dir():
            raise WarehouseError(f"DUCKDB_PATH {self.live} is a directory, not a DuckDB file")
        held = contextlib.ExitStack()
        try:
            held.enter_context(
                writer_lock(self.live, load_id=load_id, timeout_s=self.lock_timeout_s)
            )
        except OSError as exc:
            raise WarehouseError(f"DUCKDB_PATH {self.live}: cannot lock it: {exc}") from None
        with held:
            for stale in _building_dirs(self.live):
                log.warning("removing an unfinished build's copy", extra={"path": str(stale)})
                shutil.rmtree(stale, ignore_errors=True)
            yield

    @property
    def build_copy(self) -> Path:
        """Where every build's copy lives: one writer at a time, so one fixed path, which keeps dbt's
        profile (DUCKDB_PATH) the same from build to build and so its saved parse valid (`dbt_state`)."""
        return self.live.parent / f".{self.live.name}.building" / self.live.name

    def build_env(self) -> dict[str, str]:
        return {"DUCKDB_PATH": str(self.build_copy)}

    def current_load(self) -> LoadedState | None:
        """What the live file holds, read without taking DuckDB's write lock (readers may be open)."""
        if not self.live.exists():
            return None
        wal = self.live.with_name(self.live.name + ".wal")
        try:
            if wal.exists():  # written by something other than a build of ours: fold it in first
                with duckdb.connect(str(self.live)) as con:
                    con.execute("CHECKPOINT")
            with duckdb.connect(str(self.live), read_only=True) as con:
                return duckdb_load.current_load(con)
        except duckdb.Error as exc:
            raise self._error("cannot read", exc) from None

    @contextlib.contextmanager
    def building(self, load_id: str) -> Iterator[DuckDBBuild]:
        """A private copy of the live file to build on; removed afterwards unless published."""
        copy = self.build_copy
        where = copy.parent
        where.mkdir()
        log.debug("building on a copy", extra={"load_id": load_id, "path": str(copy)})
        try:
            if self.live.exists():
                shutil.copyfile(self.live, copy)
            yield DuckDBBuild(self, copy)
        finally:
            shutil.rmtree(where, ignore_errors=True)

    def publish(self, copy: Path) -> None:
        """Make `copy` the live warehouse in one atomic rename, durably."""
        if copy.with_name(copy.name + ".wal").exists():  # every connection is closed by now
            raise WarehouseError(f"{copy}: the build left a write-ahead log; not publishing")
        with open(copy, "rb") as f:
            os.fsync(f.fileno())
        os.replace(copy, self.live)
        fd = os.open(self.live.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _error(self, what: str, exc: duckdb.Error) -> WarehouseError:
        text = one_line(str(exc))
        busy = "lock" in text.lower()
        return WarehouseError(f"{what} the DuckDB warehouse {self.live}: {text}", transient=busy)


class DuckDBBuild:
    """One build's copy of the warehouse file."""

    def __init__(self, warehouse: DuckDBWarehouse, copy: Path) -> None:
        self.warehouse = warehouse
        self.copy = copy

    def replace_raw(self, load: RawFiles, *, previous_load_id: str | None) -> LoadOutcome:
        return duckdb_load.load_raw(
            self.copy,
            load.manifest,
            load.manifest_uri,
            load.manifest_sha256,
            load.files,
            previous_load_id=previous_load_id,
            threads=self.warehouse.threads,
        )

    def dbt_env(self) -> dict[str, str]:
        return self.warehouse.build_env()

    def publish(self, load_id: str, counts: dict[str, int]) -> None:
        duckdb_load.mark_built(self.copy, load_id, counts)
        self.warehouse.publish(self.copy)
