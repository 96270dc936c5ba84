"""The loader job's output streams: stdout is its result (the manifest's location, only on success), stderr
its JSON log lines with the error, on one line, as the last word. Scripts and the container tests read
stdout without filtering; an operator reads the last stderr line to learn why a run failed."""

from __future__ import annotations

import json
from pathlib import Path

from dev_stack.processes import free_port
from etl_common.logs import one_line

from .conftest import Double, run_loader


def json_lines(stderr: str) -> list[dict]:
    lines = stderr.splitlines()
    assert lines, "a job always logs something"
    parsed = [
        json.loads(line) for line in lines
    ]  # every stderr line is JSON when not on a terminal
    assert all(line["service"] == "loader" for line in parsed)
    return parsed


def test_success_prints_only_the_manifest_location_on_stdout(
    double_2dev: Double, tmp_path: Path
) -> None:
    result = run_loader(double_2dev.url, tmp_path, "--rate-limit-per-minute", "100000")
    assert result.code == 0, result.stderr[-3000:]
    (line,) = result.stdout.splitlines()
    assert Path(line).is_file() and Path(line).parent == tmp_path / "manifests"
    logs = json_lines(result.stderr)
    assert not [log for log in logs if log["severity"] == "ERROR"]
    load_ids = {log.get("load_id") for log in logs} - {None}
    assert len(load_ids) == 1 and next(iter(load_ids)) in line, (load_ids, line)


def test_a_transient_failure_leaves_stdout_empty_and_ends_with_one_error_line(
    tmp_path: Path,
) -> None:
    result = run_loader(
        f"http://127.0.0.1:{free_port()}", tmp_path, env={"LOADER_MAX_ATTEMPTS": "1"}
    )
    assert result.code == 75, result.stderr[-3000:]
    assert result.stdout == ""
    last = json_lines(result.stderr)[-1]
    assert last["severity"] == "ERROR" and "\n" not in last["message"]
    assert last["error_type"] and "127.0.0.1" in last["message"], last


def test_bad_configuration_is_exit_2_with_the_setting_named_in_one_json_line(
    tmp_path: Path,
) -> None:
    result = run_loader("http://127.0.0.1:9", tmp_path, env={"LOADER_CONCURRENCY": "zero"})
    assert result.code == 2, result.stderr[-3000:]
    assert result.stdout == ""
    (error,) = json_lines(result.stderr)
    assert error["severity"] == "ERROR" and error["error_type"] == "ConfigError"
    assert "concurrency" in error["message"].lower() and "\n" not in error["message"]


def test_one_line_joins_a_multiline_message_without_losing_words() -> None:
    assert one_line("bad input:\n  field a: missing\n\n  field b: not a number\n") == (
        "bad input:; field a: missing; field b: not a number"
    )
    assert one_line("already one line") == "already one line"
    assert one_line("") == ""
