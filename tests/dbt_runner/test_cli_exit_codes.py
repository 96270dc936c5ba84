"""The dbt-runner job's exit codes through the real CLI (`python -m dbt_runner`), as Cloud Run runs it:
2 for bad usage or configuration, with one JSON error line naming the setting and nothing on stdout.
(75 on a held warehouse lock is test_consistency's; 0 and 1 are test_run_manifest's.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .test_run_manifest import REPO, _env


def _job(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dbt_runner", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**_env(), **(env or {})},
    )


def test_an_unknown_target_is_a_usage_error_exit_2(tmp_path: Path) -> None:
    proc = _job("run", "--manifest", str(tmp_path / "m.json"), "--target", "staging")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "invalid choice: 'staging'" in proc.stderr


def test_a_missing_dbt_project_is_exit_2_with_one_json_line_naming_the_setting(
    tmp_path: Path,
) -> None:
    proc = _job(
        "run", "--manifest", str(tmp_path / "m.json"), env={"DBT_PROJECT_DIR": str(tmp_path)}
    )
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    error = json.loads(line)
    assert error["severity"] == "ERROR" and error["error_type"] == "ConfigError"
    assert error["service"] == "dbt-runner" and error["message"].startswith("DBT_PROJECT_DIR:")
