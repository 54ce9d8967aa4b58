"""Where Slack alerts go, and delivering messages with slack_sdk within one time budget per command run.

Secrets (webhook URLs, the bot token) are read from the environment when a message is sent and are
never stored, logged or put in a message: a destination is known by its variable or channel name.
A delivery counts only when Slack says so: HTTP 2xx *and* a webhook's `ok` body or the Web API's
`"ok": true`. Slack's Web API answers most refusals (`not_in_channel`, `channel_not_found`) with HTTP
200 and `"ok": false`; those are failed deliveries, named in the log, and the message is kept.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from warehouse.environment import BOT_TOKEN, WEBHOOK_DEFAULT, WEBHOOK_ERROR, WEBHOOK_WARNING
from warehouse.settings import AlertSettings

log = logging.getLogger(__name__)

WEBHOOK, CHANNEL = "webhook", "channel"
CRITICAL, WARNING = "critical", "warning"  # what a message is about: picks its route
POST, UPDATE = "chat.postMessage", "chat.update"  # the Web API methods nba-dq calls
NO_DESTINATION = f"no Slack destination: alerts go nowhere (set {WEBHOOK_DEFAULT}, {WEBHOOK_ERROR} or {BOT_TOKEN})"


@dataclass(frozen=True)
class Destination:
    """A webhook (by the variable that holds its URL) or a channel (posted with the bot token)."""

    kind: str  # WEBHOOK or CHANNEL
    name: str  # env variable name, or channel

    def describe(self) -> str:
        return f"webhook {self.name}" if self.kind == WEBHOOK else f"channel {self.name}"


@dataclass(frozen=True)
class Routing:
    """Destination per level; None when nothing is configured (alerts go nowhere)."""

    critical: Destination
    warning: Destination
    resolved: Destination

    def for_level(self, level: str) -> Destination:
        return {CRITICAL: self.critical, WARNING: self.warning}.get(level, self.resolved)


def routing_from_env(env: Mapping[str, str], settings: AlertSettings) -> Routing | None:
    """Webhooks win over the bot token; a level without its own webhook uses SLACK_WEBHOOK_URL."""
    hooks = {name: env.get(name, "").strip() for name in (WEBHOOK_DEFAULT, WEBHOOK_WARNING, WEBHOOK_ERROR)}
    if any(hooks.values()):
        fallback = next(name for name in (WEBHOOK_DEFAULT, WEBHOOK_ERROR, WEBHOOK_WARNING) if hooks[name])

        def hook(name: str) -> Destination:
            return Destination(WEBHOOK, name if hooks[name] else fallback)

        return Routing(critical=hook(WEBHOOK_ERROR), warning=hook(WEBHOOK_WARNING), resolved=hook(WEBHOOK_DEFAULT))
    if env.get(BOT_TOKEN, "").strip():
        return Routing(
            critical=Destination(CHANNEL, settings.channel_error),
            warning=Destination(CHANNEL, settings.channel_warning),
            resolved=Destination(CHANNEL, settings.channel),
        )
    return None


# Slack's answers that refuse the message itself, not the destination: sending it again cannot help.
MESSAGE_REFUSED = frozenset(
    {"invalid_payload", "invalid_blocks", "invalid_blocks_format", "no_text", "msg_too_long",
     "too_many_attachments", "invalid_attachments", "invalid_arguments"}
)  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """What a send came to: delivered, or why not, whether another try could help, and whether Slack
    refused the message itself (then no try ever will: the outbox moves it aside)."""

    delivered: bool
    retryable: bool = False
    retry_after: float | None = None
    problem: str = ""
    refused: bool = False
    # Where chat.postMessage put the message (a channel ID, its ts): what a thread's replies and
    # chat.update need. Webhooks say nothing of the kind: both None.
    channel: str | None = None
    ts: str | None = None


DELIVERED = Answer(True)


class SlackSender:
    """Sends messages for one command run, never raising: at most `max_tries` tries per message, and
    all of the run's tries within one `total_timeout_seconds` budget, started by the first send.

    The budget is per run, not per message or phase: `--phase all` against a Slack that hangs used to
    spend it once per phase (62 s); now the run spends it once and later messages wait in the outbox.
    Retries on 429 (waiting Retry-After when it fits the budget), 5xx and network errors, with
    backoff; any other answer (a revoked webhook, `not_in_channel`) is final.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        settings: AlertSettings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._env, self._settings, self._clock, self._sleep = env, settings, clock, sleep
        self._deadline: float | None = None

    def send(self, destination: Destination, payload: Mapping[str, Any]) -> Answer:
        """Post a message: a webhook's, or chat.postMessage to the channel (a payload's `channel` and
        `thread_ts`, a channel ID and a thread's ts, make it a reply)."""
        return self._deliver(destination, lambda timeout: self._try(destination, payload, timeout))

    def update(self, destination: Destination, payload: Mapping[str, Any]) -> Answer:
        """chat.update of a message posted with the bot token (payload: its `channel` ID and `ts`, the new
        text and blocks), within the same tries and time budget as a post."""
        return self._deliver(destination, lambda timeout: self._try(destination, payload, timeout, UPDATE))

    def _deliver(self, destination: Destination, one_try: Callable[[int], Answer]) -> Answer:
        if self._deadline is None:
            self._deadline = self._clock() + self._settings.total_timeout_seconds
        answer = Answer(False, problem="not tried: [alerts] max_tries is below 1")
        for attempt in range(1, self._settings.max_tries + 1):
            remaining = self._deadline - self._clock()
            if remaining < 1:  # a try gets at least 1 s (slack_sdk's timeout is whole seconds): none left
                spent = f"not tried: this run's {self._settings.total_timeout_seconds:g} s for Slack are spent"
                log.warning("Slack %s: %s", destination.describe(), spent)
                return Answer(False, problem=spent)
            timeout = max(1, int(min(self._settings.connect_timeout_seconds, remaining)))
            answer = one_try(timeout)
            if answer.delivered:
                return answer
            log.warning("Slack %s: try %d failed (%s)", destination.describe(), attempt, answer.problem)
            if not answer.retryable or attempt == self._settings.max_tries:
                break
            wait = answer.retry_after if answer.retry_after is not None else 0.5 * 2 ** (attempt - 1)
            if self._clock() + wait >= self._deadline:
                break
            self._sleep(wait)
        return answer

    def _try(self, destination: Destination, payload: Mapping[str, Any], timeout: int, method: str = POST) -> Answer:
        try:
            if destination.kind == WEBHOOK:
                return self._post_webhook(destination, payload, timeout)
            return self._call_web_api(destination, payload, timeout, method)
        except Exception as error:  # network errors and timeouts: the message is kept, never the run broken
            return Answer(False, retryable=True, problem=type(error).__name__)

    def _post_webhook(self, destination: Destination, payload: Mapping[str, Any], timeout: int) -> Answer:
        from slack_sdk.webhook import WebhookClient

        url = self._env.get(destination.name, "").strip()
        if not url:
            return Answer(False, problem=f"{destination.name} is not set")
        response = WebhookClient(url, timeout=timeout, retry_handlers=[]).send_dict(dict(payload))
        status, body = response.status_code, (response.body or "").strip()
        if 200 <= status < 300 and _webhook_accepted(body):
            return DELIVERED
        # A 2xx with another body is not Slack's "ok" (a proxy, a captive portal): not delivered, not retried.
        retryable = status == 429 or status >= 500
        problem = f"HTTP {status} {body[:80]!r}"
        return Answer(False, retryable, _retry_after(response.headers), problem, refused=body in MESSAGE_REFUSED)

    def _call_web_api(self, destination: Destination, payload: Mapping[str, Any], timeout: int, method: str) -> Answer:
        from slack_sdk.errors import SlackApiError

        client = web_client(self._env, self._settings, timeout)
        call = client.chat_update if method == UPDATE else client.chat_postMessage
        try:
            response = call(**{"channel": destination.name, **payload})
        except SlackApiError as error:  # raised for HTTP errors and for HTTP 200 with "ok": false
            status, reason = error.response.status_code, error.response.get("error")
            retryable = status == 429 or status >= 500
            problem = f"HTTP {status} {reason}"
            return Answer(False, retryable, _retry_after(error.response.headers), problem, reason in MESSAGE_REFUSED)
        if isinstance(response.data, dict) and response.data.get("ok") is True:
            channel, ts = response.data.get("channel"), response.data.get("ts")
            return Answer(True, channel=str(channel) if channel else None, ts=str(ts) if ts else None)
        return Answer(False, problem=f'HTTP {response.status_code} without "ok": true')


def _webhook_accepted(body: str) -> bool:
    """Incoming webhooks answer `ok`; workflow webhooks answer `{"ok": true}`."""
    if body == "ok":
        return True
    try:
        return json.loads(body).get("ok") is True
    except (ValueError, AttributeError):
        return False


def web_client(env: Mapping[str, str], settings: AlertSettings, timeout: int) -> Any:
    """slack_sdk's Web API client with the bot token, no retries of its own (the sender retries)."""
    from slack_sdk import WebClient

    return WebClient(token=env.get(BOT_TOKEN, ""), base_url=settings.slack_api_url, timeout=timeout, retry_handlers=[])


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return None
    return None
