"""A real HTTP server on 127.0.0.1 standing in for Slack: it records what slack_sdk sends and answers
as scripted (status, Retry-After, a delay). It stops itself when the test's `with` block ends."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a server that never answers: longer than the timeout)


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class SlackServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._outcomes: list[bool] = []  # per request: answered 2xx in time
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.on_request: Callable[[], None] | None = None  # runs as each request arrives (to look at state)
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    def url(self, path: str = "/services/T000/B000/s3cr3tW3bh00k") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies of every request answered 2xx: what reached Slack."""
        return [request.json() for request, ok in zip(self.received, self._outcomes, strict=True) if ok]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if server.on_request is not None:
                    server.on_request()
                reply = server.replies.popleft() if server.replies else server.default
                server.received.append(Received(time.monotonic(), self.path, dict(self.headers), body))
                server._outcomes.append(200 <= reply.status < 300 and reply.delay == 0)
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json" if reply.body.startswith("{") else "text/plain")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body.encode())
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def slack_server() -> Iterator[SlackServer]:
    server = SlackServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
