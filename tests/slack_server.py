"""A real HTTP server on 127.0.0.1 standing in for Slack: it records what slack_sdk sends and answers
as scripted (status, body, Retry-After, a delay: a hung POST), per Web API method when `routes` names
it. It records a request before answering, so a client killed while it waits has been "seen" by Slack.
It stops itself when the test's `with` block ends.

In Web API mode (paths under /api/) its stock answer is Slack's: chat.postMessage returns the channel's
ID and a new ts, chat.update returns ok; `threads()` reads the channels back as a person sees them
(top-level messages, updates applied, and each one's replies)."""

from __future__ import annotations

import json
import re
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
    answer_lost: bool = False  # Slack posts the message, but its answer never reaches the client

    @property
    def accepted(self) -> bool:
        """Whether Slack took the message: 2xx in time, and not a Web API `"ok": false`."""
        refused = self.body.startswith("{") and json.loads(self.body).get("ok") is False
        return self.answer_lost or (200 <= self.status < 300 and self.delay == 0 and not refused)


NOT_IN_CHANNEL = Reply(200, '{"ok": false, "error": "not_in_channel"}')
HANGS = Reply(delay=300)  # until the test ends: the server stops waiting when it stops
POSTED_ANSWER_LOST = Reply(answer_lost=True)  # posted to the channel; the client is killed waiting for the answer


@dataclass
class Thread:
    """A top-level message as the channel shows it now (chat.update applied) and the replies in its thread."""

    channel: str  # the channel's ID
    ts: str
    message: dict[str, Any]
    replies: list[dict[str, Any]] = field(default_factory=list)
    updates: int = 0


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
        self._outcomes: list[bool] = []  # per request: the reply was accepted (Reply.accepted)
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.routes: dict[str, Reply] = {}  # request path (without the query) -> its reply, before `replies`
        self.on_request: Callable[[], None] | None = None  # runs as each request arrives (to look at state)
        self._arrived = threading.Condition()
        self._channel_ids: dict[str, str] = {}  # a channel's name (or ID) -> its ID
        self._threads: list[Thread] = []
        self._next_ts = 0
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    def url(self, path: str = "/services/T000/B000/s3cr3tW3bh00k") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies of every message Slack accepted: what reached the channel."""
        return [request.json() for request, ok in zip(self.received, self._outcomes, strict=True) if ok]

    def threads(self) -> list[Thread]:
        """The Web API's top-level messages in order, each with its replies and chat.update applied."""
        with self._arrived:
            return list(self._threads)

    def channel_id(self, name: str) -> str:
        with self._arrived:
            return self._channel_ids.setdefault(name, f"C{len(self._channel_ids) + 1:08d}")

    def _web_api_answer(self, path: str, body: bytes) -> Reply:
        """Slack's answer to chat.postMessage / chat.update, and what it does to the channel's threads."""
        request = json.loads(body)
        named = str(request.get("channel"))
        with self._arrived:
            channel = named if named in self._channel_ids.values() else self.channel_id(named)
            if path.endswith("chat.update"):
                thread = next((t for t in self._threads if (t.channel, t.ts) == (channel, request.get("ts"))), None)
                if thread is None:
                    return Reply(200, json.dumps({"ok": False, "error": "message_not_found"}))
                thread.message, thread.updates = request, thread.updates + 1
                return Reply(200, json.dumps({"ok": True, "channel": channel, "ts": thread.ts}))
            self._next_ts += 1
            ts = f"1700000000.{self._next_ts:06d}"
            parent = next((t for t in self._threads if (t.channel, t.ts) == (channel, request.get("thread_ts"))), None)
            if request.get("thread_ts") and parent is None:
                return Reply(200, json.dumps({"ok": False, "error": "thread_not_found"}))
            if parent is not None:
                parent.replies.append(request)
            else:
                self._threads.append(Thread(channel, ts, request))
            return Reply(200, json.dumps({"ok": True, "channel": channel, "ts": ts}))

    def wait_for_requests(self, count: int, timeout: float = 120) -> list[Received]:
        """Block until `count` requests have arrived (a subprocess's POST, say); fail after `timeout`."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} of {count} requests arrived within {timeout} s")
        return list(self.received)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if server.on_request is not None:
                    server.on_request()
                route = server.routes.get(self.path.split("?")[0])
                reply = route or (server.replies.popleft() if server.replies else server.default)
                method = self.path.split("?")[0]
                web_api = method.startswith("/api/chat.") and body.startswith(b"{")
                if web_api and (reply == Reply() or reply.answer_lost):
                    answered = server._web_api_answer(method, body)  # what Slack did, whether or not it answers
                    reply = reply if reply.answer_lost else answered
                with server._arrived:
                    server.received.append(Received(time.monotonic(), self.path, dict(self.headers), body))
                    server._outcomes.append(reply.accepted)
                    server._arrived.notify_all()
                if (reply.delay or reply.answer_lost) and server._stopping.wait(reply.delay or 300):
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

            do_GET = do_POST  # noqa: N815 (slack_sdk reads conversations.* with GET)

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


def tables(text: str) -> list[list[dict[str, str]]]:
    """The tables (code blocks) of a message's text as rows; cells are split on runs of 2+ spaces."""
    found = []
    for block in re.findall(r"```\n(.*?)\n```", text, re.S):
        header, *lines = [re.split(r"\s{2,}", line.strip()) for line in block.splitlines()]
        found.append([dict(zip(header, cells, strict=True)) for cells in lines])
    return found
