"""The recorded upstream responses (`../shared/contract-samples`) and what a test does without them.

A fresh clone with nothing beside it skips what needs them, with the reason. CI sets
REQUIRE_CONTRACT_SAMPLES=1 where ../shared has them, so a samples directory that goes missing there fails
instead of skipping quietly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SAMPLES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "contract-samples"


def find_samples_dir() -> Path | None:
    """../shared/contract-samples, else $CONTRACT_SAMPLES_DIR, if either is a directory."""
    if SAMPLES_DIR.is_dir():
        return SAMPLES_DIR
    env = os.environ.get("CONTRACT_SAMPLES_DIR")
    return Path(env) if env and Path(env).is_dir() else None


def samples_dir() -> Path:
    """The samples directory, or skip (fail under REQUIRE_CONTRACT_SAMPLES=1) naming where it looked."""
    directory = find_samples_dir()
    if directory is None:
        reason = (
            f"recorded cursor-sim samples not found at {SAMPLES_DIR} nor in $CONTRACT_SAMPLES_DIR"
        )
        if os.environ.get("REQUIRE_CONTRACT_SAMPLES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return directory
