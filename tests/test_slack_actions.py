"""POST /slack/actions: Acknowledge and Mute 24 h clicks, signed as Slack signs them, on the real Flask app
(tests/pubsub_push.py's harness, its clock fixed) with a real local Slack server taking the response_url
update; the same click on the fake GCS store; and once through a real `nba-dq serve` process."""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from reporting.incident_controls import ACKNOWLEDGE, CONTROLS, MUTE, Control, read_controls
from runners.slack_actions import ACTIONS_PATH
from state.store import open_store
from tests.conftest import Workspace, make_workspace
from tests.pubsub_push import CLOCK
from tests.service_process import ServiceProcess
from tests.slack_clicks import (
    BUTTONS,
    HEADLINE,
    INCIDENT,
    MESSAGE,
    RESPONSE_PATH,
    SECRET,
    SIGNING,
    USER,
    click,
    post,
    service,
    signed,
    updates,
    write_config,
)
from tests.slack_server import Reply, SlackServer, slack_server
from warehouse.settings import PROJECT_ROOT


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path, slack: SlackServer) -> Workspace:
    """No warehouse (a click never touches it); dq.toml lets response_urls go to the local Slack only."""
    workspace = make_workspace(tmp_path, tmp_path / "never-opened.duckdb")
    write_config(workspace, slack.url("/actions/"))
    return workspace


def test_a_signed_acknowledge_is_stored_and_its_message_loses_the_buttons(
    workspace: Workspace, slack: SlackServer
) -> None:
    app = service(workspace)
    body = click(slack)
    assert post(app, body, signed(body)) == (200, "")
    assert read_controls(app.store) == {INCIDENT: Control(acknowledged_by=USER, acknowledged_at=CLOCK.isoformat())}
    [update] = updates(slack)
    assert update["replace_original"] is True and update["text"] == MESSAGE["text"]
    line = {"type": "mrkdwn", "text": f"Acknowledged by <@{USER}> at 12:00 UTC"}
    assert update["blocks"] == [
        HEADLINE,
        {"type": "context", "block_id": f"nba_dq_control:{INCIDENT}", "elements": [line]},
    ]
    health = app.app.test_client().get("/healthz")
    assert health.get_json()["slack_actions"] is True and SECRET not in health.get_data(as_text=True)


def test_mute_stores_muted_until_24_hours_after_the_click(workspace: Workspace, slack: SlackServer) -> None:
    app = service(workspace)
    body = click(slack, MUTE)
    assert post(app, body, signed(body))[0] == 200
    control = read_controls(app.store)[INCIDENT]
    assert control == Control(muted_by=USER, muted_until=(CLOCK + timedelta(hours=24)).isoformat())
    assert control.muted(CLOCK + timedelta(hours=23, minutes=59)) and not control.muted(CLOCK + timedelta(hours=24))
    [update] = updates(slack)
    assert update["blocks"][1]["elements"][0]["text"] == f"Muted until 2026-01-01 12:00 UTC by <@{USER}>"
    assert not any(block["type"] == "actions" for block in update["blocks"])


@pytest.mark.parametrize("shared_block", [False, True], ids=["a-block-each", "one-block"])
def test_a_message_about_several_incidents_keeps_the_other_incidents_buttons(
    workspace: Workspace, slack: SlackServer, shared_block: bool
) -> None:
    """Root cause first: one message about two incidents, each with its pair of buttons (an actions
    block each, as reporting/alert_messages.py builds them, or both in one block)."""
    other = "phase5|system_coverage"
    pairs = [BUTTONS["elements"], [{**button, "value": other} for button in BUTTONS["elements"]]]
    actions = [{"type": "actions", "elements": pair} for pair in pairs]
    if shared_block:
        actions = [{"type": "actions", "elements": [*pairs[0], *pairs[1]]}]
    app = service(workspace)
    first = click(slack, ACKNOWLEDGE, message={**MESSAGE, "blocks": [HEADLINE, *actions]})
    assert post(app, first, signed(first))[0] == 200
    [update] = updates(slack)
    assert [block["type"] for block in update["blocks"]] == ["section", "context", "actions"]
    assert update["blocks"][1]["elements"][0]["text"] == f"player_coverage: Acknowledged by <@{USER}> at 12:00 UTC"
    assert update["blocks"][2]["elements"] == pairs[1]  # the other incident can still be clicked
    second = click(slack, MUTE, other, message={**MESSAGE, "blocks": update["blocks"]})
    assert post(app, second, signed(second))[0] == 200
    assert [block["type"] for block in updates(slack)[1]["blocks"]] == ["section", "context", "context"]
    assert updates(slack)[1]["blocks"][2]["elements"][0]["text"].startswith("system_coverage: Muted until 2026-01-01")
    assert set(read_controls(app.store)) == {INCIDENT, other}


def _tampered(body: bytes) -> tuple[bytes, dict[str, str]]:
    other = body.replace(b"player_coverage", b"system_coverage")
    assert other != body
    return other, signed(body)


@pytest.mark.parametrize(
    ("request_of", "why"),
    [
        (lambda body: (body, signed(body, secret="another-apps-signing-secret")), "signature does not match"),
        (lambda body: (body, {}), "no X-Slack-Request-Timestamp or X-Slack-Signature"),
        (lambda body: (body, {"X-Slack-Request-Timestamp": signed(body)["X-Slack-Request-Timestamp"]}), "no X-Slack"),
        (lambda body: (body, {**signed(body), "X-Slack-Request-Timestamp": "soon"}), "is not a Unix time"),
        (lambda body: (body, signed(body, at=CLOCK - timedelta(seconds=301))), "more than 5 minutes from now"),
        (lambda body: (body, signed(body, at=CLOCK + timedelta(seconds=301))), "more than 5 minutes from now"),
        (_tampered, "signature does not match"),
        (lambda body: (body, {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64}), "signature does not match"),
    ],
    ids=[
        "wrong-secret",
        "no-headers",
        "no-signature",
        "timestamp-not-a-number",
        "stale",
        "future",
        "tampered-body",
        "forged-signature",
    ],
)
def test_a_request_slack_did_not_sign_now_is_401_and_changes_nothing(
    workspace: Workspace, slack: SlackServer, request_of: Any, why: str
) -> None:
    app = service(workspace)
    body, headers = request_of(click(slack))
    status, text = post(app, body, headers)
    assert status == 401 and why in text and "\n" not in text
    assert app.store.read(CONTROLS) is None and slack.received == []


def test_a_signature_replayed_after_5_minutes_is_refused(workspace: Workspace, slack: SlackServer) -> None:
    app = service(workspace)
    body = click(slack)
    headers = signed(body)
    app.now = CLOCK + timedelta(minutes=5)  # still inside Slack's window
    assert post(app, body, headers)[0] == 200
    app.now = CLOCK + timedelta(minutes=5, seconds=1)
    status, text = post(app, body, headers)
    assert (status, text) == (
        401,
        "X-Slack-Request-Timestamp is more than 5 minutes from now (a replay, or a clock off)",
    )


def test_without_a_signing_secret_every_click_is_403_said_once_in_the_log(
    workspace: Workspace, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = service(workspace, env={})
    body = click(slack)
    with caplog.at_level(logging.WARNING, logger="runners.slack_actions"):
        answers = [post(app, body, signed(body)) for _ in range(3)]
    assert answers == [(403, "SLACK_SIGNING_SECRET is not set: Slack's signature cannot be verified")] * 3
    assert [record.getMessage() for record in caplog.records if record.name == "runners.slack_actions"] == [
        "SLACK_SIGNING_SECRET is not set: every click on /slack/actions is refused (403)"
    ]
    assert app.store.read(CONTROLS) is None and slack.received == []
    health = app.app.test_client().get("/healthz").get_json()
    assert health["slack_actions"] is False


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"action": "nba_dq_delete_everything"}, "unknown action 'nba_dq_delete_everything'"),
        ({"incident": "phase9|player_coverage"}, "unknown incident 'phase9|player_coverage'"),
        ({"incident": "phase5|player_coverage'; DROP TABLE x"}, "unknown incident"),
        ({"incident": "phase5"}, "unknown incident 'phase5'"),
        ({"incident": "phase5|../../ledger"}, "unknown incident"),
        ({"incident": "phase5|" + "x" * 5000}, "unknown incident 'phase5|xxxxxxxx"),
        ({"type": "view_submission"}, "payload type 'view_submission' is not handled"),
        ({"user": {"name": "no id"}}, "names no Slack user"),
        ({"actions": []}, "exactly one action"),
    ],
    ids=[
        "unknown-action",
        "unknown-phase",
        "bad-check-name",
        "no-check",
        "path-in-key",
        "long-key",
        "other-payload",
        "no-user",
        "no-action",
    ],
)
def test_a_signed_request_that_is_not_one_of_our_clicks_is_400_in_one_line(
    workspace: Workspace, slack: SlackServer, changes: dict[str, Any], why: str
) -> None:
    app = service(workspace)
    fields = {key: changes.pop(key) for key in ("action", "incident") if key in changes}
    body = click(slack, **fields, **changes)
    status, text = post(app, body, signed(body))
    assert status == 400 and why in text and "\n" not in text and len(text) < 200
    assert app.store.read(CONTROLS) is None and slack.received == []


@pytest.mark.parametrize("body", [b"payload=%7Bnot+json", b"\xff\xfe", b"text=no+payload", b""])
def test_a_signed_body_that_is_not_a_slack_form_is_400(workspace: Workspace, slack: SlackServer, body: bytes) -> None:
    app = service(workspace)
    status, text = post(app, body, signed(body))
    assert status == 400 and text.startswith("not a Slack interaction")


def test_a_response_url_on_another_host_is_not_called(workspace: Workspace, slack: SlackServer) -> None:
    app = service(workspace)
    with slack_server() as elsewhere:  # another origin (its own port): not under the configured prefix
        body = click(slack, response_url=elsewhere.url(RESPONSE_PATH))
        assert post(app, body, signed(body)) == (200, "")
        sneaky = click(slack, MUTE, response_url=slack.url("/actionsX/../elsewhere"))
        assert post(app, sneaky, signed(sneaky)) == (200, "")
        broken = click(slack, MUTE, response_url="http://[::1/actions/")  # not even a URL: logged as such
        assert post(app, broken, signed(broken)) == (200, "")
        assert elsewhere.received == [] and slack.received == []
    control = read_controls(app.store)[INCIDENT]
    assert control.acknowledged_by == USER and control.muted_by == USER  # the clicks were still taken


@pytest.mark.parametrize("reply", [Reply(404, "expired_url"), Reply(500, "oops")], ids=["expired", "slack-down"])
def test_a_failed_update_does_not_undo_the_stored_click(workspace: Workspace, slack: SlackServer, reply: Reply) -> None:
    slack.default = reply
    app = service(workspace)
    body = click(slack)
    assert post(app, body, signed(body)) == (200, "")
    assert len(updates(slack)) == 1  # tried once: an HTTP answer is not retried
    assert read_controls(app.store)[INCIDENT].acknowledged_by == USER


def test_a_response_url_that_refuses_connections_does_not_undo_the_stored_click(
    workspace: Workspace, slack: SlackServer
) -> None:
    with slack_server() as gone:  # stopped at once: its port refuses connections
        prefix = gone.url("/actions/")
    write_config(workspace, prefix)
    app = service(workspace)
    body = click(slack, response_url=prefix + "T0001/1/x")
    assert post(app, body, signed(body)) == (200, "")
    assert read_controls(app.store)[INCIDENT].acknowledged_by == USER


def test_the_same_click_twice_leaves_one_control_written_once(workspace: Workspace, slack: SlackServer) -> None:
    app = service(workspace)
    body = click(slack, MUTE)
    headers = signed(body)
    assert post(app, body, headers)[0] == 200
    first = app.store.read(CONTROLS)
    app.now = CLOCK + timedelta(seconds=30)  # Slack's client sent it again, or someone replayed it in the window
    assert post(app, body, headers)[0] == 200
    assert app.store.read(CONTROLS) == first  # same document, same version: not even rewritten
    assert list(read_controls(app.store)) == [INCIDENT]


def test_a_corrupt_controls_document_is_quarantined_and_the_click_still_stored(
    workspace: Workspace, slack: SlackServer
) -> None:
    app = service(workspace)
    path = Path(app.store.location) / CONTROLS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"phase5|player_cov')  # cut short by a full disk
    body = click(slack)
    assert post(app, body, signed(body))[0] == 200
    assert read_controls(app.store) == {INCIDENT: Control(acknowledged_by=USER, acknowledged_at=CLOCK.isoformat())}
    [(where, why)] = app.store.quarantined()
    assert where.endswith("-alerts-controls.json") and "JSONDecodeError" in why


def test_a_body_larger_than_any_click_is_refused_unread(workspace: Workspace, slack: SlackServer) -> None:
    app = service(workspace)
    body = b"payload=" + b"x" * (2 << 20)
    assert post(app, body, signed(body))[0] == 413
    assert app.store.read(CONTROLS) is None


@pytest.mark.parametrize(
    "prefix", ["https://hooks.slack.com", "https://hooks.slack.com/actions", "hooks.slack.com/", "https://user@x/"]
)
def test_the_response_url_prefix_must_fix_the_host(tmp_path: Path, prefix: str) -> None:
    text = (PROJECT_ROOT / "dq.toml").read_text()
    config = tmp_path / "prefix.toml"
    config.write_text(text.replace('"https://hooks.slack.com/"', f'"{prefix}"'))
    workspace = make_workspace(tmp_path, tmp_path / "never-opened.duckdb")
    result = workspace.cli("doctor", env={"NBA_DQ_CONFIG": str(config)})
    assert result.code == 1
    assert f"[alerts] slack_response_url_prefix = '{prefix}': must be an http(s) URL" in result.out


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({}, "ok SLACK_SIGNING_SECRET not set: `nba-dq serve` refuses Acknowledge and Mute clicks (403); an error"),
        ({"NBA_DQ_ENV": "production"}, "FAIL SLACK_SIGNING_SECRET not set"),
        ({**SIGNING, "NBA_DQ_ENV": "production"}, "ok SLACK_SIGNING_SECRET set: clicks verified"),
    ],
    ids=["development", "production", "production-with-secret"],
)
def test_doctor_says_whether_clicks_can_be_verified(tmp_path: Path, env: dict[str, str], line: str) -> None:
    workspace = make_workspace(tmp_path, tmp_path / "never-opened.duckdb")
    result = workspace.cli("doctor", env=env)
    [found] = [row for row in result.out.splitlines() if row[6:].startswith("slack actions")]
    status, detail = found[:4].strip(), found[6:].removeprefix("slack actions").strip()
    assert f"{status} {detail}".startswith(line) and SECRET not in result.out


def test_a_click_on_the_shared_gcs_store_twice_is_one_control(workspace: Workspace, slack: SlackServer) -> None:
    from state.gcs import GcsStore
    from tests.gcs_server import gcs_server

    with gcs_server() as gcs:
        app = service(workspace, store=GcsStore(gcs.url("state")))
        body = click(slack)
        assert [post(app, body, signed(body))[0] for _ in range(2)] == [200, 200]
        other_instance = GcsStore(gcs.url("state"))
        assert read_controls(other_instance) == {
            INCIDENT: Control(acknowledged_by=USER, acknowledged_at=CLOCK.isoformat())
        }
        assert len(updates(slack)) == 2  # each delivery shows the click (the message is replaced twice, alike)


def test_a_real_nba_dq_serve_takes_a_click(workspace: Workspace, slack: SlackServer, tmp_path: Path) -> None:
    """gunicorn in front: the raw body the signature covers reaches the app unchanged."""
    config = {"NBA_DQ_CONFIG": str(workspace.root / "slack.toml"), "NBA_DQ_PUSH_AUTH": "off"}
    env = {**os.environ, **workspace.env, **SIGNING, **config}
    served = ServiceProcess(env, tmp_path / "serve.log").start()
    try:
        body = click(slack, MUTE)
        headers = signed(body, at=datetime.now(timezone.utc))
        request = urllib.request.Request(served.url + ACTIONS_PATH, data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        assert read_controls(open_store(workspace.settings))[INCIDENT].muted_by == USER
        assert len(updates(slack)) == 1
    finally:
        served.stop()
