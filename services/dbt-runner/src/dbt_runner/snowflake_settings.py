"""Snowflake connection and raw-load settings, read with the names `dbt/profiles.yml` uses.

The password comes from `DBT_ENV_SECRET_SNOWFLAKE_PASSWORD` (a name dbt scrubs from its logs) and stays a
`SecretStr`: it is revealed only when the connection is opened. `SNOWFLAKE_HOST/PORT/PROTOCOL` are optional
and let an emulator (fakesnow) stand in; the profile's "unset" values (`''`, `0`) count as unset here too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from etl_common.errors import ConfigError

PASSWORD_ENV = "DBT_ENV_SECRET_SNOWFLAKE_PASSWORD"


class SnowflakeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SNOWFLAKE_", extra="ignore", populate_by_name=True
    )

    account: str
    user: str
    password: SecretStr = Field(validation_alias=PASSWORD_ENV)
    role: str
    database: str
    warehouse: str
    host: str | None = None
    port: int | None = None
    protocol: Literal["https", "http"] | None = None

    raw_stage: Literal["internal", "gcs"] = Field(
        default="internal",
        description="internal: PUT the verified local files to a temporary internal stage; gcs: COPY "
        "straight from the loader's bucket through the external stage in infra/snowflake/",
    )
    gcs_stage: str = Field(
        default="loading.raw_gcs",
        description="the external stage (schema.name in SNOWFLAKE_DATABASE) whose URL is gcs://<bucket>/",
    )
    login_timeout_s: int = Field(default=60, ge=1)
    # Bounds every request *including the connector's retries* (HTTP 5xx are retried until it runs out).
    network_timeout_s: int = Field(default=900, ge=1)
    statement_timeout_s: int = Field(default=1800, ge=1)
    fakesnow_compat: bool = Field(
        default=False,
        description="the emulator's concessions (see dbt/README.md); never set it for real Snowflake",
    )

    @field_validator("host", "protocol", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: Any) -> Any:
        return None if v == "" else v

    @field_validator("port", mode="before")
    @classmethod
    def _zero_is_unset(cls, v: Any) -> Any:
        return None if v in ("", "0", 0) else v


def load_snowflake_settings(**overrides: object) -> SnowflakeSettings:
    """ConfigError naming the environment variables on a bad or missing value (never a value itself)."""
    try:
        return SnowflakeSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "?"
            env = name if name == PASSWORD_ENV else f"SNOWFLAKE_{name.upper()}"
            problems.append(f"{env}: {err['msg']}")
        raise ConfigError("invalid Snowflake configuration: " + "; ".join(problems)) from None


@lru_cache
def get_snowflake_settings() -> SnowflakeSettings:
    return load_snowflake_settings()
