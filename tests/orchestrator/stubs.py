"""Small real HTTP servers (in a thread, on a free 127.0.0.1 port) standing in for the loader and the
dbt-runner where a test needs to count requests or hold a step in a given state. Every request is
recorded; a handler answers (status, JSON body). Always stopped by the context manager."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from etl_common.contract import BuildStatus, LoadStatus

from ..loopback import serving

Handler = Callable[["Stub", str, str, bytes], tuple[int, Any]]


@dataclass
class Stub:
    url: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)  # frees held requests
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.requests if (m, p) == (method, path))


@contextlib.contextmanager
def stub_server(handler: Handler) -> Iterator[Stub]:
    stub = Stub()

    class Request(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real services answer

        def _answer(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with stub.lock:
                stub.requests.append((method, self.path))
            code, answer = handler(stub, method, self.path, body)
            data = json.dumps(answer).encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the caller gave up
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *args: Any) -> None:
            return

    with serving(Request) as stub.url:
        try:
            yield stub
        finally:
            stub.release.set()  # before the server stops: a held request may end


def healthy(stub: Stub, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """A service that is up and knows nothing else."""
    if path == "/healthz":
        return 200, {"status": "ok"}
    return 404, {"detail": f"no route {path}"}


def hanging(stub: Stub, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """A service that accepts connections and answers nothing until the test ends."""
    stub.release.wait(timeout=60)
    return 503, {"detail": "released"}


def load_status(load_id: str, state: str, **fields: Any) -> dict[str, Any]:
    """A loader answer as the contract shapes it (`etl_common.contract.LoadStatus`)."""
    status = LoadStatus(
        load_id=load_id, state=state, started_at=datetime.now(UTC), output="stub", **fields
    )
    return status.model_dump(mode="json")


def build_status(build_id: str, state: str, **fields: Any) -> dict[str, Any]:
    """A dbt-runner answer as the contract shapes it (`etl_common.contract.BuildStatus`)."""
    status = BuildStatus(
        build_id=build_id,
        state=state,
        manifest_uri=fields.pop("manifest_uri", "gs://stub/manifests/m.json"),
        started_at=datetime.now(UTC),
        **fields,
    )
    return status.model_dump(mode="json")
