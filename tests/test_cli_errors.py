"""Bad input: one clear line on stderr, exit 2; nothing on stdout, or with --json the one error object."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult, Workspace
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance


NO_SLACK_WARNING = "nba-dq: warning: no Slack destination"  # tests run without one (test_slack_alerts.py)


def assert_one_line_exit_2(result: CliResult, *fragments: str, command: str | None = None) -> None:
    """Exit 2 and one error line; with `command` (a --json run) stdout is the error object with that line."""
    assert result.code == 2
    errors = [line for line in result.err.splitlines() if not line.startswith(NO_SLACK_WARNING)]
    assert len(errors) == 1 and errors[0].startswith("nba-dq: error: "), result.err
    for fragment in fragments:
        assert fragment in errors[0]
    if command is None:
        assert result.out == ""
    else:
        assert result.json() == {
            "status": "error",
            "command": command,
            "error": errors[0].removeprefix("nba-dq: error: "),
        }


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["run", "--phase", "5", "--date", "2025-13-45"], ["invalid date '2025-13-45'", "YYYY-MM-DD"]),
        (["run", "--phase", "9", "--date", "2025-12-02"], ["invalid choice: '9'"]),
        (["run", "--date", "2025-12-02"], ["--phase"]),
        (["run", "--phase", "5", "--date", "2025-12-02", "--now", "yesterday"], ["invalid time"]),
        (
            ["run", "--phase", "5", "--date", "2025-12-12", "--now", "2025-12-12"],
            ["invalid time '2025-12-12': give a time of day too", "without an offset is taken as UTC"],
        ),
        (["audit", "--start", "2025-12-01", "--end", "2025-12-31", "--now", "2025-12-31"], ["give a time of day too"]),
        (["health", "--now", "2025-12-31"], ["give a time of day too"]),
        (["frobnicate"], ["invalid choice", "(see `nba-dq --help`)"]),
        ([], ["required", "(see `nba-dq --help`)"]),
        (["run", "--phase", "9", "--date", "2025-12-02"], ["(see `nba-dq run --help`)"]),
        (["run", "--phase", "5", "--date", "2025-12-24"], ["no games scheduled on 2025-12-24"]),
        (["seed", "--start", "2025-12-05", "--end", "2025-12-01"], ["after --end"]),
    ],
)
def test_bad_input(seeded: Workspace, argv: list[str], fragments: list[str]) -> None:
    assert_one_line_exit_2(seeded.cli(*argv), *fragments)


def test_a_date_without_an_era(seeded: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "dq.toml"
    eras = (PROJECT_ROOT / "dq.toml").read_text().replace("start = 2025-10-01", "start = 2025-12-04")
    config.write_text(eras.replace("start = 2021-07-01\nend = 2025-09-30", "start = 2025-12-03\nend = 2025-12-03"))
    result = seeded.cli("run", "--phase", "5", "--date", "2025-12-02", env={"NBA_DQ_CONFIG": str(config)})
    assert_one_line_exit_2(result, "no era", "covers 2025-12-02", "[[eras]]")


def test_a_gap_between_eras_is_a_config_error_whatever_the_date(seeded: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "dq.toml"
    config.write_text((PROJECT_ROOT / "dq.toml").read_text().replace("start = 2025-10-01", "start = 2025-12-03"))
    result = seeded.cli("run", "--phase", "5", "--date", "2025-12-15", env={"NBA_DQ_CONFIG": str(config)})
    assert_one_line_exit_2(result, "dq.toml: [[eras]]: 'backfill'", "leave 2025-10-01..2025-12-02 uncovered")


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
    assert_one_line_exit_2(result, "nba_predictions.player_prop_predictions has no column system_id", command="run")


def test_column_type_drift(scratch: Workspace, sql: Callable[[str], None]) -> None:
    sql("ALTER TABLE nba_predictions.player_prop_predictions ALTER predicted_points TYPE DOUBLE")
    result = scratch.cli("run", "--phase", "5", "--date", "2025-12-02")
    assert_one_line_exit_2(result, "predicted_points is DOUBLE, expected NUMERIC(5,1)")


def test_unsupported_warehouse_url(seeded: Workspace) -> None:
    result = seeded.cli("run", "--phase", "5", "--date", "2025-12-02", env={"NBA_DQ_WAREHOUSE": "postgresql://x/y"})
    assert_one_line_exit_2(result, "environment: NBA_DQ_WAREHOUSE = 'postgresql://...': must be duckdb:///")


def test_help_is_fast_and_lists_commands(seeded: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        seeded.cli("--help")
    assert exited.value.code == 0
    assert "run" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, command",
    [
        (["run", "--phase", "9", "--date", "2025-12-02", "--json"], "run"),
        (["health", "--days", "x", "--json"], "health"),
        (["audit", "--start", "2025-12-05", "--end", "2025-12-01", "--json"], "audit"),
        (["run", "--phase", "5", "--date", "2025-12-24", "--json"], "run"),
        (["frobnicate", "--json"], "frobnicate"),
    ],
)
def test_every_command_prints_the_error_object_with_json(seeded: Workspace, argv: list[str], command: str) -> None:
    assert_one_line_exit_2(seeded.cli(*argv), command=command)


def test_a_bad_config_with_json_prints_the_error_object(seeded: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "dq.toml"
    config.write_text((PROJECT_ROOT / "dq.toml").read_text().replace("max_tries = 3", "max_tries = 0"))
    result = seeded.cli(
        "audit", "--start", "2025-12-01", "--end", "2025-12-02", "--json", env={"NBA_DQ_CONFIG": str(config)}
    )
    assert_one_line_exit_2(result, "dq.toml: [alerts] max_tries = 0: must be at least 1", command="audit")


def test_phase_all_puts_one_line_per_phase_that_could_not_run_on_stderr(
    scratch: Workspace, sql: Callable[[str], None]
) -> None:
    sql("DROP TABLE nba_predictions.prediction_accuracy")
    sql("ALTER TABLE nba_predictions.ml_feature_store_v2 DROP COLUMN quality_tier")
    result = scratch.cli("run", "--phase", "all", "--date", "2025-12-02", "--json")
    assert result.code == 2
    errors = [line for line in result.err.splitlines() if not line.startswith(NO_SLACK_WARNING)]
    assert len(errors) == 2
    assert errors[0].startswith("nba-dq: error: phase4 2025-12-02: could not run: schema drift: ")
    assert "ml_feature_store_v2 has no column quality_tier" in errors[0]
    assert errors[1].startswith("nba-dq: error: phase5b 2025-12-02: could not run: ")
    assert "table nba_predictions.prediction_accuracy is missing" in errors[1]
    phases = {phase["phase"]: phase["status"] for phase in result.json()["phases"]}
    assert phases == {"phase3": "pass", "phase4": "error", "phase5": "pass", "phase5b": "error", "phase6": "pass"}


def test_audit_puts_one_line_per_phase_that_could_not_run_on_stderr(
    scratch: Workspace, sql: Callable[[str], None]
) -> None:
    sql("DROP TABLE nba_predictions.prediction_accuracy")
    result = scratch.cli("audit", "--start", "2025-12-01", "--end", "2025-12-03", "--phase", "5b", "--json")
    assert result.code == 2 and json.loads(result.out)["status"] == "error"
    errors = [line for line in result.err.splitlines() if not line.startswith(NO_SLACK_WARNING)]
    assert len(errors) == 1 and errors[0].startswith("nba-dq: error: audit phase5b: could not run: ")
    assert "table nba_predictions.prediction_accuracy is missing" in errors[0]
