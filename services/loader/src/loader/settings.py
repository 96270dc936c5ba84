"""The loader's settings, from the environment only (never argv for secrets)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from etl_common.settings import DEFAULT_SOURCE_API_KEY, load_settings


class LoaderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOADER_", extra="ignore")

    source_url: str = Field(
        default="http://127.0.0.1:8080",
        validation_alias=AliasChoices("CURSOR_SIM_URL", "LOADER_SOURCE_URL"),
        description="Base URL of cursor-sim",
    )
    api_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SOURCE_API_KEY),
        validation_alias=AliasChoices("CURSOR_SIM_API_KEY", "LOADER_API_KEY"),
    )
    output: str = Field(default="data/raw", description="Local directory or gs://bucket/prefix")
    rate_limit_per_minute: float = Field(
        default=100, gt=0, description="The upstream's global limit"
    )
    concurrency: int = Field(default=6, ge=1, le=64)
    timeout_s: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=20)
    row_group_rows: int = Field(default=50_000, ge=1_000)
    orphan_grace_s: float = Field(
        default=3600,
        ge=0,
        description="Objects under a load prefix without a manifest are deleted once the load id is "
        "this old (after a successful load); long enough for any other loader still publishing",
    )
    staging_grace_s: float = Field(
        default=3600,
        ge=0,
        description="A TMPDIR/loader-* directory whose owner cannot be checked (no marker, another "
        "host) is swept at start once this old; one whose owner process is gone is swept at once",
    )
    log_level: str = "INFO"


@lru_cache
def get_settings() -> LoaderSettings:
    return load_settings(LoaderSettings)
