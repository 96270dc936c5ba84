"""One real backend (bucket, double, loader, dbt-runner) shared by the orchestrator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Backend, backend


@pytest.fixture(scope="session")
def be(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    with backend(tmp_path_factory.mktemp("orchestrator-backend")) as b:
        yield b


@pytest.fixture
def gcs_env(be: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """Point this test process's google-cloud-storage client at the backend's fake-gcs-server."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", be.gcs)
    return be
