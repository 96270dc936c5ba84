"""Credentials in CURSOR_SIM_URL (`http://user:pass@host`) reach no manifest, log line, run record, service
answer or error message: real runs through the double, job and service, succeeding and failing."""

from __future__ import annotations

from pathlib import Path

import httpx

from dev_stack.processes import free_port
from etl_common.manifest import Manifest

from ..service_harness import run_service, wait_for
from .conftest import Double, run_loader

SECRET = "s3cret-Pa55word"
FAST = ("--rate-limit-per-minute", "100000")


def with_userinfo(url: str) -> str:
    return url.replace("http://", f"http://loader-user:{SECRET}@")


def test_a_job_run_with_credentials_in_the_url_stores_and_logs_none(
    double_2dev: Double, tmp_path: Path
) -> None:
    result = run_loader(with_userinfo(double_2dev.url), tmp_path, *FAST)
    assert result.code == 0, result.stderr[-3000:]
    manifest_path = Path(result.last_line)
    manifest = Manifest.parse(manifest_path.read_bytes())
    assert manifest.source.url == double_2dev.url
    assert SECRET not in manifest_path.read_text()
    assert SECRET not in result.stdout + result.stderr
    assert "loader-user" not in manifest_path.read_text() + result.stderr


def test_a_failing_job_names_the_host_but_not_the_credentials(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_loader(with_userinfo(dead), tmp_path, env={"LOADER_MAX_ATTEMPTS": "1"})
    assert result.code == 75, result.stderr[-3000:]
    last = result.logs()[-1]
    assert last["severity"] == "ERROR" and dead.removeprefix("http://") in last["message"]
    assert SECRET not in result.stdout + result.stderr


def test_the_service_keeps_credentials_out_of_answers_records_and_logs(
    fresh_double: Double, tmp_path: Path
) -> None:
    env = {
        "CURSOR_SIM_URL": with_userinfo(fresh_double.url),
        "LOADER_OUTPUT": str(tmp_path / "bucket"),
        "LOADER_RATE_LIMIT_PER_MINUTE": "100000",
    }
    log_path = tmp_path / "loader.log"
    answers = []
    with run_service("loader", env, log_path) as url:
        answers.append(httpx.get(url + "/readyz", timeout=30).text)
        load_id = httpx.post(url + "/runs", timeout=10).json()["load_id"]
        ok = wait_for(f"{url}/runs/{load_id}", lambda b: b["state"] != "running", timeout_s=60)
        assert ok["state"] == "succeeded", ok
        manifest_text = Path(ok["manifest_uri"]).read_text()
        assert Manifest.parse(manifest_text.encode()).source.url == fresh_double.url
        # and a failure whose message quotes the upstream's records
        fresh_double.faults(
            {"kind": "remove_field", "field": "author_id", "path_prefix": "/analytics/github/prs"}
        )
        failed_id = httpx.post(url + "/runs", timeout=10).json()["load_id"]
        failed = wait_for(f"{url}/runs/{failed_id}", lambda b: b["state"] != "running")
        assert failed["state"] == "failed" and "pull_requests.author_id" in failed["error"]
        answers += [
            httpx.get(url + "/runs", timeout=10).text,
            httpx.get(url + "/openapi.json").text,
        ]
    logs = log_path.read_text()
    assert "load complete" in logs  # the log is the service's own
    for text in (*answers, str(ok), str(failed), manifest_text, logs):
        assert SECRET not in text
