"""Slack alerts through slack_sdk to a real HTTP server on 127.0.0.1, from real checkpoint runs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reporting.slack import Destination, routing_from_env
from tests.conftest import CliResult, Workspace
from tests.slack_server import Reply, SlackServer, slack_server, tables
from warehouse.settings import PROJECT_ROOT, load_settings

pytestmark = pytest.mark.acceptance
CLEAN = "2025-12-02"
COVERAGE_DROP = "2025-12-05"
DAY = "2025-12-03"  # clean; hand-made faults go here
PREDICTIONS = "nba_predictions.player_prop_predictions"
DUPLICATE_ONE_ACTIVE_ROW = (
    f"INSERT INTO {PREDICTIONS} SELECT * REPLACE (prediction_id || '-copy' AS prediction_id) FROM {PREDICTIONS}"
    f" WHERE game_date = DATE '{DAY}' AND is_active ORDER BY prediction_id LIMIT 1"
)
REMOVE_COPIES = f"DELETE FROM {PREDICTIONS} WHERE game_date = DATE '{DAY}' AND prediction_id LIKE '%-copy'"


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


def text_of(message: dict[str, Any]) -> str:
    return str(message["text"])


def blocks_text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"])


def run(workspace: Workspace, env: dict[str, str], phase: str, day: str, *more: str) -> CliResult:
    return workspace.cli("run", "--phase", phase, "--date", day, *more, env=env)


def fast_config(tmp_path: Path) -> str:
    """dq.toml with short Slack timeouts, so a server that never answers costs seconds, not 15."""
    text = (PROJECT_ROOT / "dq.toml").read_text()
    text = text.replace("connect_timeout_seconds = 5", "connect_timeout_seconds = 1")
    text = text.replace("total_timeout_seconds = 15", "total_timeout_seconds = 3")
    config = tmp_path / "fast.toml"
    config.write_text(text)
    return str(config)


def test_a_faulty_date_posts_one_useful_message_and_a_clean_date_none(scratch: Workspace, slack: SlackServer) -> None:
    env = {"SLACK_WEBHOOK_URL": slack.url("/default"), "SLACK_WEBHOOK_URL_ERROR": slack.url("/error")}
    assert run(scratch, env, "5", CLEAN).code == 0
    assert slack.received == []
    result = run(scratch, env, "5", COVERAGE_DROP)
    assert result.code == 1
    assert [request.path for request in slack.received] == ["/error"]  # critical: the error webhook
    message = slack.messages()[0]
    text = text_of(message)
    assert text.startswith(f"nba-dq phase5 {COVERAGE_DROP}: FAIL")
    assert "*player_coverage* (critical)" in text
    observed = "coverage  covered_players  expected_players  excluded_players  missing_players\n0.6       117"
    assert f"observed:\n```\n{observed}              195" in text  # the row as a table, aligned under its columns
    assert "expected: coverage &gt;= 90% of production-ready players" in text  # Slack mrkdwn escaping
    assert "missing players (78): aaronwiggins, acebailey," in text and "(+68 more)" in text
    assert f"re-run: `nba-dq run --phase 5 --date {COVERAGE_DROP}`" in text
    page = result.out.split("Data Docs: ")[1].splitlines()[0]
    assert f"Data Docs: `{page}`" in text and "file://" not in text  # no base_url: the path, to copy
    assert blocks_text(message).count('"type": "header"') == 1 and "player_coverage" in blocks_text(message)
    assert result.out.count("player_coverage") >= 1 and "warning" not in result.err


def test_no_repeat_within_the_window_then_one_resolved_message(
    scratch: Workspace, slack: SlackServer, sql: Callable[[str], None]
) -> None:
    env = {"SLACK_WEBHOOK_URL": slack.url()}
    sql(DUPLICATE_ONE_ACTIVE_ROW)
    assert run(scratch, env, "5", DAY).code == 1
    assert run(scratch, env, "5", DAY).code == 1
    assert len(slack.messages()) == 1 and "*active_key_unique* (critical)" in text_of(slack.messages()[0])
    rows = [row for table in tables(text_of(slack.messages()[0])) for row in table]
    assert any(row.get("row_count") == "2" for row in rows)  # the duplicated key is named
    sql(REMOVE_COPIES)
    assert run(scratch, env, "5", DAY).code == 0
    assert run(scratch, env, "5", DAY).code == 0
    assert len(slack.messages()) == 2
    resolved = text_of(slack.messages()[1])
    assert resolved.startswith(f"nba-dq phase5 {DAY}: resolved") and "*active_key_unique*" in resolved


def test_a_fault_still_failing_after_the_window_is_posted_again(
    scratch: Workspace, slack: SlackServer, sql: Callable[[str], None]
) -> None:
    env = {"SLACK_WEBHOOK_URL": slack.url()}
    sql(DUPLICATE_ONE_ACTIVE_ROW)
    run(scratch, env, "5", DAY)
    ledger_path = scratch.root / "gx/uncommitted/alerts/ledger.json"
    ledger = json.loads(ledger_path.read_text())
    incident = ledger["incidents"]["phase5|active_key_unique"]
    incident["posted_at"] = (datetime.fromisoformat(incident["posted_at"]) - timedelta(hours=7)).isoformat()  # 7 h ago
    ledger_path.write_text(json.dumps(ledger))
    run(scratch, env, "5", DAY)
    assert len(slack.messages()) == 2


@pytest.mark.parametrize(
    "replies",
    [
        [Reply(429, "rate_limited", {"Retry-After": "1"})],
        [Reply(500, "internal_error")],
        [Reply(503, "unavailable"), Reply(502, "bad gateway")],
    ],
    ids=["429 with Retry-After", "500 then 200", "503, 502 then 200"],
)
def test_retries_deliver_and_the_run_is_unchanged(scratch: Workspace, slack: SlackServer, replies: list[Reply]) -> None:
    slack.replies.extend(replies)
    result = run(scratch, {"SLACK_WEBHOOK_URL": slack.url()}, "5", COVERAGE_DROP, "--json")
    assert result.code == 1 and result.failing() == {"player_coverage"}
    assert len(slack.received) == len(replies) + 1 and len(slack.messages()) == 1
    if replies[0].status == 429:
        assert slack.received[1].at - slack.received[0].at >= 1.0  # Retry-After honoured
    assert not list((scratch.root / "gx/uncommitted/alerts/outbox").glob("*.json"))


def test_a_server_that_never_answers_keeps_the_message_for_the_next_run(
    scratch: Workspace, slack: SlackServer, tmp_path: Path
) -> None:
    env = {"SLACK_WEBHOOK_URL": slack.url(), "NBA_DQ_CONFIG": fast_config(tmp_path)}
    slack.replies.extend([Reply(delay=30)] * 3)
    started = time.monotonic()
    result = run(scratch, env, "5", COVERAGE_DROP, "--json")
    assert result.code == 1 and result.failing() == {"player_coverage"}
    assert time.monotonic() - started < 30  # the run did not wait for Slack
    assert slack.messages() == []
    outbox = list((scratch.root / "gx/uncommitted/alerts/outbox").glob("*.json"))
    assert len(outbox) == 1
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1  # Slack answers again: the kept message goes
    assert len(slack.messages()) == 1 and "*player_coverage*" in text_of(slack.messages()[0])
    assert not list((scratch.root / "gx/uncommitted/alerts/outbox").glob("*.json"))


def test_a_phase_that_could_not_run_alerts_as_critical(
    scratch: Workspace, slack: SlackServer, sql: Callable[[str], None]
) -> None:
    sql("DROP TABLE nba_predictions.prediction_accuracy")
    env = {"SLACK_WEBHOOK_URL": slack.url("/default"), "SLACK_WEBHOOK_URL_ERROR": slack.url("/error")}
    result = run(scratch, env, "5b", CLEAN)
    assert result.code == 2
    assert [request.path for request in slack.received] == ["/error"]
    text = text_of(slack.messages()[0])
    assert text.startswith(f"nba-dq phase5b {CLEAN}: ERROR") and "table nba_predictions.prediction_accuracy" in text


def test_a_warning_level_failure_goes_to_the_warning_webhook(
    scratch: Workspace, slack: SlackServer, tmp_path: Path
) -> None:
    config = tmp_path / "warn.toml"
    warning = '[phase5.severity]\nplayer_coverage = "warning"'
    config.write_text((PROJECT_ROOT / "dq.toml").read_text().replace("[phase5.severity]", warning))
    env = {
        "NBA_DQ_CONFIG": str(config),
        "SLACK_WEBHOOK_URL": slack.url("/default"),
        "SLACK_WEBHOOK_URL_WARNING": slack.url("/warning"),
    }
    assert run(scratch, env, "5", COVERAGE_DROP).code == 0
    assert [request.path for request in slack.received] == ["/warning"]
    assert text_of(slack.messages()[0]).startswith(f"nba-dq phase5 {COVERAGE_DROP}: WARN")


def test_an_orphaned_staging_table_comes_with_its_age_and_how_to_inspect_it(
    seeded: Workspace, slack: SlackServer, tmp_path: Path
) -> None:
    env = {"SLACK_WEBHOOK_URL": slack.url(), "NBA_DQ_GX_ROOT": str(tmp_path / "gx")}
    (tmp_path / "gx").mkdir()
    (tmp_path / "gx/great_expectations.yml").write_text((PROJECT_ROOT / "gx/great_expectations.yml").read_text())
    assert run(seeded, env, "5", "2025-12-12").code == 1
    text = text_of(slack.messages()[0])
    assert "orphaned table `_staging_batch_2025_12_12_" in text and "age 180" in text  # in code: `_` as typed
    inspect = (
        f'inspect: `duckdb -readonly {seeded.warehouse} \'SELECT * FROM "nba_predictions"."_staging_batch_2025_12_12_'
    )
    assert inspect in text


def test_bot_token_mode_posts_to_the_configured_channel(scratch: Workspace, slack: SlackServer, tmp_path: Path) -> None:
    config = tmp_path / "token.toml"
    config.write_text(
        (PROJECT_ROOT / "dq.toml")
        .read_text()
        .replace('slack_api_url = "https://slack.com/api/"', f'slack_api_url = "{slack.url("/api/")}"')
    )
    slack.default = Reply(200, '{"ok": true, "channel": "C1", "ts": "1.0"}')
    env = {"NBA_DQ_CONFIG": str(config), "SLACK_BOT_TOKEN": "xoxb-s3cr3t-t0ken"}
    assert run(scratch, env, "5", COVERAGE_DROP).code == 1
    request = slack.received[0]
    assert request.path == "/api/chat.postMessage"
    assert request.headers["Authorization"] == "Bearer xoxb-s3cr3t-t0ken"
    assert request.json()["channel"] == "#nba-dq-alerts" and "*player_coverage*" in request.json()["text"]


def test_secrets_stay_out_of_output_files_and_messages(
    scratch: Workspace, slack: SlackServer, sql: Callable[[str], None]
) -> None:
    secret_path = "/services/T000/B000/s3cr3tW3bh00k"
    env = {"SLACK_WEBHOOK_URL": slack.url(secret_path)}
    slack.replies.append(Reply(500, "oops"))
    result = run(scratch, env, "5", COVERAGE_DROP, "--debug")
    sql(DUPLICATE_ONE_ACTIVE_ROW)
    with_outbox = run(scratch, {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/T000/B000/s3cr3tW3bh00k"}, "5", DAY)
    for output in (result.out, result.err, with_outbox.out, with_outbox.err):
        assert "s3cr3tW3bh00k" not in output
    for path in scratch.root.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".html", ".yml", ".txt", ""}:
            assert b"s3cr3tW3bh00k" not in path.read_bytes(), path
    assert list((scratch.root / "gx/uncommitted/alerts/outbox").glob("*.json"))  # the kept message: no URL in it
    assert all("s3cr3tW3bh00k" not in json.dumps(message) for message in slack.messages())


def test_without_a_destination_a_warning_and_in_production_an_error_before_any_check(
    scratch: Workspace,
) -> None:
    result = run(scratch, {}, "5", CLEAN)
    assert result.code == 0
    assert "nba-dq: warning: no Slack destination" in result.err and "alerts go nowhere" in result.err
    production = run(scratch, {"NBA_DQ_ENV": "production"}, "5", COVERAGE_DROP)
    assert production.code == 2 and production.out == ""
    assert production.err.strip().splitlines() == [
        "nba-dq: error: NBA_DQ_ENV=production but no Slack destination is set: alerts would go nowhere"
        " (set SLACK_WEBHOOK_URL, SLACK_WEBHOOK_URL_ERROR or SLACK_BOT_TOKEN)"
    ]
    written = [str(path) for path in (scratch.root / "gx/uncommitted").rglob("*")]
    assert any(CLEAN in path for path in written) and not any(COVERAGE_DROP in path for path in written)


def test_routing_prefers_webhooks_and_falls_back_to_the_default() -> None:
    settings = load_settings({}).alerts
    routing = routing_from_env({"SLACK_WEBHOOK_URL": "u"}, settings)
    assert routing is not None and {routing.critical, routing.warning, routing.resolved} == {
        Destination("webhook", "SLACK_WEBHOOK_URL")
    }
    only_error = routing_from_env({"SLACK_WEBHOOK_URL_ERROR": "u", "SLACK_BOT_TOKEN": "t"}, settings)
    assert only_error is not None and only_error.warning == Destination("webhook", "SLACK_WEBHOOK_URL_ERROR")
    token = routing_from_env({"SLACK_BOT_TOKEN": "t"}, settings)
    assert token is not None and token.critical == Destination("channel", "#nba-dq-alerts")
    assert routing_from_env({"SLACK_WEBHOOK_URL": "  "}, settings) is None
    assert (settings.connect_timeout_seconds, settings.total_timeout_seconds, settings.max_tries) == (5, 15, 3)
    assert settings.repeat_after_hours == 6
