"""The dbt-runner's settings, from the environment only."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from etl_common.errors import ConfigError
from etl_common.settings import load_settings


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DBT_RUNNER_", extra="ignore")

    target: Literal["dev", "prod"] = "dev"
    duckdb_path: Path = Field(
        default=Path("data/warehouse.duckdb"),
        validation_alias=AliasChoices("DUCKDB_PATH", "DBT_RUNNER_DUCKDB_PATH"),
    )
    project_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("DBT_PROJECT_DIR", "DBT_RUNNER_PROJECT_DIR")
    )
    work_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "dbt-runner",
        description="dbt's target/ and logs/ (the project itself may be read-only)",
    )
    manifest_root: str | None = Field(
        default=None,
        description="The bucket prefix (gs://bucket/prefix) or directory manifests must come from; "
        "anything elsewhere is refused. Unset: any root (development).",
    )
    shipped_state: Path | None = Field(
        default=None,
        description="dbt state parsed at image build time (`python -m dbt_runner parse`); a build's "
        "first parse starts from it when its project and environment match",
    )
    unit_tests: bool = Field(
        default=False,
        description="Also run the dbt unit tests (they check the SQL, not the data: make test and CI "
        "run them on every change)",
    )
    warm_start: bool = Field(
        default=True,
        description="Service: import dbt and parse the project in the background once ready",
    )
    threads: int = Field(default=2, ge=1, le=32)
    probe_ttl_s: float = Field(default=5.0, ge=0, description="How long /readyz reuses a check")
    probe_timeout_s: float = Field(default=3.0, gt=0, description="A check slower than this fails")
    lock_timeout_s: float = Field(
        default=600.0,
        ge=0,
        description="How long a build waits for another build of the same DuckDB file to finish",
    )
    log_level: str = "INFO"

    def dbt_project(self) -> Path:
        """The dbt project: DBT_PROJECT_DIR, else `dbt/` beside the working directory or the repo."""
        candidates = (
            [self.project_dir]
            if self.project_dir
            else [Path.cwd() / "dbt", Path(__file__).resolve().parents[4] / "dbt"]
        )
        for c in candidates:
            if c is not None and (c / "dbt_project.yml").is_file():
                return c.resolve()
        raise ConfigError(f"DBT_PROJECT_DIR: no dbt_project.yml in {[str(c) for c in candidates]}")


@lru_cache
def get_settings() -> RunnerSettings:
    return load_settings(RunnerSettings)
