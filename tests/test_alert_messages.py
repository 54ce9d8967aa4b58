"""What an alert shows and suggests: values as typed (Slack mrkdwn cannot format them) and commands that
are inert when pasted, whatever a table or player is named. Commands are run in a real bash."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from checkpoints.summary import CheckOutcome, RunSummary
from reporting.alert_messages import RunLinks, alert_message, shown
from tests.conftest import Workspace
from tests.slack_server import SlackServer, slack_server
from warehouse.dialect import inspect_table_command

CRAFTED = [
    '_staging_x"; touch {marker}; echo "',
    "_staging_$(touch {marker})",
    "_staging_`touch {marker}`",
    "_staging_'; touch {marker}; '",
]


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


def pasted(command: str, program: str) -> list[str]:
    """Run `command` in bash as if pasted, with `program` swapped for printf: the argv it would get."""
    assert command.startswith(program + " ")
    shell = "printf '%s\\n' " + command[len(program) + 1 :]
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("crafted", CRAFTED, ids=["double quote", "$()", "backticks", "single quote"])
def test_a_crafted_table_name_is_inert_in_the_inspect_command(tmp_path: Path, crafted: str) -> None:
    marker = tmp_path / "PWNED"
    table = crafted.format(marker=marker)
    warehouse = tmp_path / "my warehouse.duckdb"
    duckdb_command = inspect_table_command(f"duckdb:///{warehouse}", "nba_predictions", table)
    argv = pasted(duckdb_command, "duckdb")
    assert argv[:2] == ["-readonly", str(warehouse)] and len(argv) == 3
    bq_command = inspect_table_command("bigquery://nba-props-platform", "nba_predictions", table)
    assert pasted(bq_command, "bq") == ["head", "-n", "20", f"nba-props-platform:nba_predictions.{table}"]
    assert not marker.exists()
    connection = duckdb.connect(str(warehouse))  # the SQL names exactly that table
    connection.execute("CREATE SCHEMA nba_predictions")
    connection.execute(f'CREATE TABLE nba_predictions."{table.replace(chr(34), chr(34) * 2)}" AS SELECT 42 AS answer')
    assert connection.execute(argv[2]).fetchall() == [(42,)]
    connection.close()


@pytest.mark.parametrize("value", ["*bold*", "_x_", "~struck~", "`code`", "a < b & c"])
def test_values_are_shown_as_typed(value: str) -> None:
    """Slack has no escape for * _ ~ `: such a value is shown in inline code, where nothing is formatted."""
    text = shown(value)
    if value.startswith("a <"):
        assert text == "a &lt; b &amp; c"
        return
    assert text.startswith("`") and text.endswith("`") and text.count("`") == 2
    assert text[1:-1].replace("\u02cb", "`") == value


def test_a_player_named_like_markup_shows_as_typed_in_the_message() -> None:
    row = {"player_lookup": "*bold*", "system_id": "_x_", "predicted_points": 61}
    check = CheckOutcome(
        "predicted_points_range", "fail", "critical", {"unexpected": 1, "rows": 9, "sample": [row]}, "0-60"
    )
    summary = RunSummary("phase5", date(2025, 12, 5), (check,), data_docs=())
    links = RunLinks(data_docs_url=str, rerun_command=lambda s: "nba-dq run", inspect_command=str)
    text = alert_message(summary, [check], links)["text"]
    # In a code block Slack formats nothing: the values stand as typed, in aligned columns.
    table = "```\nplayer_lookup  system_id  predicted_points\n*bold*         _x_        61\n```"
    assert table in text


def test_an_orphaned_table_with_a_crafted_name_gives_an_inert_command_in_slack(
    scratch: Workspace, slack: SlackServer, sql: Callable[[str], None], tmp_path: Path
) -> None:
    marker = tmp_path / "PWNED"
    table = f'_staging_x"; touch {marker}; echo "$(touch {marker})\''
    sql(f'CREATE TABLE nba_predictions."{table.replace(chr(34), chr(34) * 2)}" AS SELECT 1 AS x')
    result = scratch.cli("run", "--phase", "5", "--date", "2025-12-03", env={"SLACK_WEBHOOK_URL": slack.url()})
    assert result.code == 1
    text = slack.messages()[0]["text"]
    assert "*no_orphaned_staging_tables* (critical)" in text
    command = html.unescape(re.search(r"inspect: `([^`]*)`", text).group(1))  # what a reader copies
    argv = pasted(command, "duckdb")
    assert argv[:2] == ["-readonly", str(scratch.warehouse)] and not marker.exists()
    connection = duckdb.connect(str(scratch.warehouse), read_only=True)
    try:
        assert connection.execute(argv[2]).fetchall() == [(1,)]
    finally:
        connection.close()
