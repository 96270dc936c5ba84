"""A pass-through proxy in front of fake-gcs-server that holds one object upload until the test says so.

With `STORAGE_EMULATOR_HOST` pointed at the gate, a loader publishes through it to the real emulator; the
gate answers every request by forwarding it, except the `hold`-th upload, which it keeps open and reports
(`held`). A test can then act at a known instant of the publish (kill the loader with the first objects in
the bucket and the rest not), with no sleeps and no hook in the product code.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx

from ..loopback import serving

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "host",
}


class Gate:
    def __init__(self, upstream: str, hold: int) -> None:
        self.upstream = upstream.rstrip("/")
        self.hold = hold
        self.uploads = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.url = ""

    def _is_held(self, method: str, path: str) -> bool:
        if method != "POST" or not path.startswith("/upload/"):
            return False
        with self._lock:
            self.uploads += 1
            return self.uploads == self.hold


@contextlib.contextmanager
def gcs_gate(upstream: str, *, hold: int) -> Iterator[Gate]:
    gate = Gate(upstream, hold)
    client = httpx.Client(timeout=30)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if gate._is_held(self.command, self.path):
                gate.held.set()
                gate.release.wait(timeout=60)
                self.close_connection = True
                return  # the client is gone by now; answer nothing
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            response = client.request(
                self.command, gate.upstream + self.path, content=body, headers=headers
            )
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    try:
        with serving(Handler) as gate.url:
            try:
                yield gate
            finally:
                gate.release.set()  # before the server stops: the held upload may end
    finally:
        client.close()
