"""A forwarding HTTP server between the Pub/Sub emulator's push subscriptions and `nba-dq serve`.

It records every delivery and the service's answer (status, processor, messageId), so a test knows that a
message was delivered and answered (2xx: acked, 5xx: Pub/Sub redelivers) without guessing from time.
`on_answer` runs after each answer: a test restores a broken store there, after the first 5xx.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    message_id: str
    processor: str  # processor_name of the message's body ("" when it has none)
    status: int  # the service's answer


class PushRecorder:
    def __init__(self, target: str) -> None:
        self.target = target  # the service's push URL
        self.deliveries: list[Delivery] = []
        self.on_answer: Callable[[Delivery], None] | None = None
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/pubsub/push"

    def wait_for(self, predicate: Callable[[list[Delivery]], bool], timeout: float = 180) -> list[Delivery]:
        """Block until `predicate(deliveries)` holds; fail after `timeout` saying what arrived."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.deliveries), timeout):
                raise AssertionError(f"deliveries so far: {self.deliveries}")
            return list(self.deliveries)

    def acked(self, processor: str | None = None) -> list[Delivery]:
        with self._changed:
            return [d for d in self.deliveries if 200 <= d.status < 300 and processor in (None, d.processor)]

    def _forward(self, body: bytes) -> Delivery:
        envelope: dict[str, Any] = json.loads(body)
        message = envelope.get("message", {})
        try:
            processor = str(json.loads(base64.b64decode(message.get("data", ""))).get("processor_name", ""))
        except (ValueError, AttributeError):
            processor = ""
        request = urllib.request.Request(self.target, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 502  # the service is down (killed): Pub/Sub sees a failed push
        return Delivery(str(message.get("messageId", "")), processor, status)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                delivery = recorder._forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if recorder.on_answer is not None:
                    recorder.on_answer(delivery)
                with recorder._changed:
                    recorder.deliveries.append(delivery)
                    recorder._changed.notify_all()
                try:
                    self.send_response(delivery.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the emulator gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


@contextmanager
def push_recorder(target: str) -> Iterator[PushRecorder]:
    recorder = PushRecorder(target)
    threading.Thread(target=recorder._server.serve_forever, daemon=True).start()
    try:
        yield recorder
    finally:
        recorder._server.shutdown()
        recorder._server.server_close()
