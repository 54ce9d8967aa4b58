"""How an alert reads: values in tables, what was cut said as "+N more", the check's why, a link to the
failing table's own page, Slack's size limits, and no alert for a date without games. Real runs post to
a real HTTP server on 127.0.0.1; the size limits are also tested on a crafted, huge failure."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from checkpoints.summary import CheckOutcome, RunSummary
from reporting.alert_messages import RunLinks, alert_message, with_note
from tests.conftest import Workspace
from tests.slack_server import SlackServer, slack_server, tables
from warehouse.settings import PROJECT_ROOT

ORPHANED_STAGING = "2025-12-12"  # the seeded fault: a staging table 180 min old
NO_GAMES = "2025-12-24"
DAY = "2025-12-03"
SITE = "gx/uncommitted/data_docs/local_site"
BASE_URL = "https://dq.example.test/docs"
LINKS = RunLinks(data_docs_url=str, rerun_command=lambda summary: "nba-dq run", inspect_command=str)


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


def sections(message: dict[str, Any]) -> list[str]:
    return [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]


def test_the_link_opens_the_failing_tables_page_over_https(
    scratch: Workspace, slack: SlackServer, tmp_path: Path
) -> None:
    """12-12 used to link the phase's first page (predictions: all passed), behind file://."""
    config = tmp_path / "web.toml"
    config.write_text((PROJECT_ROOT / "dq.toml").read_text().replace('base_url = ""', f'base_url = "{BASE_URL}"'))
    env = {"SLACK_WEBHOOK_URL": slack.url(), "NBA_DQ_CONFIG": str(config)}
    result = scratch.cli("run", "--phase", "5", "--date", ORPHANED_STAGING, env=env)
    assert result.code == 1
    first_page = result.out.split("Data Docs: ")[1].splitlines()[0]
    assert "player_prop_predictions" in first_page  # the page the old link opened: not the failing table's
    text = slack.messages()[0]["text"]
    [url] = re.findall(r"Data Docs: <(https://[^>|]+)>", text)
    assert url.startswith(f"{BASE_URL}/validations/phase5/staging_tables/") and "file://" not in text
    page = scratch.root / SITE / url.removeprefix(f"{BASE_URL}/")
    assert "no_orphaned_staging_tables" in page.read_text()  # the page exists and shows the failing check
    assert "_why:_ Staging tables are deleted after a successful MERGE" in text  # the check's note


def test_a_huge_failure_is_cut_to_slacks_limits_and_says_how_much_more(
    scratch: Workspace, slack: SlackServer, sql: Callable[[str], None]
) -> None:
    sql(
        "UPDATE nba_predictions.player_prop_predictions SET predicted_points = NULL, confidence_score = 500"
        f" WHERE game_date = DATE '{DAY}' AND is_active"
    )
    result = scratch.cli("run", "--phase", "5", "--date", DAY, "--json", env={"SLACK_WEBHOOK_URL": slack.url()})
    assert result.code == 1
    failing = {check["name"]: check["observed"] for check in result.json()["checks"] if not check["success"]}
    assert len(failing["predicted_points_range"]) > 100  # the fault reaches every active row
    message = slack.messages()[0]
    assert len(message["blocks"]) <= 50 and all(len(text) <= 3000 for text in sections(message))
    text = message["text"]
    shown = dict(zip(failing, tables(text), strict=False))  # one table per failing check, in order
    for name, rows in failing.items():
        assert f"+{len(rows) - len(shown[name])} more rows (all in Data Docs)" in text
    assert shown["predicted_points_range"][0]["predicted_points"] == "null" and "None" not in text  # SQL NULL


def test_a_date_without_games_alerts_nobody(scratch: Workspace, slack: SlackServer) -> None:
    """Nothing was due to be checked, so there is no incident: the CLI still says so and exits 2."""
    result = scratch.cli("run", "--phase", "5", "--date", NO_GAMES, env={"SLACK_WEBHOOK_URL": slack.url()})
    assert result.code == 2 and "no games scheduled on 2025-12-24" in result.err
    assert slack.received == [] and not list((scratch.root / "gx/uncommitted/alerts/outbox").glob("*.json"))


def test_a_failure_too_big_for_one_message_stays_within_the_block_kit_limits() -> None:
    rows = [{"player_lookup": f"player{n:04d}" + "x" * 60, "system_id": None, "value": n} for n in range(500)]
    note = "why " * 1000
    checks = [CheckOutcome(f"check_{n:02d}", "fail", "critical", rows, "none", notes=note) for n in range(60)]
    summary = RunSummary("phase5", date(2025, 12, 5), tuple(checks), data_docs=())
    message = with_note(alert_message(summary, checks, LINKS), "sent without the ledger")
    texts = sections(message)
    assert len(message["blocks"]) <= 50 and all(len(text) <= 3000 for text in texts)
    assert all(text.count("```") in (0, 2) for text in texts)  # a cut never leaves a code block open
    shown = [text for text in texts if text.startswith("*check_")]
    assert texts[-1].startswith(f"+{60 - len(shown)} more failed checks: *check_{len(shown):02d}*")


def test_a_sample_says_how_many_rows_it_leaves_out_and_values_read_as_typed() -> None:
    sample = [{"player_lookup": f"p{n}", "points": None if n == 0 else n, "ok": True} for n in range(10)]
    check = CheckOutcome("points_range", "fail", "critical", {"unexpected": 271, "rows": 300, "sample": sample}, "<60")
    text = alert_message(RunSummary("phase5", date(2025, 12, 5), (check,), ()), [check], LINKS)["text"]
    [table] = tables(text)
    assert len(table) == 10 and "+261 more rows" in text  # 271 failed, 10 shown
    assert table[0] == {"player_lookup": "p0", "points": "null", "ok": "true"} and "None" not in text
