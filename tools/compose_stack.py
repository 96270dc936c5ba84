"""The compose stack, driven the same way with docker or podman: `up`, `down` and `smoke`.

    .venv/bin/python tools/compose_stack.py up      # .env from .env.example if missing, up -d, wait healthy
    .venv/bin/python tools/compose_stack.py down    # stop and remove containers (the volume stays)
    .venv/bin/python tools/compose_stack.py smoke   # a throwaway stack on free ports: up, wait healthy,
                                                    # one pipeline run through the orchestrator, check
                                                    # the marts in the DuckDB volume, tear down

Waiting is done here rather than by `depends_on: condition: service_healthy` alone because podman 4.3
ignores those conditions and runs no healthcheck timers without systemd: on podman each container's
HEALTHCHECK is run on demand (`podman healthcheck run`), on docker its status is read (`docker inspect`).
CONTAINER_ENGINE picks the engine (default: podman when installed, else docker).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from dev_stack.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROJECT = "cursor-analytics"
# Our services and the bucket; cursor-sim is waited on too when its image has a healthcheck.
SERVICES = ("gcs", "cursor-sim", "loader", "dbt-runner", "orchestrator")
HEALTHY_TIMEOUT_S = 120.0


def say(message: str) -> None:
    print(message, flush=True)


def engine() -> str:
    chosen = os.environ.get("CONTAINER_ENGINE") or (
        "podman" if shutil.which("podman") else "docker"
    )
    if not shutil.which(chosen):
        sys.exit(f"compose_stack: container engine {chosen!r} is not installed (CONTAINER_ENGINE)")
    return chosen


def compose_argv(eng: str, project: str) -> list[str]:
    if eng == "podman":
        local = Path(sys.executable).parent / "podman-compose"
        base = [str(local)] if local.exists() else ["podman-compose"]
    else:
        base = ["docker", "compose"]
    return [*base, "-f", str(COMPOSE_FILE), "-p", project]


def dotenv_values(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.split(" #")[0].strip()
    return values


def containers(eng: str, project: str) -> dict[str, str]:
    """service name -> container name, for the project's containers."""
    out = subprocess.run(
        [
            eng, "ps", "-a",
            "--filter", f"label=com.docker.compose.project={project}",
            "--format", '{{.Names}} {{index .Labels "com.docker.compose.service"}}',
        ],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    pairs = (line.split() for line in out.splitlines() if line.strip())
    return {parts[1]: parts[0] for parts in pairs if len(parts) == 2}


def health(eng: str, container: str) -> str:
    """healthy, unhealthy, starting or none (the image defines no healthcheck)."""
    if eng == "podman":
        has = subprocess.run(
            [eng, "inspect", "--format", "{{.Config.Healthcheck}}", container],
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        if has in ("", "<nil>", "map[]"):
            return "none"
        ok = subprocess.run([eng, "healthcheck", "run", container], capture_output=True)
        return "healthy" if ok.returncode == 0 else "starting"
    out = subprocess.run(
        [eng, "inspect", "--format",
         "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", container],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return out or "starting"


def wait_healthy(eng: str, project: str, t0: float) -> dict[str, float]:
    """Seconds from `t0` until each service first reported healthy; exits naming the laggards."""
    ready: dict[str, float] = {}
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    while time.monotonic() < deadline:
        names = containers(eng, project)
        for service in SERVICES:
            if service in ready or service not in names:
                continue
            state = health(eng, names[service])
            if state in ("healthy", "none"):
                ready[service] = time.monotonic() - t0
        if len(ready) == len(SERVICES):
            return ready
        time.sleep(0.2)
    missing = [s for s in SERVICES if s not in ready]
    raise RuntimeError(f"not healthy after {HEALTHY_TIMEOUT_S:.0f}s: {', '.join(missing)}")


def run(argv: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, check=True, text=True, **kwargs)


def up(_args: argparse.Namespace) -> int:
    eng = engine()
    dotenv = ROOT / ".env"
    if not dotenv.exists():
        shutil.copy(ROOT / ".env.example", dotenv)
        say("created .env from .env.example (the local double's development key)")
    env = {**dotenv_values(dotenv), **os.environ}
    t0 = time.monotonic()
    run([*compose_argv(eng, PROJECT), "up", "-d"], env, cwd=ROOT, capture_output=True)
    ready = wait_healthy(eng, PROJECT, t0)
    port = env.get("ORCHESTRATOR_PORT", "8080")
    say("healthy: " + ", ".join(f"{s} {t:.1f}s" for s, t in ready.items()))
    say(f"run the pipeline: ORCHESTRATOR_URL=http://127.0.0.1:{port} make pipeline")
    return 0


def down(_args: argparse.Namespace) -> int:
    eng = engine()
    dotenv = ROOT / ".env"
    env = {**(dotenv_values(dotenv) if dotenv.exists() else {}), **os.environ}
    env.setdefault("CURSOR_SIM_API_KEY", "unused-by-down")  # compose interpolates even to stop
    run([*compose_argv(eng, PROJECT), "down"], env, cwd=ROOT, capture_output=True)
    say("stack stopped (the warehouse volume is kept; `docker volume rm` it to start afresh)")
    return 0


def _http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def smoke(args: argparse.Namespace) -> int:
    """A throwaway stack under its own project name and free ports, always torn down with its volume."""
    eng = engine()
    project = f"{PROJECT}-smoke"
    port = free_port()
    env = {
        **dotenv_values(ROOT / ".env.example"),
        **os.environ,
        "ORCHESTRATOR_PORT": str(port),
        "GCS_PORT": str(free_port()),
        "CURSOR_SIM_DEVELOPERS": str(args.developers),
    }
    env.pop("CURSOR_SIM_URL", None)  # the stack's own double
    compose = compose_argv(eng, project)
    t0 = time.monotonic()
    ok = False
    try:
        run([*compose, "up", "-d"], env, cwd=ROOT, capture_output=True)
        ready = wait_healthy(eng, project, t0)
        _say_healthy(eng, project, ready)
        url = f"http://127.0.0.1:{port}"
        run_seconds = _run_pipeline(env, url)
        _check_warehouse(eng, project, env, url)
        say(
            f"compose smoke passed: stack up {max(ready.values()):.1f}s, pipeline {run_seconds:.1f}s, "
            f"total {time.monotonic() - t0:.1f}s before teardown"
        )
        ok = True
    except (RuntimeError, subprocess.CalledProcessError, OSError, KeyError, ValueError) as exc:
        say(f"compose smoke FAILED: {exc}")
        logs = subprocess.run(
            [*compose, "logs", "--tail", "40"], env=env, cwd=ROOT, capture_output=True, text=True
        )
        say(logs.stdout[-8000:] + logs.stderr[-2000:])
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, cwd=ROOT, capture_output=True)
        left = containers(eng, project)
        say(f"torn down in total {time.monotonic() - t0:.1f}s; containers left: {len(left)}")
    return 0 if ok else 1


def _say_healthy(eng: str, project: str, ready: dict[str, float]) -> None:
    """When each service turned healthy, and the uid it runs as (images run as non-root)."""
    say(f"stack {project} ({eng}) healthy in {max(ready.values()):.1f}s:")
    names = containers(eng, project)
    for service, seconds in ready.items():
        uid = subprocess.run(
            [eng, "exec", names[service], "id", "-u"], capture_output=True, text=True
        ).stdout.strip()
        say(f"  {service:<13} healthy at {seconds:5.1f}s  uid {uid}")


def _run_pipeline(env: dict[str, str], url: str) -> float:
    """`make pipeline` against the stack's orchestrator; returns its seconds."""
    t_run = time.monotonic()
    pipeline = subprocess.run(
        [sys.executable, "-m", "dev_stack", "pipeline"],
        env={**env, "ORCHESTRATOR_URL": url, "PIPELINE_TIMEOUT_S": "600"},
        cwd=ROOT,
    )
    if pipeline.returncode != 0:
        raise RuntimeError(f"the pipeline run failed (exit {pipeline.returncode})")
    return time.monotonic() - t_run


def _check_warehouse(eng: str, project: str, env: dict[str, str], url: str) -> None:
    """The warehouse volume, read by the dbt-runner image, holds the load the last run produced."""
    manifest = _http_json(f"{url}/runs?limit=1")[0]["links"]["manifest"]
    dbt_image = f"{env.get('IMAGE_PREFIX', PROJECT)}/dbt-runner:{env.get('IMAGE_TAG', 'latest')}"
    summary = subprocess.run(
        [eng, "run", "--rm", "-v", f"{project}_warehouse:/data:ro", dbt_image, "summary"],
        capture_output=True, text=True,
    )  # fmt: skip
    report = json.loads(summary.stdout)
    say("warehouse volume: " + json.dumps(report["rows"]))
    problems = list(report["problems"])
    loaded = (report.get("last_load") or {}).get("manifest_uri")
    if loaded != manifest:
        problems.append(f"raw._loads holds {loaded}, the run produced {manifest}")
    if problems:
        raise RuntimeError("; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compose_stack", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up").set_defaults(func=up)
    sub.add_parser("down").set_defaults(func=down)
    p = sub.add_parser("smoke")
    p.add_argument("--developers", type=int, default=2)
    p.set_defaults(func=smoke)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
