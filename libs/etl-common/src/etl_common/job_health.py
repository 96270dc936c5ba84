"""`/healthz` for a job's lifetime, so a Cloud Run job's startup probe can see the container started.

Jobs serve no API, but Cloud Run jobs accept only startup probes, and an HTTP or TCP probe needs a listener.
When JOB_HEALTH_PORT is set, a job answers `GET /healthz` there from a daemon thread (standard library only,
so it costs nothing at import), started once its settings are valid and stopped when the job ends. Unset,
nothing listens: the default for local runs and tests.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENV = "JOB_HEALTH_PORT"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path.split("?", 1)[0] == "/healthz"
        body = b'{"status": "ok", "mode": "job"}' if ok else b'{"detail": "not found"}'
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # probes are not worth a log line
        return


@contextlib.contextmanager
def job_health_server(port: str | None = None) -> Iterator[int | None]:
    """Serve `/healthz` on HOST:JOB_HEALTH_PORT while the block runs; yields the bound port, or None."""
    port = port if port is not None else os.environ.get(ENV)
    if not port:
        yield None
        return
    server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(port)), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="job-health", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
