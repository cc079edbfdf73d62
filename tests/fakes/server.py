"""What every fake API server shares: a threaded HTTP server on 127.0.0.1 that hands each
request to ``handle(method, target, headers, body) -> (status, headers, body)``, kept-alive
connections cut on ``stop()``, and the log of requests answered."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the
    # client's delayed ACK add about 40 ms to every kept-alive request.
    disable_nagle_algorithm = True
    fake: FakeServer

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        super().finish()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, payload = self.fake.handle(self.command, self.path, self.headers, body)
        except Exception as exc:  # a bug in the fake: answer, do not drop the connection
            status, (headers, payload) = 500, self.fake.internal_error(exc)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format, *args) -> None:
        pass  # quiet


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.base_url: str | None = None
        self._lock = threading.Lock()
        self._faults: list[list] = []  # [kind, times left, on]
        self._connections: set[socket.socket] = set()  # open keep-alive connections
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        raise NotImplementedError

    def internal_error(self, exc: Exception) -> tuple[dict, bytes]:
        """The headers and body of a 500 when the fake itself fails."""
        body = json.dumps({"message": f"fake server error: {exc!r}"}).encode()
        return {"Content-Type": "application/json; charset=utf-8"}, body

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with self._lock:  # no answers after stop(), even on kept-alive sockets
                for connection in list(self._connections):
                    with contextlib.suppress(OSError):
                        connection.shutdown(socket.SHUT_RDWR)
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
