"""The one exit-code mapping of every job CLI, and its last word on stderr.

0 done; 1 failed (terminal: retrying cannot help); 2 bad usage or configuration (argparse exits 2 by
itself; `ConfigError`); 75 transient (an error marked transient, or a result whose `transient` is set:
worth retrying later); 128 + the signal when SIGINT or SIGTERM stopped the run (130 for a bare
KeyboardInterrupt). A failure ends with one line: JSON (severity ERROR, a one-line message, its
`error_type`) when stderr is not a terminal, a plain `PROG: ...` line on one.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from etl_common.errors import ConfigError, EtlError
from etl_common.logs import one_line
from etl_common.urls import redact_text

T = TypeVar("T")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TRANSIENT = 0, 1, 2, 75


class Outcome(Protocol):
    """What a job's work returns when it can fail without raising (the dbt-runner's BuildResult)."""

    @property
    def ok(self) -> bool: ...

    @property
    def transient(self) -> bool: ...


class Interrupted(Exception):
    """SIGINT or SIGTERM stopped the run before it finished."""

    def __init__(self, sig: signal.Signals, unfinished: str) -> None:
        super().__init__(f"interrupted by {sig.name}; {unfinished}")
        self.signal = sig


async def until_signalled(work: Coroutine[Any, Any, T], unfinished: str) -> T:
    """Run `work`; SIGINT or SIGTERM cancel it, so every `finally` (a staging directory's removal among
    them) runs before the job exits 130 or 143. The handlers run between event-loop steps, never inside
    synchronous code: a signal during a synchronous publish lets it land, and the run ends as it did."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await work
    except asyncio.CancelledError:
        if received:
            raise Interrupted(received[0], unfinished) from None
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def exit_code(outcome: Outcome | BaseException) -> int:
    if isinstance(outcome, Interrupted):
        return 128 + outcome.signal.value
    if isinstance(outcome, KeyboardInterrupt):
        return 128 + signal.SIGINT.value
    if isinstance(outcome, ConfigError):
        return EXIT_USAGE
    if isinstance(outcome, BaseException):
        return EXIT_TRANSIENT if getattr(outcome, "transient", False) else EXIT_FAILED
    if outcome.ok:
        return EXIT_OK
    return EXIT_TRANSIENT if outcome.transient else EXIT_FAILED


class JobReport:
    """Runs a job's work and reports how it ended. `secret_url` (once known) is scrubbed, with its
    credentials, from every message and traceback; `unfinished` says what an interruption left undone."""

    def __init__(
        self, log: logging.Logger, prog: str, *, terminal: bool, unfinished: str = "nothing done"
    ) -> None:
        self.log, self.prog, self.terminal, self.unfinished = log, prog, terminal, unfinished
        self.secret_url = ""

    def run(self, work: Callable[[], Outcome | int]) -> int:
        try:
            outcome = work()
        except (EtlError, Interrupted, KeyboardInterrupt) as exc:
            return self.failed(exc)
        except Exception as exc:  # a bug, not an EtlError: still one line, the exit code of a crash
            if self.terminal:
                raise
            self._log(exc, unexpected=True)
            return EXIT_FAILED
        return outcome if isinstance(outcome, int) else exit_code(outcome)

    def failed(self, exc: BaseException) -> int:
        """Report `exc` in one line; its exit code."""
        if isinstance(exc, KeyboardInterrupt):
            message = f"interrupted; {self.unfinished}"
            if self.terminal:
                self._say(message)
            else:
                self.log.error(message, extra={"error_type": "KeyboardInterrupt"})
        elif isinstance(exc, Interrupted):
            if self.terminal:
                self._say(str(exc))
            else:
                self.log.error(
                    str(exc), extra={"error_type": "Interrupted", "signal": exc.signal.name}
                )
        elif self.terminal:
            text = str(exc) if isinstance(exc, ConfigError) else f"error: {self._scrub(exc)}"
            self._say(text)
        else:
            self._log(exc)
        return exit_code(exc)

    def _say(self, text: str) -> None:
        print(f"{self.prog}: {text}", file=sys.stderr)

    def _scrub(self, exc: BaseException) -> str:
        return one_line(redact_text(str(exc), self.secret_url))

    def _log(self, exc: BaseException, *, unexpected: bool = False) -> None:
        message = self._scrub(exc) or type(exc).__name__
        extra = {"error_type": type(exc).__name__}
        if unexpected:  # the traceback in the same line, scrubbed like the message
            message = f"unexpected {type(exc).__name__}: {message}"
            trace = "".join(traceback.format_exception(exc)).rstrip()
            extra["exception"] = redact_text(trace, self.secret_url)
        self.log.error(message, extra=extra)
