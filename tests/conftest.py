"""Fixtures shared by every test tier. Emulator fixtures start their process only when a test asks."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from dev_stack.gcs_emulator import run_fake_gcs

GCS_TEST_BUCKET = "test-bucket"


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[str]:
    """Base URL of one fake-gcs-server (memory backend) for the session, with `test-bucket`."""
    with run_fake_gcs(buckets=(GCS_TEST_BUCKET,)) as base_url:
        yield base_url


@pytest.fixture
def gcs_bucket_uri(gcs_emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh `gs://test-bucket/<random prefix>`; google-cloud-storage is pointed at the emulator."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    yield f"gs://{GCS_TEST_BUCKET}/t-{secrets.token_hex(6)}"
