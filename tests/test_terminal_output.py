"""Values from the data never reach the terminal raw: control characters show as visible escapes.

A player name with ANSI escape codes once cleared the screen and printed a fake green PASS, and a
newline inside a value broke the table. Here both sit in a real scratch warehouse (as player names of
out-of-range predictions, and in the name of an orphaned staging table) and the real CLI prints them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from reporting.terminal import printable
from tests.conftest import Workspace

DAY = "2025-12-02"
SCREEN_CLEARING = "\x1b[2J\x1b[32mPASS"
TWO_LINES = "evil\nsecondline"
RUN_HOUR_MINUS_3H = int(datetime(2025, 12, 2, 15, tzinfo=timezone.utc).timestamp())  # orphaned at the 18:00 run
STAGING = f"_staging_batch_2025_12_02_{RUN_HOUR_MINUS_3H}_w\x1b[2J\x1b[32mPASS\nsecondline"


def test_printable_escapes_every_control_character_visibly() -> None:
    assert printable(SCREEN_CLEARING) == "\\x1b[2J\\x1b[32mPASS"
    assert printable("a\nb\rc\td\x00e\x7ff\x9bg") == "a\\nb\\rc\\td\\x00e\\x7ff\\x9bg"
    assert printable("joker\u202eevil\u2028x") == "joker\\u202eevil\\u2028x"
    assert printable("Nikola Jokić, 12.5") == "Nikola Jokić, 12.5"  # printable text is left alone
    assert printable(None) == "None"


@pytest.fixture
def hostile(scratch: Workspace, sql: Callable[[str], None]) -> Workspace:
    """Two active predictions of the day renamed and pushed out of range; an orphaned staging table."""
    for name, offset in ((SCREEN_CLEARING, 0), (TWO_LINES, 1)):
        quoted = name.replace("'", "''")
        sql(
            f"UPDATE nba_predictions.player_prop_predictions SET player_lookup = '{quoted}', predicted_points = 99"
            f" WHERE prediction_id = (SELECT prediction_id FROM nba_predictions.player_prop_predictions"
            f" WHERE game_date = DATE '{DAY}' AND is_active ORDER BY prediction_id LIMIT 1 OFFSET {offset})"
        )
    sql(f'CREATE TABLE nba_predictions."{STAGING}" AS SELECT * FROM nba_predictions.player_prop_predictions LIMIT 0')
    return scratch


def assert_escaped(out: str) -> None:
    assert "\x1b" not in out and "\r" not in out
    assert not any(line.startswith("secondline") for line in out.splitlines()), out
    assert "\\x1b[2J\\x1b[32mPASS" in out and "\\nsecondline" in out, out


def test_run_prints_hostile_names_escaped_and_json_keeps_them_exact(hostile: Workspace) -> None:
    result = hostile.cli("run", "--phase", "5", "--date", DAY)
    assert result.code == 1, result.err
    assert_escaped(result.out)
    assert "player_lookup=\\x1b[2J\\x1b[32mPASS" in result.out and "player_lookup=evil\\nsecondline" in result.out

    as_json = hostile.cli("run", "--phase", "5", "--date", DAY, "--json")
    assert "\x1b" not in as_json.out and "secondline\n" not in as_json.out  # json.dumps escapes them
    observed = {check["name"]: check["observed"] for check in as_json.json()["checks"]}
    assert {row["player_lookup"] for row in observed["predicted_points_range"]} >= {SCREEN_CLEARING, TWO_LINES}
    assert STAGING in {row["table_name"] for row in observed["no_orphaned_staging_tables"]}


def test_audit_prints_a_hostile_staging_table_escaped(hostile: Workspace) -> None:
    result = hostile.cli("audit", "--start", DAY, "--end", DAY, "--phase", "5")
    assert result.code == 1, result.err
    assert "no_orphaned_staging_tables" in result.out
    assert "\x1b" not in result.out and "\\x1b[2J\\x1b[32mPASS\\nsecondline" in result.out
    assert not any(line.startswith("secondline") for line in result.out.splitlines()), result.out


def test_health_prints_a_hostile_staging_table_escaped(hostile: Workspace) -> None:
    result = hostile.cli("health", "--end", DAY, "--days", "2")
    assert result.code == 1, result.err
    assert "\x1b" not in result.out and "\\x1b[2J\\x1b[32mPASS\\nsecondline" in result.out
    assert not any(line.startswith("secondline") for line in result.out.splitlines()), result.out


def test_an_error_line_quoting_a_value_is_escaped(seeded: Workspace) -> None:
    """Error lines quote what they could not use (a path, a table name): one line, no control character."""
    result = seeded.cli("run", "--phase", "6", "--date", DAY, env={"NBA_DQ_EXPORT_ROOT": f"/nowhere/{SCREEN_CLEARING}"})
    assert result.code == 2
    [line] = [line for line in result.err.splitlines() if "error" in line]
    assert line.startswith("nba-dq: error:") and "\x1b" not in line and "\\x1b[2J" in line
