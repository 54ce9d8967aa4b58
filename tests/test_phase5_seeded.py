"""Phase 5 on seeded dates: what its failures say (every date is covered by tests/test_seeded_dates.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import Workspace
from warehouse.seed import FAULTS, simulated_run_time

pytestmark = pytest.mark.acceptance


def run_phase5(workspace: Workspace, game_date: date) -> tuple[int, set[str], dict]:
    result = workspace.cli(
        "run", "--phase", "5", "--date", str(game_date), "--now", simulated_run_time(game_date).isoformat(), "--json"
    )
    assert result.code in (0, 1), result.err
    return result.code, result.failing(), result.json()


def test_coverage_failure_names_ratio_counts_and_missing_players(seeded: Workspace) -> None:
    fault = next(f for f in FAULTS if f.name == "coverage_drop")
    _, _, document = run_phase5(seeded, fault.game_date)
    coverage = next(c for c in document["checks"] if c["name"] == "player_coverage")
    (row,) = coverage["observed"]
    assert 0.5 <= row["coverage"] <= 0.7
    assert row["covered_players"] + row["missing_players"] == row["expected_players"]
    assert row["excluded_players"] > 0
    names = row["first_50_missing"].split(", ")
    assert len(names) == min(50, row["missing_players"]) and names == sorted(names)


def test_in_flight_staging_table_is_reported_and_passes_then_orphaned_later(seeded: Workspace) -> None:
    fault = next(f for f in FAULTS if f.name == "staging_in_flight")
    _, failing, document = run_phase5(seeded, fault.game_date)
    staging = next(c for c in document["checks"] if c["name"] == "no_orphaned_staging_tables")
    assert staging["success"] and [row["status"] for row in staging["observed"]] == ["in flight"]
    later = (simulated_run_time(fault.game_date) + timedelta(hours=1)).isoformat()
    result = seeded.cli("run", "--phase", "5", "--date", str(fault.game_date), "--now", later, "--json")
    assert result.code == 1 and result.failing() == {"no_orphaned_staging_tables"}


def test_duplicate_checks_name_the_keys(seeded: Workspace) -> None:
    fault = next(f for f in FAULTS if f.name == "duplicate_active_prediction")
    _, _, document = run_phase5(seeded, fault.game_date)
    (row,) = next(c for c in document["checks"] if c["name"] == "active_key_unique")["observed"]
    assert set(row) == {"game_id", "player_lookup", "system_id", "row_count"} and row["row_count"] == 2


def test_staging_ages_do_not_depend_on_the_machine_time_zone(seeded: Workspace) -> None:
    """A naive timestamp literal once made an in-flight table 8 hours old on a Pacific-time machine."""
    import os
    import subprocess
    import sys

    fault = next(f for f in FAULTS if f.name == "staging_in_flight")
    argv = [
        "run",
        "--phase",
        "5",
        "--date",
        str(fault.game_date),
        "--now",
        simulated_run_time(fault.game_date).isoformat(),
    ]
    env = {**os.environ, **seeded.env, "TZ": "America/Los_Angeles"}
    process = subprocess.run(
        [sys.executable, "-c", "from runners.cli import entry; entry()", *argv], env=env, capture_output=True, text=True
    )
    assert process.returncode == 0, process.stdout + process.stderr
