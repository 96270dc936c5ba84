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
    log_level: str = "INFO"


@lru_cache
def get_settings() -> LoaderSettings:
    return load_settings(LoaderSettings)
