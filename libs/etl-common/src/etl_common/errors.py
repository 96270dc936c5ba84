"""Typed errors, split into terminal (retrying cannot help) and transient (a later attempt may succeed).

Job CLIs catch `EtlError` only at the top, log one line and exit non-zero; event handlers answer 5xx for
transient errors (so the event is redelivered) and 2xx for terminal ones (which are recorded).
"""

from __future__ import annotations


class EtlError(Exception):
    """Base of every error this project raises on purpose."""

    transient: bool = False


class ConfigError(EtlError):
    """A setting is missing or invalid; the message names the environment variable."""


class SourceApiError(EtlError):
    """The upstream answered in a way retrying will not fix (401, 400, 404 where an object must exist)."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class TransientSourceError(SourceApiError):
    """The upstream failed in a way that may pass (5xx, timeouts, dropped connections) and the attempt
    budget ran out."""

    transient = True


class SchemaViolation(EtlError):
    """A record does not match the contract: a required field is missing or a value has the wrong type."""

    def __init__(self, entity: str, field: str, problem: str, example: str) -> None:
        message = f"{entity}.{field}: {problem}"
        if example:
            message += f" (example record: {example})"
        super().__init__(message)
        self.entity = entity
        self.field = field


class IncompleteExtractError(EtlError):
    """What was extracted does not reconcile with the source's own totals; nothing is published."""


class UpstreamChangedError(EtlError):
    """The upstream restarted or regenerated its data during the run; the partial load is discarded."""

    transient = True


class StorageError(EtlError):
    """Reading or writing the bucket or local directory failed."""

    transient = True


class ManifestError(EtlError):
    """A manifest is unreadable, incomplete, or names files that are missing or corrupted."""
