"""`nba-dq doctor` on a real seeded DuckDB file and a real HTTP server standing in for Slack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Workspace
from tests.slack_server import Reply, SlackServer, slack_server
from warehouse.settings import PROJECT_ROOT

WEBHOOK = {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/never-posted-by-doctor"}


def _lines(out: str) -> dict[str, str]:
    """subject -> the line's status and detail."""
    found = {}
    for line in out.splitlines()[1:]:
        status, rest = line[:4].strip(), line[6:]
        subject, _, detail = rest.partition("  ")
        found[subject.strip()] = f"{status} {detail.strip()}"
    return found


def test_everything_in_place_exits_0(scratch: Workspace) -> None:
    result = scratch.cli("doctor", env=WEBHOOK)
    assert result.code == 0, result.out
    lines = _lines(result.out)
    assert result.out.startswith("nba-dq doctor: ok")
    assert all(line.startswith("ok") for line in lines.values())
    assert "table nba_predictions.player_prop_predictions" in lines and "history" in lines
    assert scratch.cli("doctor", "--json", env=WEBHOOK).json()["status"] == "pass"


def test_a_dropped_column_fails_its_table_only(scratch: Workspace, sql: Callable[[str], None]) -> None:
    sql("ALTER TABLE nba_predictions.player_prop_predictions DROP COLUMN confidence_score")
    result = scratch.cli("doctor", env=WEBHOOK)
    assert result.code == 1
    lines = _lines(result.out)
    assert lines["table nba_predictions.player_prop_predictions"] == (
        "FAIL nba_predictions.player_prop_predictions has no column confidence_score"
    )
    assert lines["table nba_raw.nbac_schedule"].startswith("ok")


def test_a_retyped_column_and_a_missing_table_are_named(scratch: Workspace, sql: Callable[[str], None]) -> None:
    sql("ALTER TABLE nba_raw.nbac_schedule ALTER game_status TYPE VARCHAR")
    sql("DROP TABLE nba_predictions.prediction_accuracy")
    lines = _lines(scratch.cli("doctor", env=WEBHOOK).out)
    assert lines["table nba_raw.nbac_schedule"].startswith("FAIL nba_raw.nbac_schedule.game_status is VARCHAR")
    assert lines["table nba_predictions.prediction_accuracy"] == (
        "FAIL table nba_predictions.prediction_accuracy is missing"
    )


def test_no_slack_destination_is_a_warning_in_development_and_a_fail_in_production(scratch: Workspace) -> None:
    development = scratch.cli("doctor")  # what `make demo` leaves: run only warns, and so does doctor
    assert development.code == 0 and development.out.startswith("nba-dq doctor: ok, 1 warning(s)")
    assert _lines(development.out)["slack"].startswith("warn no Slack destination: alerts go nowhere")
    production = scratch.cli("doctor", env={"NBA_DQ_ENV": "production"})  # run exits 2 there
    assert production.code == 1
    assert _lines(production.out)["slack"].startswith("FAIL no Slack destination: alerts go nowhere")


def _bot_env(slack: SlackServer, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "token.toml"
    text = (PROJECT_ROOT / "dq.toml").read_text()
    config.write_text(
        text.replace('slack_api_url = "https://slack.com/api/"', f'slack_api_url = "{slack.url("/api/")}"')
    )
    return {"NBA_DQ_CONFIG": str(config), "SLACK_BOT_TOKEN": "xoxb-s3cr3t-t0ken"}


def _channels(*channels: dict[str, object]) -> Reply:
    return Reply(200, json.dumps({"ok": True, "channels": list(channels), "response_metadata": {"next_cursor": ""}}))


IDENTITY = Reply(200, '{"ok": true, "team": "nba", "user": "nba-dq"}')
MEMBER_OF_BOTH = _channels({"name": "nba-dq", "is_member": True}, {"name": "nba-dq-alerts", "is_member": True})


def test_bot_token_is_checked_with_auth_test(scratch: Workspace, tmp_path: Path) -> None:
    with slack_server() as slack:
        env = _bot_env(slack, tmp_path)
        slack.routes = {"/api/auth.test": IDENTITY, "/api/conversations.list": MEMBER_OF_BOTH}
        good = scratch.cli("doctor", env=env)
        slack.routes["/api/auth.test"] = Reply(200, '{"ok": false, "error": "invalid_auth"}')
        bad = scratch.cli("doctor", env=env)
        paths = [request.path.split("?")[0] for request in slack.received]
    assert paths == ["/api/auth.test", "/api/conversations.list", "/api/conversations.list", "/api/auth.test"]
    assert good.code == 0 and "bot token valid (team nba, user nba-dq)" in _lines(good.out)["slack"]
    assert "can post to #nba-dq-alerts, #nba-dq" in _lines(good.out)["slack"]
    assert bad.code == 1 and _lines(bad.out)["slack"] == "FAIL SLACK_BOT_TOKEN refused by auth.test: invalid_auth"
    assert "s3cr3t" not in good.out + bad.out + good.err + bad.err


@pytest.mark.parametrize(
    ("channels", "problem"),
    [
        (
            _channels({"name": "nba-dq", "is_member": True}, {"name": "nba-dq-alerts", "is_member": False}),
            "the bot is not a member of #nba-dq-alerts",
        ),
        (_channels({"name": "nba-dq", "is_member": True}), "#nba-dq-alerts does not exist or the bot cannot see it"),
        (
            _channels(
                {"name": "nba-dq", "is_member": True, "is_archived": True}, {"name": "nba-dq-alerts", "is_member": True}
            ),
            "#nba-dq is archived",
        ),
        (Reply(200, '{"ok": false, "error": "missing_scope"}'), "#nba-dq-alerts cannot be looked up (missing_scope"),
    ],
    ids=["not a member", "no such channel", "archived", "missing scope"],
)
def test_a_channel_the_bot_cannot_post_to_fails_without_posting(
    scratch: Workspace, tmp_path: Path, channels: Reply, problem: str
) -> None:
    """auth.test passed for a bot outside its channel, whose every post then came back not_in_channel."""
    with slack_server() as slack:
        slack.routes = {"/api/auth.test": IDENTITY, "/api/conversations.list": channels}
        result = scratch.cli("doctor", env=_bot_env(slack, tmp_path))
        posted = [request.path for request in slack.received if "chat.postMessage" in request.path]
    assert result.code == 1 and posted == []
    line = _lines(result.out)["slack"]
    assert line.startswith("FAIL bot token valid (team nba, user nba-dq) but") and problem in line


def test_a_public_channel_is_enough_with_chat_write_public(scratch: Workspace, tmp_path: Path) -> None:
    scopes = {"X-OAuth-Scopes": "chat:write,chat:write.public,channels:read"}
    outside = _channels({"name": "nba-dq", "is_member": False}, {"name": "nba-dq-alerts", "is_member": False})
    with slack_server() as slack:
        slack.routes = {"/api/auth.test": Reply(200, IDENTITY.body, scopes), "/api/conversations.list": outside}
        result = scratch.cli("doctor", env=_bot_env(slack, tmp_path))
    assert result.code == 0, result.out


def test_a_missing_warehouse_and_export_root_are_reported_not_raised(scratch: Workspace, tmp_path: Path) -> None:
    env = {
        **WEBHOOK,
        "NBA_DQ_WAREHOUSE": f"duckdb:///{tmp_path}/absent.duckdb",
        "NBA_DQ_EXPORT_ROOT": str(tmp_path / "no"),
    }
    result = scratch.cli("doctor", env=env)
    assert result.code == 1
    lines = _lines(result.out)
    assert lines["warehouse"].startswith("FAIL warehouse file") and "run `nba-dq seed`" in lines["warehouse"]
    assert not any(subject.startswith("table ") for subject in lines)
    assert lines["exports"].startswith("FAIL export root")
    assert lines["history"].startswith("ok") and lines["data docs"].startswith("ok")


def test_a_quarantined_state_file_is_a_fail_line(scratch: Workspace) -> None:
    from state.files import read_json

    ledger = scratch.root / "gx" / "uncommitted" / "alerts" / "ledger.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_text('{"phase5|2025-12-12|player_cov')  # cut short by a full disk
    assert read_json(ledger, scratch.root / "gx") is None
    result = scratch.cli("doctor", env=WEBHOOK)
    assert result.code == 1
    line = _lines(result.out)["state files"]
    assert line.startswith("FAIL 1 corrupt state file(s) quarantined") and "ledger.json" in line


def test_messages_waiting_in_the_outbox_make_the_slack_line_a_warning(scratch: Workspace) -> None:
    """Slack did not take them (down, not_in_channel, a webhook variable since unset): someone should know."""
    entry = scratch.root / "gx/uncommitted/alerts/outbox/20251205T180000000000-00.json"
    entry.parent.mkdir(parents=True)
    entry.write_text('{"key": "k", "destination": {"kind": "webhook", "name": "SLACK_WEBHOOK_URL"}, "payload": {}}')
    result = scratch.cli("doctor", env=WEBHOOK)
    assert result.code == 0 and result.out.startswith("nba-dq doctor: ok, 1 warning(s)")
    line = _lines(result.out)["slack"]
    assert line.startswith("warn critical -> webhook SLACK_WEBHOOK_URL")
    assert line.endswith(f"1 message(s) waiting in {entry.parent} since {entry.name}")
