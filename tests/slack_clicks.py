"""Slack button clicks as Slack sends them to POST /slack/actions: a block_actions form signed with the
app's signing secret, posted to an `nba-dq serve` app (tests/pubsub_push.py's harness) whose dq.toml lets
response_urls go only to a local Slack server (tests/slack_server.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from reporting.incident_controls import ACKNOWLEDGE, MUTE
from runners.slack_actions import ACTIONS_PATH, signature
from state.store import StateStore
from tests.conftest import Workspace
from tests.pubsub_push import CLOCK, Service
from tests.slack_server import SlackServer
from warehouse.settings import PROJECT_ROOT

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # a made-up signing secret (Slack's are 32 hex-like characters)
SIGNING = {"SLACK_SIGNING_SECRET": SECRET}
INCIDENT = "phase5|player_coverage"
USER = "U024BE7LH"
RESPONSE_PATH = "/actions/T0001/1234567890/s3cr3tResp0nse"
BUTTONS = {
    "type": "actions",
    "block_id": "incident-controls",
    "elements": [
        {"type": "button", "action_id": ACKNOWLEDGE, "value": INCIDENT, "text": {"type": "plain_text", "text": "Ack"}},
        {"type": "button", "action_id": MUTE, "value": INCIDENT, "text": {"type": "plain_text", "text": "Mute 24 h"}},
    ],
}
HEADLINE = {"type": "section", "text": {"type": "mrkdwn", "text": "*phase5 2025-12-30: FAIL* player_coverage"}}
MESSAGE = {"type": "message", "text": "phase5 2025-12-30: FAIL", "blocks": [HEADLINE, BUTTONS]}


def write_config(workspace: Workspace, prefix: str) -> None:
    text = (PROJECT_ROOT / "dq.toml").read_text()
    key = 'slack_response_url_prefix = "https://hooks.slack.com/"'
    assert key in text
    (workspace.root / "slack.toml").write_text(text.replace(key, f'slack_response_url_prefix = "{prefix}"'))


def service(workspace: Workspace, env: Mapping[str, str] = SIGNING, store: StateStore | None = None) -> Service:
    return Service(workspace, env={"NBA_DQ_CONFIG": str(workspace.root / "slack.toml"), **env}, store=store)


def click(
    slack: SlackServer,
    action: str = ACKNOWLEDGE,
    incident: str = INCIDENT,
    response_url: str | None = None,
    **changes: Any,
) -> bytes:
    """A block_actions request body as Slack sends it: a form whose `payload` is the JSON."""
    payload = {
        "type": "block_actions",
        "user": {"id": USER, "username": "oncall", "team_id": "T0001"},
        "team": {"id": "T0001", "domain": "nba-props"},
        "channel": {"id": "C0NBADQ", "name": "nba-dq-alerts"},
        "container": {"type": "message", "message_ts": "1767182400.000100", "channel_id": "C0NBADQ"},
        "response_url": response_url or slack.url(RESPONSE_PATH),
        "message": MESSAGE,
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": "incident-controls",
                "value": incident,
                "action_ts": "1767182401.123456",
            }
        ],
        **changes,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes, at: datetime = CLOCK, secret: str = SECRET) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature(secret, timestamp, body)}


def post(app: Service, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
    response = app.app.test_client().post(
        ACTIONS_PATH, data=body, headers=dict(headers), content_type="application/x-www-form-urlencoded"
    )
    return response.status_code, response.get_data(as_text=True)


def updates(slack: SlackServer) -> list[dict[str, Any]]:
    return [request.json() for request in slack.received if request.path == RESPONSE_PATH]
