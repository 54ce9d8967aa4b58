"""Alerts are never lost, through real runs and a real HTTP server on 127.0.0.1: Slack's `"ok": false`,
a process killed mid-send, one time budget per command, corrupt or unwritable state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reporting.alerts import NOT_DEDUPLICATED
from tests.conftest import Workspace
from tests.slack_server import HANGS, NOT_IN_CHANNEL, POSTED_ANSWER_LOST, Reply, SlackServer, slack_server
from tests.test_slack_alerts import COVERAGE_DROP, PREDICTIONS, fast_config, run, text_of
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


def outbox(workspace: Workspace) -> list[Path]:
    return sorted((workspace.root / "gx/uncommitted/alerts/outbox").glob("*.json"))


def bot_config(tmp_path: Path, slack: SlackServer) -> str:
    config = tmp_path / "token.toml"
    text = (PROJECT_ROOT / "dq.toml").read_text()
    config.write_text(
        text.replace('slack_api_url = "https://slack.com/api/"', f'slack_api_url = "{slack.url("/api/")}"')
    )
    return str(config)


def test_ok_false_from_the_web_api_is_a_failed_delivery_and_the_message_is_kept(
    scratch: Workspace, slack: SlackServer, tmp_path: Path
) -> None:
    env = {"NBA_DQ_CONFIG": bot_config(tmp_path, slack), "SLACK_BOT_TOKEN": "xoxb-s3cr3t-t0ken"}
    slack.default = NOT_IN_CHANNEL  # HTTP 200, as Slack answers it
    first = run(scratch, env, "5", COVERAGE_DROP)
    assert first.code == 1
    assert "not_in_channel" in first.err and "kept in" in first.err  # Slack's error, named
    assert len(slack.received) == 1 and slack.messages() == []  # final: not retried
    assert len(outbox(scratch)) == 1
    slack.default = Reply(200, '{"ok": true, "channel": "C1", "ts": "1.0"}')  # the bot was invited
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1
    assert [text_of(m).splitlines()[0] for m in slack.messages()] == [f"nba-dq phase5 {COVERAGE_DROP}: FAIL"]
    assert outbox(scratch) == []


def test_a_webhook_answering_200_without_ok_is_not_delivered(scratch: Workspace, slack: SlackServer) -> None:
    slack.default = Reply(200, "<html>sign in to the proxy</html>")
    result = run(scratch, {"SLACK_WEBHOOK_URL": slack.url()}, "5", COVERAGE_DROP)
    assert result.code == 1 and "HTTP 200 '<html>sign in" in result.err
    assert len(outbox(scratch)) == 1


def _killed_while_sending(workspace: Workspace, env: dict[str, str], slack: SlackServer, kill: signal.Signals) -> int:
    """A `run --phase 5` of the coverage drop killed while its first POST is in flight; its return code."""
    process = _run_in_subprocess(workspace, env)
    try:
        slack.wait_for_requests(1)  # the POST is in flight: the server holds its answer
        process.send_signal(kill)
    finally:
        process.kill()
        process.wait()
    return process.returncode


def _run_in_subprocess(workspace: Workspace, env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable,
        "-c",
        "from runners.cli import entry; entry()",
        "run",
        "--phase",
        "5",
        "--date",
        COVERAGE_DROP,
    ]
    return subprocess.Popen(
        argv,
        cwd=PROJECT_ROOT,
        env={**os.environ, **workspace.env, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("reply", "kill", "posted"),
    [(HANGS, signal.SIGKILL, 1), (HANGS, signal.SIGTERM, 1), (POSTED_ANSWER_LOST, signal.SIGKILL, 2)],
    ids=["hung POST, SIGKILL", "hung POST, SIGTERM", "posted, answer lost, SIGKILL"],
)
def test_a_run_killed_while_sending_leaves_the_alert_for_the_next_run(
    scratch: Workspace, slack: SlackServer, reply: Reply, kill: signal.Signals, posted: int
) -> None:
    """Write-ahead outbox: at least once. A hung POST: the next run delivers the alert exactly once. Slack
    posted it but the answer was lost: the next run posts it again (no idempotency key in webhooks)."""
    env = {"SLACK_WEBHOOK_URL": slack.url()}
    slack.default = reply
    assert _killed_while_sending(scratch, env, slack, kill) == -kill
    assert len(outbox(scratch)) == 1  # written before the POST
    slack.default = Reply()
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1
    titles = [text_of(message).splitlines()[0] for message in slack.messages()]
    assert titles == [f"nba-dq phase5 {COVERAGE_DROP}: FAIL"] * posted
    assert outbox(scratch) == []
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1 and len(slack.messages()) == posted  # no repeat


def test_a_bot_run_killed_before_its_opening_post_was_answered_threads_what_follows_under_the_repost(
    scratch: Workspace, slack: SlackServer, tmp_path: Path, sql: Callable[[str], None]
) -> None:
    """Slack posted the incident's opening message but the run was killed before the answer (its ts)
    arrived: the next run posts it again (the known window) and records that ts, so a later reply goes
    into a thread that exists, and nothing is left in the outbox."""
    env = {"NBA_DQ_CONFIG": bot_config(tmp_path, slack), "SLACK_BOT_TOKEN": "xoxb-t0ken"}
    slack.default = POSTED_ANSWER_LOST
    assert _killed_while_sending(scratch, env, slack, signal.SIGKILL) == -signal.SIGKILL
    slack.default = Reply()
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1
    day = f"game_date = DATE '{COVERAGE_DROP}'"
    predicted = f"SELECT DISTINCT player_lookup FROM {PREDICTIONS} WHERE {day} AND is_active ORDER BY 1 LIMIT 10"
    sql(f"DELETE FROM {PREDICTIONS} WHERE {day} AND player_lookup IN ({predicted})")  # ten more players missing
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1  # worse: a reply in the incident's thread
    lost, reposted = slack.threads()
    assert text_of(lost.message) == text_of(reposted.message) and lost.replies == []
    [reply] = reposted.replies
    assert reply["thread_ts"] == reposted.ts and "*player_coverage* worse on" in text_of(reply)
    assert outbox(scratch) == []


def test_phase_all_against_a_hung_webhook_spends_one_budget(
    scratch: Workspace, slack: SlackServer, sql: Callable[[str], None], tmp_path: Path
) -> None:
    sql("DROP TABLE nba_predictions.prediction_accuracy")  # Phase 5B cannot run: a second alert
    env = {"SLACK_WEBHOOK_URL": slack.url(), "NBA_DQ_CONFIG": fast_config(tmp_path)}  # 1 s a try, 3 s in all
    slack.default = HANGS
    result = run(scratch, env, "all", COVERAGE_DROP)
    assert result.code == 2
    assert 1 <= len(slack.received) <= 3  # max_tries of the first message; the later ones were not tried
    kept = [json.loads(path.read_text())["payload"]["text"].splitlines()[0] for path in outbox(scratch)]
    assert f"nba-dq phase5 {COVERAGE_DROP}: FAIL" in kept and f"nba-dq phase5b {COVERAGE_DROP}: ERROR" in kept
    slack.default = Reply()
    run(scratch, env, "5", COVERAGE_DROP)
    assert sorted(text_of(m).splitlines()[0] for m in slack.messages()) == sorted(kept)


def test_an_unwritable_alert_folder_still_sends_the_alert(scratch: Workspace, slack: SlackServer) -> None:
    blocked = scratch.root / "gx/uncommitted/alerts"
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("")  # a file where the folder should be: no lock, no ledger, no outbox can be written
    result = run(scratch, {"SLACK_WEBHOOK_URL": slack.url()}, "5", COVERAGE_DROP)
    assert result.code == 1
    [message] = slack.messages()
    assert text_of(message).startswith(f"nba-dq phase5 {COVERAGE_DROP}: FAIL") and NOT_DEDUPLICATED in text_of(message)
    assert "without repeat suppression" in result.err


@pytest.mark.parametrize("content", ["", '{"open": {"phase5|2025-12-05|player_cov'], ids=["empty", "truncated"])
def test_a_corrupt_ledger_is_quarantined_the_alert_goes_and_doctor_fails(
    scratch: Workspace, slack: SlackServer, content: str
) -> None:
    env = {"SLACK_WEBHOOK_URL": slack.url()}
    ledger = scratch.root / "gx/uncommitted/alerts/ledger.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_text(content)
    result = run(scratch, env, "5", COVERAGE_DROP)
    assert result.code == 1 and len(slack.messages()) == 1
    assert "ledger.json is corrupt" in result.err and "quarantine" in result.err
    doctor = scratch.cli("doctor", env=env)
    assert doctor.code == 1 and "FAIL  state files" in doctor.out and "ledger.json" in doctor.out
