"""Incidents without a checkpoint run: the Alerter, SlackSender and message builders against a real Slack
server on 127.0.0.1 (or none), for what the run-driven tests in test_incidents.py cannot stage cheaply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from checkpoints.summary import CheckOutcome, RunSummary
from reporting.alert_messages import RunLinks, alert_message
from reporting.alerts import Alerter
from reporting.incidents import Judging, judge
from reporting.slack import Destination, Routing, SlackSender
from state.store import local_store
from tests.slack_server import Reply, SlackServer, slack_server
from tests.test_incidents import PHASE_OWNERS, config
from tests.test_slack_alerts import text_of
from warehouse.settings import PROJECT_ROOT, load_settings

LINKS = RunLinks(data_docs_url=str, rerun_command=lambda summary: "nba-dq run", inspect_command=str)


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


def test_a_following_incident_resolves_in_the_upstream_thread_and_the_opening_is_updated_once(
    slack: SlackServer, tmp_path: Path
) -> None:
    """Phase 5B failing under an open Phase 5 incident: its opening, and both resolutions, in one thread."""

    settings = load_settings({"NBA_DQ_CONFIG": config(tmp_path, slack)})
    channel = Destination("channel", "#nba-dq-alerts")
    alerter = Alerter(
        Routing(channel, channel, Destination("channel", "#nba-dq")),
        SlackSender({"SLACK_BOT_TOKEN": "xoxb-t0ken"}, settings.alerts),
        local_store(tmp_path / "gx"),
        LINKS,
        repeat_after=timedelta(hours=6),
        owners=settings.owners,
    )
    day = datetime(2025, 12, 18).date()

    def verdict(phase: str, check: str, status: str) -> RunSummary:
        return RunSummary(phase, day, (CheckOutcome(check, status, "critical", [{"rows": 0}], "rows"),), ())

    alerter.notify(verdict("phase5", "active_prediction_count", "fail"))
    alerter.notify(verdict("phase5b", "grading_coverage", "fail"))
    alerter.notify(verdict("phase5", "active_prediction_count", "pass"))  # phase 5 resolved: its message updated
    alerter.notify(verdict("phase5b", "grading_coverage", "pass"))  # 5B resolved: in the same thread, no update
    [thread] = slack.threads()
    assert text_of(thread.message).startswith("nba-dq phase5 2025-12-18: resolved") and thread.updates == 1
    assert [text_of(reply).splitlines()[0] for reply in thread.replies] == [
        "nba-dq phase5b 2025-12-18: FAIL",
        "nba-dq phase5 2025-12-18: resolved",
        "nba-dq phase5b 2025-12-18: resolved",
    ]
    assert "following from phase5 active_prediction_count on 2025-12-18" in text_of(thread.replies[0])
    assert PHASE_OWNERS not in text_of(thread.replies[0])  # phase5b has no owners in this config
    assert [request.json()["channel"] for request in slack.received[1:]] == [thread.channel] * 4


def test_a_check_that_could_not_judge_neither_opens_nor_resolves_an_incident() -> None:
    """Only a failure or an error opens an incident, and only a pass resolves one: a skipped check
    (volume without enough history) says nothing either way."""

    hook = Destination("webhook", "SLACK_WEBHOOK_URL")
    now = datetime(2025, 12, 3, 18, tzinfo=timezone.utc)
    context = Judging(
        Routing(hook, hook, hook),
        LINKS,
        timedelta(hours=6),
        now,
        {},
        {},
    )

    def verdict(status: str) -> RunSummary:
        check = CheckOutcome("active_prediction_volume", status, "warning", [{"active_predictions": 0}], "volume")
        return RunSummary("phase5", now.date(), (check,), ())

    incidents: dict[str, Any] = {}
    assert judge(verdict("skip"), incidents, {}, context) == ([], []) and incidents == {}
    [opened], _ = judge(verdict("fail"), incidents, {}, context)
    assert opened.role == "open" and list(incidents) == ["phase5|active_prediction_volume"]
    assert judge(verdict("skip"), incidents, {}, context) == ([], []) and list(incidents) == [opened.incident]
    assert judge(verdict("pass"), incidents, {}, context)[1] == [opened.incident] and incidents == {}


def test_an_opening_message_with_many_incidents_stays_within_slacks_limits() -> None:
    """Slack wants an action_id unique within its block and at most 50 blocks: one actions block per
    incident, buttons for the first ten, and the checks beyond the room left named in "+N more"."""

    checks = tuple(CheckOutcome(f"check_{n:02d}", "fail", "critical", [{"rows": n}], "none") for n in range(60))
    summary = RunSummary("phase5", datetime(2025, 12, 3).date(), checks, ())
    keys = [f"phase5|{check.name}" for check in checks]
    message = alert_message(summary, list(checks), LINKS, ["first seen"], buttons=keys)
    actions = [block for block in message["blocks"] if block["type"] == "actions"]
    assert len(message["blocks"]) <= 49  # room for with_note's line
    assert [block["elements"][0]["value"] for block in actions] == keys[:10]
    assert all(len({e["action_id"] for e in block["elements"]}) == 2 for block in actions)
    assert "more failed checks" in message["text"]


def test_owners_as_a_dotted_table_read_as_phase_and_check(tmp_path: Path) -> None:

    path = tmp_path / "owners.toml"
    owners = '[owners]\nphase5 = ["S0PHASE5"]\n\n[owners.phase6]\nexport_players_per_game = ["W0EXPORTS"]\n'
    path.write_text((PROJECT_ROOT / "dq.toml").read_text().replace("[owners]\n", owners))
    assert dict(load_settings({"NBA_DQ_CONFIG": str(path)}).owners) == {
        "phase5": ("S0PHASE5",),
        "phase6.export_players_per_game": ("W0EXPORTS",),
    }
    assert load_settings({}).owners == {}  # the committed dq.toml names nobody


def test_chat_update_is_retried_within_the_runs_budget_and_answers_where_the_message_is(
    slack: SlackServer, tmp_path: Path
) -> None:

    sender = SlackSender(
        {"SLACK_BOT_TOKEN": "xoxb-t0ken"}, load_settings({"NBA_DQ_CONFIG": config(tmp_path, slack)}).alerts
    )
    channel = Destination("channel", "#nba-dq-alerts")
    posted = sender.send(channel, {"text": "opened", "blocks": []})
    assert posted.delivered and posted.channel == slack.channel_id("#nba-dq-alerts") and posted.ts
    slack.replies.append(Reply(503, '{"ok": false, "error": "service_unavailable"}'))
    updated = sender.update(channel, {"channel": posted.channel, "ts": posted.ts, "text": "resolved", "blocks": []})
    assert updated.delivered and [request.path for request in slack.received[1:]] == ["/api/chat.update"] * 2
    [thread] = slack.threads()
    assert (thread.ts, thread.updates, thread.message["text"]) == (posted.ts, 1, "resolved")


@pytest.mark.parametrize(
    "change",
    [{"route": "#nba-dq"}, {"follows": 5}, {"dates": {"2025-12-05": {"measure": "many"}}}],
    ids=["route", "follows", "date"],
)
def test_an_incident_record_nba_dq_did_not_write_quarantines_the_ledger_and_the_alert_goes(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    """A ledger that parses but holds a record the lifecycle cannot read would fail every later alert:
    it is quarantined like a truncated one, and the verdict opens a fresh incident."""
    from state.files import quarantined
    from tests.test_alerts_ledger import FAILING, SlowSender, alerter

    now = datetime.now(timezone.utc).isoformat()
    incident = {"phase": "phase5", "check": "player_coverage", "opened_at": now, "posted_at": now, "thread": "t"}
    incident |= {"route": None, "follows": None, "dates": {"2025-12-05": {"first_seen": now, "last_seen": now}}}
    ledger = tmp_path / "uncommitted/alerts/ledger.json"
    ledger.parent.mkdir(parents=True)
    document = {"incidents": {"phase5|player_coverage": incident | change}, "threads": {}, "delivered": {}}
    ledger.write_text(json.dumps(document))
    sender = SlowSender(delay=0)
    alerter(tmp_path, sender).notify(FAILING)
    assert [message["text"].splitlines()[0] for message in sender.sent] == ["nba-dq phase5 2025-12-05: FAIL"]
    [(moved, reason)] = quarantined(tmp_path)
    assert json.loads(moved.read_text()) == document and "player_coverage" in reason


def test_a_repeat_days_later_says_how_long_it_has_been_failing() -> None:
    hook = Destination("webhook", "SLACK_WEBHOOK_URL")
    opened = datetime(2025, 12, 3, 18, tzinfo=timezone.utc)
    check = CheckOutcome("player_coverage", "fail", "critical", [{"missing_players": 12}], ">= 90%")
    summary = RunSummary("phase5", opened.date(), (check,), ())
    incidents: dict[str, Any] = {}
    for days in (0, 1, 3):
        context = Judging(Routing(hook, hook, hook), LINKS, timedelta(hours=6), opened + timedelta(days=days), {}, {})
        [post], _ = judge(summary, incidents, {}, context)
        lines = post.payload["text"]
    assert "*player_coverage* still failing on 2025-12-03 · failing for 3 days" in lines


def test_an_acknowledgement_not_said_yet_is_said_by_the_resolution() -> None:
    from reporting.incident_controls import Control

    hook = Destination("webhook", "SLACK_WEBHOOK_URL")
    now = datetime(2025, 12, 3, 18, tzinfo=timezone.utc)
    acknowledged = {"phase5|player_coverage": Control("U0ONCALL", now.isoformat())}

    def verdict(status: str) -> RunSummary:
        check = CheckOutcome("player_coverage", status, "critical", [{"missing_players": 12}], ">= 90%")
        return RunSummary("phase5", now.date(), (check,), ())

    incidents: dict[str, Any] = {}
    judge(verdict("fail"), incidents, {}, Judging(Routing(hook, hook, hook), LINKS, timedelta(hours=6), now, {}, {}))
    later = Judging(Routing(hook, hook, hook), LINKS, timedelta(hours=6), now + timedelta(hours=7), acknowledged, {})
    assert judge(verdict("fail"), incidents, {}, later) == ([], [])  # acknowledged: the repeat stays quiet
    [resolution], _ = judge(verdict("pass"), incidents, {}, later)
    assert "*player_coverage* passing again" in resolution.payload["text"]
    assert "acknowledged by <@U0ONCALL>" in resolution.payload["text"]
