"""Helpers for the per-service typed settings (pydantic-settings).

Each service declares one `BaseSettings` subclass with its own env prefix and builds it lazily through
`load_settings`, which turns a validation failure into a `ConfigError` that names the environment variable,
never the secret's value.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from etl_common.errors import ConfigError

S = TypeVar("S", bound=BaseSettings)

DEFAULT_SOURCE_API_KEY = "cursor-sim-dev-key"  # the upstream's documented development key


def load_settings(cls: type[S], **overrides: object) -> S:
    """Build `cls` from the environment (plus explicit overrides); ConfigError naming the variable on error."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "?"
            problems.append(f"{prefix}{field.upper()}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
