"""dbt, in-process, one invocation at a time.

Arguments come from a pure function (`dbt_args`) so what runs is testable without running it. dbt documents
concurrent in-process invocations as unsafe, so every call holds a process-wide lock. The result is reduced to
a plain model: per-node status, rows, timings and, for failures, the message and the compiled SQL.

dbt's console output never reaches stdout (it would land in the job's result stream): its console logger is
switched off and every event at info level or above is forwarded to the `dbt` logger instead, so it comes out
as our JSON lines on stderr, with dbt's level as the severity. dbt's own debug log still goes to `--log-path`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from etl_common.contract import DbtResult, NodeResult

_DBT_LOCK = threading.Lock()
_dbt_log = logging.getLogger("dbt")
_LEVELS = {"info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}


def dbt_args(
    command: Literal["build", "run", "test", "parse", "compile", "seed", "debug"],
    *,
    project_dir: Path,
    profiles_dir: Path,
    target: str,
    target_path: Path,
    log_path: Path,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    exclude_resource_types: Sequence[str] = (),
    vars: Mapping[str, Any] | None = None,
    threads: int | None = None,
) -> list[str]:
    """The argv for one dbt invocation; dbt's own state (target/, logs/) goes to the given work paths so the
    project directory can stay read-only (as it is in the container image)."""
    args = [
        command,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(profiles_dir),
        "--target",
        target,
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
    ]
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    for resource_type in exclude_resource_types:
        args += ["--exclude-resource-type", resource_type]
    if vars:
        args += ["--vars", json.dumps(dict(vars), sort_keys=True)]
    if threads:
        args += ["--threads", str(threads)]
    return args


@contextmanager
def _env(overrides: Mapping[str, str]) -> Iterator[None]:
    """dbt reads profile values through env_var(); set them for the invocation only."""
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# dbt's events about its saved parse (target/partial_parse.msgpack), by what they say about this one
ParseMode = Literal["reused", "partial", "full"]
_PARSE_EVENTS: dict[str, ParseMode] = {
    "PartialParsingSkipParsing": "reused",
    "PartialParsingEnabled": "partial",
}


def import_dbt() -> None:
    """dbt's import alone takes seconds; a service does it once, in the background (`warm_start`)."""
    import dbt.cli.main  # noqa: F401


def invoke(
    args: list[str],
    env: Mapping[str, str] | None = None,
    *,
    not_run: Mapping[str, str] | None = None,
) -> DbtResult:
    """Run one dbt command; `not_run` says what `args` leave out on purpose, and why (for the record)."""
    from dbt.cli.main import dbtRunner  # imported lazily: see import_dbt

    parse: list[ParseMode] = []

    def _parse_mode(event: Any) -> None:
        if mode := _PARSE_EVENTS.get(event.info.name):
            parse.append(mode)

    t0 = time.monotonic()
    with _DBT_LOCK, _env(env or {}):
        try:
            # log_level="none" turns off only the console logger (on stdout); the file log is unchanged.
            outcome = dbtRunner(callbacks=[_forward, _parse_mode]).invoke(
                args, log_level="none", use_colors=False
            )
        finally:
            _release_duckdb()
    seconds = time.monotonic() - t0
    nodes = _nodes(outcome.result)
    counts = Counter(f"{n.resource_type}:{n.status}" for n in nodes)
    error = None
    if outcome.exception is not None:
        error = f"{type(outcome.exception).__name__}: {outcome.exception}"
    elif not outcome.success:
        failed = [n for n in nodes if n.status in ("error", "fail", "runtime error")]
        error = (
            "; ".join(
                f"{n.unique_id}: {n.status}" + (f" ({n.message})" if n.message else "")
                for n in failed[:10]
            )
            or "dbt reported failure"
        )
    return DbtResult(
        command=args,
        success=bool(outcome.success),
        seconds=round(seconds, 3),
        counts=dict(sorted(counts.items())),
        nodes=nodes,
        error=error,
        parse=parse[-1] if parse else _full_or_none(outcome.success, nodes),
        not_run=dict(not_run or {}),
    )


def _full_or_none(success: bool, nodes: list[NodeResult]) -> ParseMode | None:
    """No saved-parse event: dbt parsed from scratch, unless it failed before it got to parse at all."""
    return "full" if success or nodes else None


def _forward(event: Any) -> None:
    """One dbt event to the `dbt` logger: info and above, secrets scrubbed as dbt's own loggers do."""
    level = _LEVELS.get(event.info.level)
    # debug (and "test") events stay in dbt.log
    if level is None or not _dbt_log.isEnabledFor(level):
        return
    from dbt_common.events.functions import env_scrubber

    _dbt_log.log(
        level,
        env_scrubber(event.info.msg),
        extra={"dbt_event": event.info.name, "dbt_thread": event.info.thread},
    )


def _release_duckdb() -> None:
    """dbt-duckdb caches one DuckDB instance per process and keeps the database file locked after the
    invocation ends; DuckDB allows one writer process, so the dashboard (or the next load) could not open
    the warehouse while this service lives. Close it explicitly after every invocation."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # no DuckDB adapter installed: nothing is cached
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()


def _nodes(result: Any) -> list[NodeResult]:
    out = []
    for r in getattr(result, "results", None) or []:
        node = getattr(r, "node", None)
        if node is None:
            continue
        status = str(getattr(r.status, "value", r.status))
        adapter = getattr(r, "adapter_response", None) or {}
        failed = status in ("error", "fail", "runtime error", "warn")
        out.append(
            NodeResult(
                unique_id=node.unique_id,
                resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
                status=status,
                seconds=round(float(getattr(r, "execution_time", 0.0) or 0.0), 3),
                rows_affected=adapter.get("rows_affected") if isinstance(adapter, dict) else None,
                failures=getattr(r, "failures", None),
                message=(r.message if failed else None),
                compiled_sql=(getattr(node, "compiled_code", None) if failed else None),
            )
        )
    return out
