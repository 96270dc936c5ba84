"""Per-entity Parquet sinks: typed, de-duplicated on the natural key, streamed in row groups.

Pages arrive in any order from concurrent fetches. Each page is converted to Arrow at once (so a schema
violation surfaces on the page that caused it), filtered against the keys already written, and buffered until
a row group's worth is ready; only the key set and one buffer stay in memory, so memory is flat as data grows.
Files are written to a local staging directory and published to the store after the last row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl_common.checksums import sha256_file
from etl_common.records import ConversionReport, to_arrow
from etl_common.schemas import NATURAL_KEYS, raw_schema, schema_fingerprint


@dataclass
class WrittenFile:
    local_path: Path
    key: str
    rows: int
    bytes: int
    sha256: str


@dataclass
class EntitySink:
    entity: str
    staging_dir: Path
    key_prefix: str  # `<load_id>/<entity>`
    load_id: str
    extracted_at_ns: int
    row_group_rows: int = 50_000
    report: ConversionReport = field(default_factory=ConversionReport)
    rows_written: int = 0
    duplicates: int = 0
    _seen: set[Any] = field(default_factory=set)
    _buffer: list[pa.Table] = field(default_factory=list)
    _buffered_rows: int = 0
    _writer: pq.ParquetWriter | None = None
    _path: Path | None = None
    # Columns the verifier needs after the run, gathered as rows stream past.
    collected: dict[str, list[Any]] = field(default_factory=dict)
    collect_columns: Sequence[str] = ()

    @property
    def schema(self) -> pa.Schema:
        return raw_schema(self.entity)

    def add(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Convert, de-duplicate and buffer one page; returns how many new rows it contributed."""
        if not records:
            return 0
        page = ConversionReport()
        table = to_arrow(
            self.entity,
            records,
            load_id=self.load_id,
            extracted_at_ns=self.extracted_at_ns,
            report=page,
        )
        keys = table.column(NATURAL_KEYS[self.entity]).to_pylist()
        keep = []
        for i, key in enumerate(keys):
            if key in self._seen:
                self.duplicates += 1
            else:
                self._seen.add(key)
                keep.append(i)
        if len(keep) < len(keys):
            table = table.take(pa.array(keep, pa.int64()))
            # the report describes the rows written, so duplicates are counted out
            page = ConversionReport.of(self.entity, [records[i] for i in keep])
        self.report.merge(page)
        for name in self.collect_columns:
            self.collected.setdefault(name, []).extend(table.column(name).to_pylist())
        self._buffer.append(table)
        self._buffered_rows += table.num_rows
        if self._buffered_rows >= self.row_group_rows:
            self._flush()
        # pyarrow has no type stubs: its num_rows is Any to mypy
        return int(table.num_rows)

    @property
    def keys(self) -> set[Any]:
        return self._seen

    @property
    def rows_seen(self) -> int:
        """Distinct rows accepted so far (written or still buffered)."""
        return len(self._seen)

    def _flush(self) -> None:
        if not self._buffer:
            return
        table = pa.concat_tables(self._buffer)
        self._buffer.clear()
        self._buffered_rows = 0
        if self._writer is None:
            self._path = self.staging_dir / self.key_prefix / "part-00000.parquet"
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._path, self.schema, compression="zstd")
        self._writer.write_table(_sorted(self.entity, table), row_group_size=self.row_group_rows)
        self.rows_written += table.num_rows

    def close(self) -> WrittenFile:
        """Flush and close; an entity with no rows still gets a (valid, empty) file."""
        self._flush()
        if self._writer is None:
            self._path = self.staging_dir / self.key_prefix / "part-00000.parquet"
            self._path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(self.schema.empty_table(), self._path, compression="zstd")
        else:
            self._writer.close()
        assert self._path is not None
        return WrittenFile(
            local_path=self._path,
            key=f"{self.key_prefix}/{self._path.name}",
            rows=self.rows_written,
            bytes=self._path.stat().st_size,
            sha256=sha256_file(self._path),
        )

    def fingerprint(self) -> str:
        return schema_fingerprint(self.schema)


def _sorted(entity: str, table: pa.Table) -> pa.Table:
    """Rows in key order within a row group: deterministic files and better compression."""
    return table.take(pc.sort_indices(table, [(NATURAL_KEYS[entity], "ascending")]))
