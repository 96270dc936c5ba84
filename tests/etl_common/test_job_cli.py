"""The one exit-code mapping every job CLI uses, and the one line a failure leaves on stderr."""

from __future__ import annotations

import json
import logging
import signal
from dataclasses import dataclass

import pytest

from etl_common.errors import ConfigError, EtlError, StorageError, TransientSourceError
from etl_common.job_cli import Interrupted, JobReport, exit_code
from etl_common.logs import JsonFormatter


@dataclass
class Result:
    ok: bool
    transient: bool = False


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (Result(ok=True), 0),
        (Result(ok=False), 1),
        (Result(ok=False, transient=True), 75),
        (EtlError("terminal"), 1),
        (StorageError("bucket down"), 75),
        (TransientSourceError("502"), 75),
        (ConfigError("LOADER_OUTPUT: required"), 2),
        (Interrupted(signal.SIGTERM, "no manifest written"), 143),
        (Interrupted(signal.SIGINT, "no manifest written"), 130),
        (KeyboardInterrupt(), 130),
        (ValueError("a bug"), 1),
    ],
)
def test_every_outcome_maps_to_its_exit_code(outcome: object, code: int) -> None:
    assert exit_code(outcome) == code  # type: ignore[arg-type]


def _report(terminal: bool) -> tuple[JobReport, list[dict[str, object]]]:
    lines: list[dict[str, object]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(JsonFormatter("svc").format(record)))

    log = logging.getLogger("test_job_cli")
    log.handlers[:] = [Capture()]
    log.propagate = False
    return JobReport(log, "svc", terminal=terminal, unfinished="nothing written"), lines


def test_a_failure_is_one_json_line_without_the_urls_credentials() -> None:
    report, lines = _report(terminal=False)
    report.secret_url = "http://user:pw@up.example:9"

    def work() -> int:
        raise TransientSourceError("GET http://user:pw@up.example:9/x failed\nafter 3 attempts")

    assert report.run(work) == 75
    (line,) = lines
    assert line["severity"] == "ERROR" and line["error_type"] == "TransientSourceError"
    assert "\n" not in str(line["message"]) and "pw" not in str(line["message"])


def test_a_bug_is_exit_1_with_its_traceback_in_the_same_line() -> None:
    report, lines = _report(terminal=False)
    assert report.run(lambda: [][0]) == 1
    (line,) = lines
    assert str(line["message"]).startswith("unexpected IndexError")
    assert "Traceback" in str(line["exception"])


def test_on_a_terminal_the_last_word_is_a_plain_line(capsys: pytest.CaptureFixture[str]) -> None:
    report, lines = _report(terminal=True)
    assert report.failed(ConfigError("X: bad")) == 2
    assert report.failed(StorageError("down")) == 75
    assert report.failed(KeyboardInterrupt()) == 130
    assert capsys.readouterr().err.splitlines() == [
        "svc: X: bad",
        "svc: error: down",
        "svc: interrupted; nothing written",
    ]
    assert lines == []
