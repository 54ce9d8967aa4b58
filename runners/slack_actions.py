"""POST /slack/actions: Acknowledge and Mute 24 h clicked on an alert in Slack, taken by `nba-dq serve`.

Slack posts the click form-encoded (`payload` = the block_actions JSON), signed with the Slack app's
signing secret: X-Slack-Signature = "v0=" + hex HMAC-SHA256 of "v0:{X-Slack-Request-Timestamp}:{raw
body}". A request is taken only when that signature matches (compared in constant time) and its
timestamp is within 5 minutes of now, so a captured request cannot be replayed later. Without
SLACK_SIGNING_SECRET nothing can be verified and every click is refused (403), never taken unverified.

The click is stored as an incident control (reporting/incident_controls.py: compare-and-set on the
shared state store), timed by the signed request timestamp: the same request delivered twice writes
the same control. No warehouse work happens here: Slack wants its 200 within 3 s. The message is then
updated through the click's `response_url` (its buttons replaced by who acknowledged or muted it),
only when that URL is under `[alerts] slack_response_url_prefix` (Slack's host): the payload is
signed, but the endpoint must never be a way to make nba-dq POST anywhere. That update is best effort:
the control is already stored, and a lost update only leaves the buttons showing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from expectations.check_names import CHECK_NAMES
from reporting.incident_controls import ACKNOWLEDGE, MUTE, MUTE_HOURS, Control, acknowledge, mute
from state.store import StateStore, StateUnavailable
from warehouse.environment import SIGNING_SECRET
from warehouse.settings import Settings

log = logging.getLogger(__name__)

ACTIONS_PATH = "/slack/actions"
MAX_ACTION_BYTES = 1 << 20  # a click with its message (at most 50 blocks) is far smaller
MAX_AGE_SECONDS = 5 * 60  # Slack's documented window for a request's timestamp
RESPONSE_TIMEOUT_SECONDS = 1.0  # per try: the store write and at most two tries stay inside Slack's 3 s
TIMESTAMP_HEADER, SIGNATURE_HEADER = "X-Slack-Request-Timestamp", "X-Slack-Signature"
CHECK_SHAPE = re.compile(r"[a-z][a-z0-9_]{0,99}")  # a check's name (could-not-run incidents have their own)
USER_SHAPE = re.compile(r"[A-Z0-9]{2,32}")  # Slack user IDs: U… or W…
CONTROL_LINE = "nba_dq_control:"  # the block_id of a line saying who acknowledged or muted an incident


@dataclass(frozen=True)
class Answer:
    """The HTTP answer: a status and one line (empty on success: Slack shows nothing for a 200)."""

    status: int
    text: str = ""


@dataclass(frozen=True)
class Click:
    action: str  # ACKNOWLEDGE or MUTE
    incident: str  # "phase|check"
    user: str
    response_url: str | None
    message: Mapping[str, Any] | None  # the message clicked on, as Slack sends it back


class Rejected(ValueError):
    """A signed request that is not a click nba-dq knows (answered 400 with this line)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature of a request (also what the tests sign with)."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def refusal(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
    """Why the request is not verifiably Slack's, or None when it is."""
    timestamp, signed = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
    if not timestamp or not signed:
        return f"no {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header"
    if not re.fullmatch(r"\d{1,12}", timestamp):
        return f"{TIMESTAMP_HEADER} is not a Unix time"
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {MAX_AGE_SECONDS // 60} minutes from now (a replay, or a clock off)"
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), signed.encode("utf-8", "replace")):
        return "signature does not match (another app's secret, or a changed body)"
    return None


def parse_click(body: bytes) -> Click:
    """The one button click a block_actions payload carries; Rejected saying what is wrong otherwise."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError) as error:
        why = type(error).__name__
        raise Rejected(f"not a Slack interaction: a form with a JSON payload expected ({why})") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        kind = payload.get("type") if isinstance(payload, dict) else type(payload).__name__
        raise Rejected(f"payload type {_shown(kind)} is not handled: only block_actions (button clicks)")
    actions, user = payload.get("actions"), payload.get("user")
    if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], dict):
        raise Rejected("a block_actions payload with exactly one action expected")
    action, incident = actions[0].get("action_id"), actions[0].get("value")
    if action not in (ACKNOWLEDGE, MUTE):
        raise Rejected(f"unknown action {_shown(action)}: nba-dq's buttons are {ACKNOWLEDGE} and {MUTE}")
    if not _known_incident(incident):
        raise Rejected(f"unknown incident {_shown(incident)}: expected phase|check with a known phase")
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not USER_SHAPE.fullmatch(user_id):
        raise Rejected("the payload names no Slack user who clicked")
    response_url, message = payload.get("response_url"), payload.get("message")
    return Click(
        action,
        incident,
        user_id,
        response_url if isinstance(response_url, str) else None,
        message if isinstance(message, dict) else None,
    )


def _shown(value: Any) -> str:
    """A value from the payload in an answer or a log line: quoted, on one line, at most 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _known_incident(incident: Any) -> bool:
    if not isinstance(incident, str):
        return False
    phase, _, check = incident.partition("|")
    return phase in CHECK_NAMES and CHECK_SHAPE.fullmatch(check) is not None


def store_click(store: StateStore, click: Click, at: datetime) -> Control:
    if click.action == ACKNOWLEDGE:
        return acknowledge(store, click.incident, click.user, at)
    return mute(store, click.incident, click.user, at + timedelta(hours=MUTE_HOURS))


def control_line(click: Click, control: Control, named: bool) -> str:
    """Who did what, in UTC; `named` starts it with the check (a message about several incidents)."""
    check = f"{click.incident.partition('|')[2]}: " if named else ""
    if click.action == ACKNOWLEDGE and control.acknowledged_at is not None:
        return f"{check}Acknowledged by <@{click.user}> at {_utc(control.acknowledged_at):%H:%M} UTC"
    assert control.muted_until is not None
    return f"{check}Muted until {_utc(control.muted_until):%Y-%m-%d %H:%M} UTC by <@{click.user}>"


def updated_message(message: Mapping[str, Any], click: Click, control: Control) -> dict[str, Any] | None:
    """The clicked message with the clicked incident's buttons replaced by a context line saying who did
    what; other incidents' buttons stay (in the same actions block, after the line). The line names the
    check when the message is about several incidents. None when the message holds no such button."""
    blocks = message.get("blocks")
    if not isinstance(blocks, list):
        return None
    clicked = next((at for at, block in enumerate(blocks) if _holds_click(block, click)), None)
    if clicked is None:
        return None
    other_incidents = {button.get("value") for block in blocks for button in _buttons(block)} - {click.incident}
    named = bool(other_incidents) or any(_is_control_line(block) for block in blocks)
    line = control_line(click, control, named)
    context = {
        "type": "context",
        "block_id": CONTROL_LINE + click.incident,
        "elements": [{"type": "mrkdwn", "text": line}],
    }
    removed = [button for button in _buttons(blocks[clicked]) if button.get("value") == click.incident]
    others = [element for element in blocks[clicked]["elements"] if element not in removed]
    kept = [context, {**blocks[clicked], "elements": others}] if others else [context]
    updated = [*blocks[:clicked], *kept, *blocks[clicked + 1 :]]
    return {"replace_original": True, "text": message.get("text") or line, "blocks": updated}


def _buttons(block: Any) -> list[dict[str, Any]]:
    """nba-dq's Acknowledge and Mute buttons in a block (none unless it is an actions block)."""
    if not isinstance(block, dict) or block.get("type") != "actions" or not isinstance(block.get("elements"), list):
        return []
    return [
        element
        for element in block["elements"]
        if isinstance(element, dict) and element.get("action_id") in (ACKNOWLEDGE, MUTE)
    ]


def _holds_click(block: Any, click: Click) -> bool:
    return any(
        button["action_id"] == click.action and button.get("value") == click.incident for button in _buttons(block)
    )


def _is_control_line(block: Any) -> bool:
    return isinstance(block, dict) and str(block.get("block_id", "")).startswith(CONTROL_LINE)


def post_update(url: str, message: Mapping[str, Any], prefix: str) -> bool:
    """POST the updated message to Slack's response_url; False (logged, never raised) when it did not
    take it. One retry, on a connection error only: the whole answer must fit Slack's 3 s."""
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
    from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
    from slack_sdk.webhook import WebhookClient

    retry = ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.1))
    client = WebhookClient(url, timeout=RESPONSE_TIMEOUT_SECONDS, retry_handlers=[retry])
    try:
        response = client.send_dict(dict(message))
    except Exception as error:  # a network failure must not turn a stored click into an error
        log.warning("Slack message not updated (response_url under %s): %s", prefix, type(error).__name__)
        return False
    if response.status_code != 200:
        log.warning(
            "Slack message not updated: response_url answered %s %s", response.status_code, _shown(response.body)
        )
        return False
    return True


class SlackActions:
    """The endpoint's handling, independent of Flask: one per app (it logs a missing secret once)."""

    def __init__(self, settings: Settings, env: Mapping[str, str], store: StateStore) -> None:
        self.secret = env.get(SIGNING_SECRET, "").strip()
        self.prefix = settings.alerts.slack_response_url_prefix
        self.store = store
        self._missing_secret_logged = threading.Event()

    def answer(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Answer:
        if not self.secret:
            if not self._missing_secret_logged.is_set():
                self._missing_secret_logged.set()
                log.warning("%s is not set: every click on %s is refused (403)", SIGNING_SECRET, ACTIONS_PATH)
            return Answer(403, f"{SIGNING_SECRET} is not set: Slack's signature cannot be verified")
        refused = refusal(self.secret, headers, body, now.timestamp())
        if refused:
            log.warning("Slack action refused: %s", refused)
            return Answer(401, refused)
        try:
            click = parse_click(body)
        except Rejected as error:
            log.warning("Slack action rejected: %s", error)
            return Answer(400, str(error))
        at = datetime.fromtimestamp(int(headers[TIMESTAMP_HEADER]), timezone.utc)
        try:
            control = store_click(self.store, click, at)
        except StateUnavailable as error:
            log.error("Slack action %s on %s not stored: %s", click.action, click.incident, error)
            return Answer(503, f"not stored, click again: {error}")
        log.info("Slack action %s on %s by %s stored", click.action, click.incident, click.user)
        self._show(click, control)
        return Answer(200)

    def _show(self, click: Click, control: Control) -> None:
        if click.response_url is None or click.message is None:
            return
        if not click.response_url.startswith(self.prefix):
            log.warning(
                "response_url on %s is not under [alerts] slack_response_url_prefix: not posted",
                _host(click.response_url),
            )
            return
        message = updated_message(click.message, click, control)
        if message is not None:
            post_update(click.response_url, message, self.prefix)


def _host(url: str) -> str:
    """Only the host of a refused URL is logged: a response_url is a credential for its message."""
    try:
        return str(urlsplit(url).hostname)
    except ValueError:
        return "an unparsable URL"


def _utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(timezone.utc)
