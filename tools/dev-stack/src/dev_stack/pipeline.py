"""`make pipeline`: trigger one run on an orchestrator, follow it, print a summary, exit 0 only on success.

With ORCHESTRATOR_URL set it only triggers and follows a running stack (docker compose, say); otherwise
it starts the embedded local stack (`stack.py`) and stops it afterwards; `follow.py` triggers, follows
and prints. Environment: CURSOR_SIM_URL, DUCKDB_PATH (default data/warehouse.duckdb),
PIPELINE_DEVELOPERS (default 2), PIPELINE_SEED_DEVELOPERS (unset; e.g. 2 with 50 developers serves the
upstream's default replicated deployment), WAREHOUSE (duckdb, the default, or snowflake: the SNOWFLAKE_*
environment, else a fakesnow emulator), PIPELINE_TIMEOUT_S (default 1800). URLs are printed without
their credentials (`etl_common.urls.redact`).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import FrameType

import httpx

from dev_stack.follow import run_once, say
from dev_stack.processes import ProcessStartError
from dev_stack.stack import StackOptions, local_stack
from etl_common.urls import redact, redact_text


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    t0 = time.monotonic()
    timeout_s = float(os.environ.get("PIPELINE_TIMEOUT_S", "1800"))
    duckdb_path = Path(os.environ.get("DUCKDB_PATH", "data/warehouse.duckdb"))
    warehouse = os.environ.get("WAREHOUSE", "duckdb").lower()
    if warehouse not in ("duckdb", "snowflake"):
        say(f"WAREHOUSE must be duckdb or snowflake, not {warehouse!r}")
        return 2
    try:
        if url := os.environ.get("ORCHESTRATOR_URL"):
            say(
                f"ORCHESTRATOR_URL is set: triggering and following {redact(url)} "
                "(nothing is started)"
            )
            return run_once(url, None, timeout_s)
        opts = StackOptions(
            duckdb_path=duckdb_path,
            work_dir=Path("data/.pipeline"),
            developers=int(os.environ.get("PIPELINE_DEVELOPERS", "2")),
            seed_developers=int(seed)
            if (seed := os.environ.get("PIPELINE_SEED_DEVELOPERS"))
            else None,
            warehouse=warehouse,
        )
        with local_stack(opts, say) as url:
            say(f"stack ready in {time.monotonic() - t0:.1f}s")
            code = run_once(url, duckdb_path if warehouse == "duckdb" else None, timeout_s)
        say(f"stopped every process this command started; total {time.monotonic() - t0:.1f}s")
        return code
    except KeyboardInterrupt:
        say("interrupted; every process this command started was stopped")
        return 130
    except (ProcessStartError, RuntimeError, TimeoutError, httpx.HTTPError) as exc:
        say(f"pipeline failed: {type(exc).__name__}: {redact_text(str(exc))}")
        say("every process this command started was stopped; logs: data/.pipeline/logs/")
        return 1
