"""One Snowflake connection for the dbt-runner's own statements: every call bounded (login, network,
statement timeouts) and every refusal turned into one typed, transient error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dbt_runner.snowflake_settings import SnowflakeSettings
from etl_common.errors import EtlError


class SnowflakeLoadError(EtlError):
    """The warehouse refused or failed a load statement; a later attempt may pass."""

    transient = True


@contextmanager
def connect(settings: SnowflakeSettings) -> Iterator[Any]:
    import snowflake.connector  # lazily: the DuckDB path never needs it

    kwargs: dict[str, Any] = {
        "account": settings.account,
        "user": settings.user,
        "password": settings.password.get_secret_value(),
        "role": settings.role,
        "database": settings.database,
        "warehouse": settings.warehouse,
        "login_timeout": settings.login_timeout_s,
        "network_timeout": settings.network_timeout_s,
        "socket_timeout": settings.network_timeout_s,
        "session_parameters": {"TIMEZONE": "UTC", "QUERY_TAG": "dbt-runner raw load"},
    }
    if settings.fakesnow_compat:
        kwargs.pop("session_parameters")  # fakesnow refuses TIMEZONE and QUERY_TAG
    kwargs |= {
        k: v
        for k, v in (
            ("host", settings.host),
            ("port", settings.port),
            ("protocol", settings.protocol),
        )
        if v
    }
    try:
        con = snowflake.connector.connect(**kwargs)
    except snowflake.connector.errors.Error as exc:
        raise SnowflakeLoadError(f"cannot connect to Snowflake: {exc.msg}") from None
    try:
        yield con
    finally:
        con.close()


class Session:
    """One cursor; every statement bounded and every failure turned into a typed error."""

    def __init__(self, con: Any, timeout_s: int) -> None:
        self.cur = con.cursor()
        self.timeout_s = timeout_s

    def run(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        import snowflake.connector

        try:
            self.cur.execute(sql, params, timeout=self.timeout_s)
            return list(self.cur.fetchall())
        except snowflake.connector.errors.Error as exc:
            raise SnowflakeLoadError(f"Snowflake refused `{sql[:120]}`: {exc.msg}") from None


@contextmanager
def session(settings: SnowflakeSettings) -> Iterator[Session]:
    """A connection and its one cursor for the block."""
    with connect(settings) as con:
        yield Session(con, settings.statement_timeout_s)
