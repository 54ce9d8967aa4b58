"""Slack incidents over several runs and dates, from real checkpoint runs on a real DuckDB file to a real
Slack server on 127.0.0.1, with incoming webhooks and with the bot token (threads, chat.update): open,
repeat, worsen, a second date, resolve, acknowledge, mute, root cause across phases, owners."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from reporting.incident_controls import ACKNOWLEDGE, MUTE, acknowledge, mute, read_controls
from state.store import local_store
from tests.conftest import Workspace
from tests.pubsub_push import Service
from tests.slack_clicks import SIGNING, click, post, signed, updates
from tests.slack_server import SlackServer, slack_server
from tests.test_slack_alerts import CLEAN, COVERAGE_DROP, DAY, PREDICTIONS, run, text_of
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance
INCIDENT = "phase5|active_key_unique"
PHASE_OWNERS, CHECK_OWNER = "<!subteam^S0PHASE5>", "<@U0KEYS>"
ROOT_CAUSE_DAY = "2025-12-18"  # the seeded zero-predictions day: phases 5, 5B and 6 fail


def duplicate(day: str, keys: int) -> str:
    """`keys` active predictions of `day` copied under another prediction_id and line: that many duplicated
    active keys (active_key_unique), and no duplicated MERGE key (consolidation_key_unique stays green)."""
    copy = "prediction_id || '-copy' AS prediction_id, coalesce(current_points_line, 0) + 0.25 AS current_points_line"
    return (
        f"INSERT INTO {PREDICTIONS} SELECT * REPLACE ({copy}) FROM {PREDICTIONS}"
        f" WHERE game_date = DATE '{day}' AND is_active AND prediction_id NOT LIKE '%-copy'"
        f" AND prediction_id NOT IN (SELECT replace(prediction_id, '-copy', '') FROM {PREDICTIONS}"
        f" WHERE game_date = DATE '{day}' AND prediction_id LIKE '%-copy')"
        f" ORDER BY prediction_id LIMIT {keys}"
    )


def remove_copies(day: str) -> str:
    return f"DELETE FROM {PREDICTIONS} WHERE game_date = DATE '{day}' AND prediction_id LIKE '%-copy'"


@dataclass
class Mode:
    """Webhooks (critical to SLACK_WEBHOOK_URL_ERROR) or the bot token (critical to #nba-dq-alerts)."""

    bot: bool
    env: dict[str, str]
    slack: SlackServer

    def posts(self) -> list[dict[str, Any]]:
        """What the channel shows, in order: each top-level message with its replies (webhooks: none)."""
        if self.bot:
            return [
                {"message": t.message, "replies": t.replies, "ts": t.ts, "updates": t.updates}
                for t in self.slack.threads()
            ]
        return [{"message": message, "replies": []} for message in self.slack.messages()]

    def everything(self) -> list[str]:
        """Every message's text in the order posted (top-level and replies)."""
        return [text_of(request.json()) for request in self.slack.received if "chat.update" not in request.path]


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


def config(tmp_path: Path, slack: SlackServer) -> str:
    """dq.toml with the local Slack API and owners for Phase 5 and for active_key_unique."""
    text = (PROJECT_ROOT / "dq.toml").read_text()
    text = text.replace('slack_api_url = "https://slack.com/api/"', f'slack_api_url = "{slack.url("/api/")}"')
    text = text.replace("[owners]\n", '[owners]\nphase5 = ["S0PHASE5"]\n"phase5.active_key_unique" = ["U0KEYS"]\n')
    path = tmp_path / "incidents.toml"
    path.write_text(text)
    return str(path)


@pytest.fixture(params=["webhook", "bot token"])
def mode(request: pytest.FixtureRequest, slack: SlackServer, tmp_path: Path) -> Mode:
    env = {"NBA_DQ_CONFIG": config(tmp_path, slack)}
    if request.param == "webhook":
        env |= {"SLACK_WEBHOOK_URL": slack.url("/default"), "SLACK_WEBHOOK_URL_ERROR": slack.url("/error")}
    else:
        env |= {"SLACK_BOT_TOKEN": "xoxb-t0ken"}
    return Mode(request.param != "webhook", env, slack)


def ledger(workspace: Workspace) -> dict[str, Any]:
    return dict(json.loads((workspace.root / "gx/uncommitted/alerts/ledger.json").read_text()))


def backdate(workspace: Workspace, incident: str, hours: float) -> None:
    """As if its last post was `hours` ago (what waiting would do)."""
    path = workspace.root / "gx/uncommitted/alerts/ledger.json"
    document = json.loads(path.read_text())
    posted = datetime.fromisoformat(document["incidents"][incident]["posted_at"])
    document["incidents"][incident]["posted_at"] = (posted - timedelta(hours=hours)).isoformat()
    path.write_text(json.dumps(document))


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (element["action_id"], element["value"])
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_an_incident_opens_repeats_worsens_spreads_to_a_date_and_resolves_in_one_place(
    scratch: Workspace, mode: Mode, sql: Callable[[str], None]
) -> None:
    sql(duplicate(DAY, 1))
    assert run(scratch, mode.env, "5", DAY).code == 1
    [opened] = mode.posts()
    text = text_of(opened["message"])
    assert text.startswith(f"nba-dq phase5 {DAY}: FAIL") and "*active_key_unique* (critical)" in text
    assert "first seen " in text and PHASE_OWNERS in text and CHECK_OWNER in text  # owners on open
    assert buttons(opened["message"]) == [(ACKNOWLEDGE, INCIDENT), (MUTE, INCIDENT)]
    assert run(scratch, mode.env, "5", DAY).code == 1  # within repeat_after_hours: quiet
    assert len(mode.everything()) == 1

    backdate(scratch, INCIDENT, 7)
    assert run(scratch, mode.env, "5", DAY).code == 1  # 7 h later: a repeat, in its thread
    sql(duplicate(DAY, 2))
    assert run(scratch, mode.env, "5", DAY).code == 1  # three duplicated keys now: worse, posted at once
    sql(duplicate(CLEAN, 1))
    assert run(scratch, mode.env, "5", CLEAN).code == 1  # a second date joins the incident
    repeat, worse, second_date = mode.everything()[1:]
    assert f"*active_key_unique* still failing on {DAY}" in repeat and CHECK_OWNER not in repeat
    assert f"*active_key_unique* worse on {DAY}: now 3 rows, was 1" in worse
    assert PHASE_OWNERS in worse and CHECK_OWNER in worse  # escalation
    assert f"*active_key_unique* failing on {CLEAN} too (1 row)" in second_date and CHECK_OWNER not in second_date
    assert sorted(ledger(scratch)["incidents"][INCIDENT]["dates"]) == [CLEAN, DAY]
    assert f"phase5-{CLEAN}/" in second_date and f"phase5-{DAY}/" in worse  # each line links its date's page

    sql(remove_copies(DAY))
    sql(remove_copies(CLEAN))
    assert run(scratch, mode.env, "5", DAY).code == 0  # still failing on 12-02: still open, quiet
    assert len(mode.everything()) == 4 and list(ledger(scratch)["incidents"][INCIDENT]["dates"]) == [CLEAN]
    assert run(scratch, mode.env, "5", CLEAN).code == 0  # passing on every date it failed on: resolved
    assert run(scratch, mode.env, "5", CLEAN).code == 0  # and once only
    resolved = mode.everything()[4:]
    assert len(resolved) == 1 and resolved[0].startswith(f"nba-dq phase5 {CLEAN}: resolved")
    assert "*active_key_unique* passing again" in resolved[0] and CHECK_OWNER not in resolved[0]
    assert ledger(scratch)["incidents"] == {} and ledger(scratch)["threads"] == {}
    if mode.bot:
        [thread] = mode.posts()  # one top-level message; everything else in its thread
        assert [text_of(reply) for reply in thread["replies"]] == mode.everything()[1:]
        assert all(reply["thread_ts"] == thread["ts"] for reply in thread["replies"])
        assert thread["updates"] == 1 and text_of(thread["message"]).startswith(f"nba-dq phase5 {DAY}: resolved")
        assert buttons(thread["message"]) == []  # chat.update took the buttons away
    else:
        assert [request.path for request in mode.slack.received] == ["/error"] * 5  # resolved: where it opened
        for message in mode.slack.messages()[1:]:
            assert [block["type"] for block in message["blocks"]] == ["section"]  # one compact line


def test_acknowledged_keeps_repeats_quiet_and_mentions_out_muted_posts_only_the_resolution(
    scratch: Workspace, mode: Mode, sql: Callable[[str], None]
) -> None:
    store = local_store(scratch.root / "gx")
    sql(duplicate(DAY, 1))
    run(scratch, mode.env, "5", DAY)
    acknowledge(store, INCIDENT, "U0ONCALL", datetime.now(timezone.utc))
    backdate(scratch, INCIDENT, 7)
    run(scratch, mode.env, "5", DAY)
    assert len(mode.everything()) == 1  # acknowledged: no repeat
    sql(duplicate(DAY, 1))
    run(scratch, mode.env, "5", DAY)  # worse: still posted, without mentions, saying who acknowledged
    sql(duplicate(CLEAN, 1))
    run(scratch, mode.env, "5", CLEAN)  # a new date: posted; the acknowledgement was said already
    worse, second_date = mode.everything()[1:]
    assert "worse on" in worse and "acknowledged by <@U0ONCALL>" in worse
    assert PHASE_OWNERS not in worse and CHECK_OWNER not in worse
    assert f"failing on {CLEAN} too" in second_date and "acknowledged by" not in second_date

    mute(store, INCIDENT, "U0ONCALL", datetime.now(timezone.utc) + timedelta(hours=24))
    sql(duplicate(DAY, 2))
    run(scratch, mode.env, "5", DAY)  # worse again, muted: nothing
    backdate(scratch, INCIDENT, 7)
    run(scratch, mode.env, "5", CLEAN)  # a repeat, muted: nothing
    assert len(mode.everything()) == 3
    sql(remove_copies(DAY))
    sql(remove_copies(CLEAN))
    run(scratch, mode.env, "5", DAY)
    run(scratch, mode.env, "5", CLEAN)
    assert len(mode.everything()) == 4 and "passing again" in mode.everything()[3]  # the resolution goes out
    assert INCIDENT not in read_controls(store)  # the acknowledgement and the mute end with the incident


def test_the_zero_predictions_day_is_one_top_level_message_for_phases_5_5b_and_6(seeded: Workspace, mode: Mode) -> None:
    assert run(seeded, mode.env, "all", ROOT_CAUSE_DAY).code == 1
    incidents = ledger(seeded)["incidents"]
    following = {key: incident["follows"] for key, incident in incidents.items() if incident["follows"]}
    assert {key.partition("|")[0] for key in following} == {"phase5b", "phase6"}
    assert set(following.values()) == {"phase5|active_prediction_count"}  # phase5's first check: the root cause
    assert {key.partition("|")[0] for key in incidents} == {"phase5", "phase5b", "phase6"}
    [top] = [post for post in mode.posts() if "header" in json.dumps(post["message"]["blocks"][:1])]
    assert text_of(top["message"]).startswith(f"nba-dq phase5 {ROOT_CAUSE_DAY}: FAIL")
    marked = f"following from phase5 active_prediction_count on {ROOT_CAUSE_DAY}"
    later = [text_of(reply) for reply in top["replies"]] if mode.bot else mode.everything()[1:]
    assert [text.splitlines()[0] for text in later] == [
        f"nba-dq phase5b {ROOT_CAUSE_DAY}: FAIL",
        f"nba-dq phase6 {ROOT_CAUSE_DAY}: FAIL",
    ]
    assert all(marked in text for text in later)
    actions = [block for block in top["message"]["blocks"] if block["type"] == "actions"]
    assert len(actions) == 5  # phase5's five failing checks, each its own incident with its own buttons
    assert all([e["action_id"] for e in block["elements"]] == [ACKNOWLEDGE, MUTE] for block in actions)
    assert len(mode.posts()) == (1 if mode.bot else 3)  # webhooks: the two compact lines after it


def test_a_reply_waits_behind_its_opening_message_and_gets_its_thread_at_delivery(
    scratch: Workspace, slack: SlackServer, tmp_path: Path, sql: Callable[[str], None]
) -> None:
    from tests.slack_server import Reply

    env = {"NBA_DQ_CONFIG": config(tmp_path, slack), "SLACK_BOT_TOKEN": "xoxb-t0ken"}
    slack.replies.extend([Reply(500, "unavailable")] * 3)  # every try of the opening message fails
    sql(duplicate(DAY, 1))
    run(scratch, env, "5", DAY)
    assert slack.threads() == [] and len(list((scratch.root / "gx/uncommitted/alerts/outbox").glob("*.json"))) == 1
    sql(duplicate(CLEAN, 1))
    run(scratch, env, "5", CLEAN)  # Slack is back: the opening message first, then the reply in its thread
    [thread] = slack.threads()
    assert text_of(thread.message).startswith(f"nba-dq phase5 {DAY}: FAIL")
    assert [reply["thread_ts"] for reply in thread.replies] == [thread.ts]
    assert f"failing on {CLEAN} too" in text_of(thread.replies[0])
    assert ledger(scratch)["threads"][ledger(scratch)["incidents"][INCIDENT]["thread"]]["ts"] == thread.ts


def test_an_older_ledger_keeps_its_open_alerts(
    scratch: Workspace, slack: SlackServer, sql: Callable[[str], None]
) -> None:
    """The ledger of the previous version ({"open": {"phase|date|check": posted}}): no second alert, one resolution."""
    env = {"SLACK_WEBHOOK_URL": slack.url()}
    path = scratch.root / "gx/uncommitted/alerts/ledger.json"
    path.parent.mkdir(parents=True)
    posted = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    path.write_text(json.dumps({"open": {f"phase5|{DAY}|active_key_unique": posted}, "delivered": {}}))
    sql(duplicate(DAY, 1))
    assert run(scratch, env, "5", DAY).code == 1
    assert slack.messages() == []  # posted an hour ago by the previous version
    sql(remove_copies(DAY))
    assert run(scratch, env, "5", DAY).code == 0
    [resolved] = slack.messages()
    assert text_of(resolved).startswith(f"nba-dq phase5 {DAY}: resolved") and "*active_key_unique*" in text_of(resolved)


def test_owners_naming_an_unknown_check_or_a_malformed_id_is_one_line_each_and_exit_2(
    scratch: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "owners.toml"
    text = (PROJECT_ROOT / "dq.toml").read_text()
    path.write_text(text.replace("[owners]\n", '[owners]\n"phase5.player_covrage" = ["U0KEYS"]\nphase5b = ["alice"]\n'))
    result = run(scratch, {"NBA_DQ_CONFIG": str(path)}, "5", COVERAGE_DROP)
    assert result.code == 2 and result.out == ""
    assert "[owners] phase5.player_covrage: not a phase5 check (did you mean phase5.player_coverage?)" in result.err
    assert "[owners] phase5b[0] = 'alice': must be a Slack user ID (U..., W...) or user group ID (S...)" in result.err


def test_more_missing_players_is_posted_at_once_as_worse_with_the_owners(
    scratch: Workspace, slack: SlackServer, tmp_path: Path, sql: Callable[[str], None]
) -> None:
    """The seeded coverage drop (78 players missing) loses ten more predicted players: escalated at once."""
    env = {"NBA_DQ_CONFIG": config(tmp_path, slack), "SLACK_WEBHOOK_URL": slack.url()}
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1
    predicted = (
        f"SELECT DISTINCT player_lookup FROM {PREDICTIONS} WHERE game_date = DATE '{COVERAGE_DROP}' AND is_active"
    )
    sql(
        f"DELETE FROM {PREDICTIONS} WHERE game_date = DATE '{COVERAGE_DROP}'"
        f" AND player_lookup IN ({predicted} ORDER BY player_lookup LIMIT 10)"
    )
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1
    worse = [text_of(message) for message in slack.messages() if "*player_coverage* worse" in text_of(message)]
    [line] = [line for text in worse for line in text.splitlines() if "player_coverage" in line]
    assert f"*player_coverage* worse on {COVERAGE_DROP}: now 88 players missing, was 78" in line
    assert PHASE_OWNERS in line and CHECK_OWNER not in line  # the phase's owners; U0KEYS owns another check
    assert ledger(scratch)["incidents"]["phase5|player_coverage"]["dates"][COVERAGE_DROP]["measure"] == 88


def test_acknowledge_and_mute_clicked_in_slack_reach_the_next_runs(
    scratch: Workspace, slack: SlackServer, tmp_path: Path, sql: Callable[[str], None]
) -> None:
    """The whole loop in bot-token mode: the alert's own buttons, clicked (a signed block_actions request
    to the service's endpoint), change what the next CLI runs post, and the resolution still goes out."""
    text = Path(config(tmp_path, slack)).read_text()
    prefix = 'slack_response_url_prefix = "https://hooks.slack.com/"'
    (tmp_path / "incidents.toml").write_text(text.replace(prefix, f'slack_response_url_prefix = "{slack.url("/")}"'))
    env = {"NBA_DQ_CONFIG": str(tmp_path / "incidents.toml"), "SLACK_BOT_TOKEN": "xoxb-t0ken"}
    service = Service(scratch, env={**env, **SIGNING})
    service.now = datetime.now(timezone.utc)  # the CLI's runs judge mutes by the wall clock

    def press(action: str) -> None:
        opening = slack.threads()[0].message
        assert (action, INCIDENT) in buttons(opening)
        body = click(slack, action, INCIDENT, message={"type": "message", **opening})
        assert post(service, body, signed(body, service.now)) == (200, "")

    sql(duplicate(DAY, 1))
    run(scratch, env, "5", DAY)
    press(ACKNOWLEDGE)
    assert "Acknowledged by" in json.dumps(updates(slack)[-1]) and not buttons(updates(slack)[-1])
    backdate(scratch, INCIDENT, 7)
    run(scratch, env, "5", DAY)
    assert [len(thread.replies) for thread in slack.threads()] == [0]  # acknowledged: the repeat stays quiet

    press(MUTE)
    sql(duplicate(DAY, 2))
    run(scratch, env, "5", DAY)
    assert [len(thread.replies) for thread in slack.threads()] == [0]  # muted: worse, and still quiet
    assert read_controls(local_store(scratch.root / "gx"))[INCIDENT].muted(datetime.now(timezone.utc))

    sql(remove_copies(DAY))
    run(scratch, env, "5", DAY)
    (thread,) = slack.threads()
    assert "passing again" in text_of(thread.replies[-1]) and thread.updates == 1  # resolved, in its thread
    assert INCIDENT not in read_controls(local_store(scratch.root / "gx"))


def test_a_dates_downstream_failures_follow_what_broke_that_date_not_an_older_incident(
    seeded: Workspace, mode: Mode
) -> None:
    """12-05's coverage drop is still open when 12-18 loses every prediction: 12-18's coverage failure joins
    the 12-05 incident, but Phases 5B and 6 follow the incident 12-18 opened, in 12-18's own message."""
    assert run(seeded, mode.env, "5", "2025-12-05").code == 1
    assert run(seeded, mode.env, "all", ROOT_CAUSE_DAY).code == 1
    incidents = ledger(seeded)["incidents"].values()
    assert {incident["follows"] for incident in incidents} == {None, "phase5|active_prediction_count"}
    marked = f"following from phase5 active_prediction_count on {ROOT_CAUSE_DAY}"
    if mode.bot:
        older, newer = mode.posts()
        (joined,) = [text_of(reply).splitlines()[1] for reply in older["replies"]]
        assert joined.startswith(f"*player_coverage* failing on {ROOT_CAUSE_DAY} too (160 players missing)")
        assert text_of(newer["message"]).startswith(f"nba-dq phase5 {ROOT_CAUSE_DAY}: FAIL")
        later = [text_of(reply) for reply in newer["replies"]]
    else:
        later = [text for text in mode.everything() if "following from" in text]
    assert len(later) == 2 and all(marked in text for text in later)


def test_a_click_left_from_a_resolved_incident_does_not_quiet_the_next_one(
    scratch: Workspace, mode: Mode, sql: Callable[[str], None]
) -> None:
    """An acknowledgement stored after its incident resolved (a button on an old webhook message, which
    keeps its buttons) belongs to that incident: the check's next incident repeats as any other."""
    store = local_store(scratch.root / "gx")
    acknowledge(store, INCIDENT, "U0ONCALL", datetime.now(timezone.utc))  # no incident open: a stale click
    sql(duplicate(DAY, 1))
    run(scratch, mode.env, "5", DAY)
    assert INCIDENT not in read_controls(store)
    backdate(scratch, INCIDENT, 7)
    run(scratch, mode.env, "5", DAY)
    assert len(mode.everything()) == 2 and f"*active_key_unique* still failing on {DAY}" in mode.everything()[1]
