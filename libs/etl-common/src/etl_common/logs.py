"""Structured JSON logs on stderr, one object per line, in the shape Cloud Logging reads.

stderr, never stdout: a job's stdout carries only its result (the loader's manifest location, the dbt-runner's
build result), so a script can read it without filtering logs out; Cloud Run's logging agent parses JSON lines
on either stream. The format is JSON on a terminal too (there is no separate human format; the loader's
interactive progress display is its own, see `loader.progress`).

Fields: `severity`, `message`, `service`, `load_id` (from a context variable, so every line of a run carries
it without threading it through calls), the Cloud trace field when a request carried one, and any `extra=`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

_load_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("load_id", default=None)
_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)

# Attributes every LogRecord has; anything else was passed with `extra=` and is emitted as a field.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


@contextlib.contextmanager
def log_context(*, load_id: str | None = None, trace: str | None = None) -> Iterator[None]:
    """Attach a load id (and optionally a Cloud trace) to every log line emitted inside the block."""
    tokens = []
    if load_id is not None:
        tokens.append((_load_id, _load_id.set(load_id)))
    if trace is not None:
        tokens.append((_trace, _trace.set(trace)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "severity": record.levelname,
            "message": record.getMessage(),
            "service": self.service,
            "logger": record.name,
        }
        if (load_id := _load_id.get()) is not None:
            entry["load_id"] = load_id
        if (trace := _trace.get()) is not None:
            entry["logging.googleapis.com/trace"] = trace
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger to one JSON handler on stderr. Called by entry points, never at import."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that log every request at INFO would drown the run's own lines.
    for noisy in ("httpx", "httpcore", "urllib3", "google", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def one_line(message: str) -> str:
    """`message` on one line (its lines joined with "; "), for an error a job CLI reports as its last word."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())
