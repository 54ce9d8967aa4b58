"""Bad input: one clear line on stderr, nothing on stdout, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult, Workspace
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance


NO_SLACK_WARNING = "nba-dq: warning: no Slack destination"  # tests run without one (test_slack_alerts.py)


def assert_one_line_exit_2(result: CliResult, *fragments: str) -> None:
    assert result.code == 2
    assert result.out == ""
    errors = [line for line in result.err.splitlines() if not line.startswith(NO_SLACK_WARNING)]
    assert len(errors) == 1 and errors[0].startswith("nba-dq: error: "), result.err
    for fragment in fragments:
        assert fragment in errors[0]


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["run", "--phase", "5", "--date", "2025-13-45"], ["invalid date '2025-13-45'", "YYYY-MM-DD"]),
        (["run", "--phase", "9", "--date", "2025-12-02"], ["invalid choice: '9'"]),
        (["run", "--date", "2025-12-02"], ["--phase"]),
        (["run", "--phase", "5", "--date", "2025-12-02", "--now", "yesterday"], ["invalid time"]),
        (["frobnicate"], ["invalid choice"]),
        ([], ["required"]),
        (["run", "--phase", "5", "--date", "2025-12-24"], ["no games scheduled on 2025-12-24"]),
        (["seed", "--start", "2025-12-05", "--end", "2025-12-01"], ["after --end"]),
    ],
)
def test_bad_input(seeded: Workspace, argv: list[str], fragments: list[str]) -> None:
    assert_one_line_exit_2(seeded.cli(*argv), *fragments)


def test_a_date_without_an_era(seeded: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "dq.toml"
    config.write_text((PROJECT_ROOT / "dq.toml").read_text().replace("start = 2025-10-01", "start = 2025-12-03"))
    result = seeded.cli("run", "--phase", "5", "--date", "2025-12-02", env={"NBA_DQ_CONFIG": str(config)})
    assert_one_line_exit_2(result, "no era", "covers 2025-12-02", "[[eras]]")


def test_missing_warehouse_file(scratch: Workspace) -> None:
    scratch.warehouse.unlink()
    assert_one_line_exit_2(scratch.cli("run", "--phase", "5", "--date", "2025-12-02"), "not found", "nba-dq seed")


def test_dropped_table(scratch: Workspace, sql: Callable[[str], None]) -> None:
    sql("DROP TABLE nba_analytics.upcoming_player_game_context")
    result = scratch.cli("run", "--phase", "5", "--date", "2025-12-02")
    assert_one_line_exit_2(result, "table nba_analytics.upcoming_player_game_context is missing")


def test_dropped_column(scratch: Workspace, sql: Callable[[str], None]) -> None:
    sql("ALTER TABLE nba_predictions.player_prop_predictions DROP COLUMN system_id")
    result = scratch.cli("run", "--phase", "5", "--date", "2025-12-02", "--json")
    assert_one_line_exit_2(result, "nba_predictions.player_prop_predictions has no column system_id")


def test_column_type_drift(scratch: Workspace, sql: Callable[[str], None]) -> None:
    sql("ALTER TABLE nba_predictions.player_prop_predictions ALTER predicted_points TYPE DOUBLE")
    result = scratch.cli("run", "--phase", "5", "--date", "2025-12-02")
    assert_one_line_exit_2(result, "predicted_points is DOUBLE, expected NUMERIC(5,1)")


def test_unsupported_warehouse_url(seeded: Workspace) -> None:
    result = seeded.cli("run", "--phase", "5", "--date", "2025-12-02", env={"NBA_DQ_WAREHOUSE": "postgresql://x/y"})
    assert_one_line_exit_2(result, "unsupported warehouse URL")


def test_help_is_fast_and_lists_commands(seeded: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        seeded.cli("--help")
    assert exited.value.code == 0
    assert "run" in capsys.readouterr().out
