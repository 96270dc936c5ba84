"""A load laid out as the loader lays it out, from tables already in hand: for tests and benchmarks that
need a manifest and its Parquet files without running an extraction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl_common.checksums import sha256_file
from etl_common.layout import manifest_key
from etl_common.manifest import DataFile, EntityOutput, Manifest, SourceInfo
from etl_common.schemas import raw_schema, schema_fingerprint


def write_local_load(
    root: Path,
    load_id: str,
    tables: Mapping[str, pa.Table],
    *,
    extracted_at: datetime,
    source_url: str,
    **parquet_options: Any,
) -> Path:
    """`root/<load_id>/<entity>/part-00000.parquet` per table, then the manifest last
    (`root/manifests/<load_id>.json`) with sizes, checksums and schema fingerprints; returns its path."""
    entities = {}
    for entity, table in tables.items():
        key = f"{load_id}/{entity}/part-00000.parquet"
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, **parquet_options)
        entities[entity] = EntityOutput(
            rows=table.num_rows,
            schema_fingerprint=schema_fingerprint(raw_schema(entity)),
            files=[
                DataFile(
                    path=key,
                    rows=table.num_rows,
                    bytes=path.stat().st_size,
                    sha256=sha256_file(path),
                )
            ],
        )
    manifest = Manifest(
        load_id=load_id,
        created_at=extracted_at,
        extracted_at=extracted_at,
        source=SourceInfo(url=source_url),
        window={},
        entities=entities,
    )
    out = root / manifest_key(load_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(manifest.to_json())
    return out
