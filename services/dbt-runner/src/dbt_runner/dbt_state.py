"""Where dbt keeps its state between builds, so that every build after the first parses partially.

dbt saves its parse in `<target-path>/partial_parse.msgpack` and reuses it when the project's files (by
content), the CLI vars, the target and the profile's rendered connection values are as they were; anything
else makes it parse from scratch, which is always correct. Builds therefore keep one target directory per
target and project version (`<work_dir>/state/<target>-<fingerprint>`): a changed project gets a new one
(older ones are removed) instead of relying on dbt to patch its saved parse across a project change.

A new directory starts from the state shipped in the image (`shipped_state`, written by
`python -m dbt_runner parse` at build time) when that has one for the same key, so a cold job does not parse
from scratch; dbt still checks that saved parse against what it finds and reparses when they differ.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from importlib.metadata import version
from pathlib import Path

log = logging.getLogger(__name__)
PARTIAL_PARSE = "partial_parse.msgpack"
_NOT_PROJECT = {"target", "logs", "dbt_packages", "__pycache__"}


def project_fingerprint(project_dir: Path) -> str:
    """A short hash of dbt's version and every project file's path and content."""
    digest = hashlib.sha256(version("dbt-core").encode())
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if path.is_file() and not _NOT_PROJECT.intersection(relative.parts):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def state_dir(
    work_dir: Path, project_dir: Path, target: str, *, shipped: Path | None = None
) -> Path:
    """The target directory for builds of this project version on `target`, made ready for use."""
    key = f"{target}-{project_fingerprint(project_dir)}"
    root = work_dir / "state"
    here = root / key
    if here.is_dir():
        return here
    here.mkdir(parents=True, exist_ok=True)
    seed = shipped / key / PARTIAL_PARSE if shipped else None
    if seed is not None and seed.is_file() and not (here / PARTIAL_PARSE).exists():
        shutil.copyfile(seed, here / f".{PARTIAL_PARSE}.seeding")
        (here / f".{PARTIAL_PARSE}.seeding").replace(here / PARTIAL_PARSE)
        log.info("dbt state seeded from the image", extra={"state": key})
    for old in root.glob(f"{target}-*"):  # earlier project versions
        if old != here:
            shutil.rmtree(old, ignore_errors=True)
    return here
