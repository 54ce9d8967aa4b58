"""`nba-dq health`: the daily table over a window of the seeded month, its chart and its exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Workspace, make_workspace
from tests.test_cli_errors import assert_one_line_exit_2

pytestmark = pytest.mark.acceptance


@pytest.fixture
def unrun(seeded_file: Path, tmp_path: Path) -> Workspace:
    """The seeded month with a GX folder of its own: no recorded run, whatever other tests ran before
    (health counts a date's latest failed run among its problems)."""
    return make_workspace(tmp_path, seeded_file)


def by_date(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {day["game_date"]: day for day in document["dates"]}


def test_a_window_with_faults_is_unhealthy_and_names_them(unrun: Workspace) -> None:
    result = unrun.cli("health", "--end", "2025-12-09", "--json")
    assert result.code == 1
    document = result.json()
    days = by_date(document)
    assert list(days) == [f"2025-12-0{n}" for n in range(3, 10)]
    coverage_drop = days["2025-12-05"]
    assert (coverage_drop["coverage"], coverage_drop["missing_players"]) == (0.6, 78)
    assert coverage_drop["production_ready_players"] == 195 and coverage_drop["predicted_players"] == 127
    assert coverage_drop["problems"] == ["coverage 60% < 90%"]
    assert days["2025-12-08"]["duplicate_active_keys"] == 1 and days["2025-12-08"]["problems"] == [
        "1 duplicated active keys"
    ]
    clean = [day for name, day in days.items() if name not in ("2025-12-05", "2025-12-08")]
    assert all(day["problems"] == [] and day["coverage"] == 1.0 and day["graded_share"] == 1.0 for day in clean)
    assert document["orphaned_staging_tables"] == []  # the seeded ones are younger than this window's run
    chart = open(document["chart"]).read()
    assert (
        "threshold 90%" in chart
        and "Failing dates (2): 2025-12-05, 2025-12-08" in chart
        and "http" not in chart.replace("http://www.w3.org/2000/svg", "")
    )


def test_a_clean_window_exits_0_and_shows_each_phases_latest_status(scratch: Workspace) -> None:
    scratch.cli("run", "--phase", "5", "--date", "2025-12-02")
    scratch.cli("run", "--phase", "5b", "--date", "2025-12-02")
    result = scratch.cli("health", "--end", "2025-12-03", "--days", "3")
    assert result.code == 0, result.out
    assert result.out.startswith("health 2025-12-01..2025-12-03: OK")
    line = next(line for line in result.out.splitlines() if line.startswith("2025-12-02"))
    assert line.split()[9:15] == ["-", "-", "pass", "pass", "-", "ok"]  # phase3..phase6, problems


def test_zero_predictions_and_silent_grading_fail_the_day(unrun: Workspace) -> None:
    days = by_date(unrun.cli("health", "--end", "2025-12-30", "--days", "13", "--json").json())
    assert days["2025-12-18"]["coverage"] == 0.0 and days["2025-12-18"]["data_loss_rate"] == 1.0
    assert days["2025-12-30"]["graded_share"] == 0.5 and days["2025-12-30"]["problems"] == ["graded 50% < 98%"]
    assert days["2025-12-20"]["data_loss_rate"] == pytest.approx(0.2)  # the silent system, seen as lost rows
    assert "2025-12-24" not in days  # no games that day


def test_every_orphaned_staging_table_is_listed_whatever_its_date(unrun: Workspace) -> None:
    result = unrun.cli("health", "--end", "2025-12-17", "--days", "1", "--json")
    document = result.json()
    assert result.code == 1 and all(day["problems"] == [] for day in document["dates"])
    tables = document["orphaned_staging_tables"]
    assert [table["batch_date"] for table in tables] == ["2025-12-12", "2025-12-15"]
    assert [table["age_minutes"] for table in tables] == [5 * 24 * 60 + 180, 2 * 24 * 60 + 10]
    assert [table["status"] for table in tables] == ["orphaned", "orphaned"]
    text = unrun.cli("health", "--end", "2025-12-17", "--days", "1").out
    assert "staging tables failing in the predictions dataset (2, batches up to 2025-12-17):" in text
    assert "orphaned, age 7380.0 min" in text


def test_a_silent_era_system_makes_its_date_unhealthy(unrun: Workspace) -> None:
    result = unrun.cli("health", "--end", "2025-12-20", "--days", "1", "--json")
    (day,) = result.json()["dates"]
    assert result.code == 1 and day["coverage"] == 1.0  # every player still has a prediction from some system
    (problem,) = day["problems"]
    assert "systems under 80%" in problem and "similarity_balanced_v1 0" in problem


def test_a_date_whose_latest_runs_failed_is_unhealthy_and_warnings_alone_are_ok(scratch: Workspace) -> None:
    day = "2025-12-04"  # the seeded context_team_missing fault fails Phase 3
    (scratch.exports / "predictions" / f"{day}.json").unlink()  # and a missing file fails Phase 6
    assert scratch.cli("run", "--phase", "3", "--date", day).code == 1
    assert scratch.cli("run", "--phase", "6", "--date", day).code == 1
    assert scratch.cli("run", "--phase", "5", "--date", day).code == 0
    assert scratch.cli("run", "--phase", "5", "--date", "2025-12-27").code == 0  # shadow_system_volume: a warning
    document = scratch.cli("health", "--end", "2025-12-27", "--days", "24", "--json").json()
    days = by_date(document)
    assert days[day]["latest_status"] == {
        "phase3": "fail", "phase4": "-", "phase5": "pass", "phase5b": "-", "phase6": "fail"
    }  # fmt: skip
    assert days[day]["problems"] == ["phase3 fail in its latest run", "phase6 fail in its latest run"]
    assert days["2025-12-27"]["latest_status"]["phase5"] == "warn" and days["2025-12-27"]["problems"] == []
    text = scratch.cli("health", "--end", "2025-12-27", "--days", "24").out
    row = next(line for line in text.splitlines() if line.startswith("2025-12-27"))
    assert row.split()[9:15] == ["-", "-", "warn", "-", "-", "ok"]  # phase3..phase6, problems


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["health", "--days", "0", "--end", "2025-12-09"], "--days 0"),
        (["health", "--end", "2026-08-01"], "no games scheduled from 2026-07-26 to 2026-08-01"),
        (["health", "--end", "yesterday"], "invalid date"),
    ],
)
def test_bad_health_input(seeded: Workspace, argv: list[str], fragment: str) -> None:
    assert_one_line_exit_2(seeded.cli(*argv), fragment)
