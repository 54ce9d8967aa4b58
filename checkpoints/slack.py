"""Where Slack alerts go, and delivering one message with slack_sdk within a fixed time budget.

Secrets (webhook URLs, the bot token) are read from the environment when a message is sent and are
never stored, logged or put in a message: a destination is known by its variable or channel name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from warehouse.environment import BOT_TOKEN, WEBHOOK_DEFAULT, WEBHOOK_ERROR, WEBHOOK_WARNING
from warehouse.errors import CouldNotRun
from warehouse.settings import AlertSettings

log = logging.getLogger(__name__)

WEBHOOK, CHANNEL = "webhook", "channel"
CRITICAL, WARNING, RESOLVED = "critical", "warning", "resolved"  # what a message is about: picks its route


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


class SlackSender:
    """Sends one message: at most `max_tries` tries within `total_timeout_seconds`, never raising.

    Retries on 429 (waiting Retry-After when it fits the budget), 5xx and network errors, with
    backoff; any other answer (a revoked webhook, a bad channel) is final.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        settings: AlertSettings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._env, self._settings, self._clock, self._sleep = env, settings, clock, sleep

    def send(self, destination: Destination, payload: Mapping[str, Any]) -> bool:
        deadline = self._clock() + self._settings.total_timeout_seconds
        for attempt in range(1, self._settings.max_tries + 1):
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            timeout = max(1, int(min(self._settings.connect_timeout_seconds, remaining)))
            status, retry_after, problem = self._try(destination, payload, timeout)
            if status is not None and 200 <= status < 300:
                return True
            retryable = status is None or status == 429 or status >= 500
            log.warning("Slack %s: try %d failed (%s)", destination.describe(), attempt, problem)
            if not retryable or attempt == self._settings.max_tries:
                break
            wait = retry_after if retry_after is not None else 0.5 * 2 ** (attempt - 1)
            if self._clock() + wait >= deadline:
                break
            self._sleep(wait)
        return False

    def _try(
        self, destination: Destination, payload: Mapping[str, Any], timeout: int
    ) -> tuple[int | None, float | None, str]:
        """(HTTP status or None for a network error, Retry-After seconds, what went wrong)."""
        try:
            if destination.kind == WEBHOOK:
                from slack_sdk.webhook import WebhookClient

                client = WebhookClient(self._env.get(destination.name, ""), timeout=timeout, retry_handlers=[])
                response = client.send_dict(dict(payload))
                return response.status_code, _retry_after(response.headers), f"HTTP {response.status_code}"
            from slack_sdk import WebClient
            from slack_sdk.errors import SlackApiError

            web = WebClient(
                token=self._env.get(BOT_TOKEN, ""),
                base_url=self._settings.slack_api_url,
                timeout=timeout,
                retry_handlers=[],
            )
            try:
                web.chat_postMessage(channel=destination.name, **payload)
            except SlackApiError as error:
                status = error.response.status_code
                return status, _retry_after(error.response.headers), f"HTTP {status} {error.response.get('error')}"
            return 200, None, "ok"
        except Exception as error:  # network errors and timeouts: the message is kept, never the run broken
            return None, None, type(error).__name__


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return None
    return None


def check_destination(env: Mapping[str, str], settings: AlertSettings) -> str:
    """What `nba-dq doctor` reports for Slack: where alerts go, the bot token checked with auth.test;
    CouldNotRun when alerts would go nowhere or the token is refused. Webhooks are not posted to."""
    routing = routing_from_env(env, settings)
    if routing is None:
        raise CouldNotRun(f"no destination: alerts go nowhere (set {WEBHOOK_DEFAULT}, {WEBHOOK_ERROR} or {BOT_TOKEN})")
    routes = f"critical -> {routing.critical.describe()}, warning -> {routing.warning.describe()}"
    if routing.critical.kind == WEBHOOK:
        return f"{routes} (a webhook cannot be tested without posting)"
    from slack_sdk import WebClient

    web = WebClient(
        token=env.get(BOT_TOKEN, ""),
        base_url=settings.slack_api_url,
        timeout=max(1, int(settings.connect_timeout_seconds)),
        retry_handlers=[],
    )
    try:
        identity = web.auth_test()
    except Exception as error:  # SlackApiError carries Slack's reason; anything else is the network
        reason = getattr(getattr(error, "response", None), "get", lambda _key: None)("error") or type(error).__name__
        raise CouldNotRun(f"{BOT_TOKEN} refused by auth.test: {reason}") from error
    return f"{routes}; bot token valid (team {identity.get('team')}, user {identity.get('user')})"
