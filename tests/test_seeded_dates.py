"""`--phase all` on every seeded date: each check passes on clean dates and fails on its own faults only."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from checkpoints.phases import PHASES
from tests.conftest import MonthRuns, Workspace, month_run_group
from warehouse.seed import DEFAULT_END, DEFAULT_START, FAULTS
from warehouse.settings import load_settings

pytestmark = pytest.mark.acceptance
FAULT_BY_DATE = {fault.game_date: fault for fault in FAULTS}
MONTH = [DEFAULT_START + timedelta(days=n) for n in range((DEFAULT_END - DEFAULT_START).days + 1)]
CHECKPOINTS = [phase.checkpoint for phase in PHASES.values()]
SETTINGS = load_settings({})
WARNINGS = {  # warning-level checks (dq.toml): they fail and still exit 0
    name for thresholds in (SETTINGS.phase3, SETTINGS.phase4, SETTINGS.phase5, SETTINGS.phase5b, SETTINGS.phase6)
    for name, level in thresholds.severity.items() if level == "warning"
}  # fmt: skip


def games_on(workspace: Workspace, game_date: date) -> int:
    connection = duckdb.connect(str(workspace.warehouse), read_only=True)
    try:
        query = "SELECT COUNT(*) FROM nba_raw.nbac_schedule WHERE game_date = ?"
        return int(connection.execute(query, [game_date]).fetchone()[0])
    finally:
        connection.close()


def test_the_month_has_clean_and_no_game_dates(seeded: Workspace) -> None:
    clean = [d for d in MONTH if d not in FAULT_BY_DATE and games_on(seeded, d) > 0]
    assert len(clean) >= 8
    for checkpoint in CHECKPOINTS:  # every checkpoint passes on most dates: its checks are seen passing
        assert sum(1 for d in MONTH if not (d in FAULT_BY_DATE and FAULT_BY_DATE[d].failing_checks(checkpoint))) >= 20
    assert any(games_on(seeded, d) == 0 for d in MONTH)


@pytest.mark.parametrize("game_date", [pytest.param(d, marks=month_run_group(d)) for d in MONTH], ids=str)
def test_all_phases_on_seeded_date(seeded: Workspace, month_runs: MonthRuns, game_date: date) -> None:
    result = month_runs.all_phases(game_date).result  # `run --phase all --date D --now <its run time> --json`
    document = result.json()
    assert [phase["phase"] for phase in document["phases"]] == CHECKPOINTS
    if games_on(seeded, game_date) == 0:
        assert result.code == 2 and document["status"] == "error"
        assert all("no games scheduled" in phase["error"] for phase in document["phases"])
        return
    fault = FAULT_BY_DATE.get(game_date)
    failing = {
        phase["phase"]: {check["name"] for check in phase["checks"] if not check["success"]}
        for phase in document["phases"]
    }
    expected = {checkpoint: set(fault.failing_checks(checkpoint)) if fault else set() for checkpoint in CHECKPOINTS}
    assert failing == expected, f"{game_date} ({fault.name if fault else 'clean'})"
    assert all("error" not in phase for phase in document["phases"]), result.out
    critical = any(
        not check["success"] and check["severity"] == "critical"
        for phase in document["phases"]
        for check in phase["checks"]
    )
    assert critical == any(checks - WARNINGS for checks in expected.values())
    assert result.code == (1 if critical else 0)
    assert document["status"] == ("fail" if critical else "pass")


def test_a_phase_that_cannot_run_does_not_stop_the_others(scratch: Workspace) -> None:
    connection = duckdb.connect(str(scratch.warehouse))
    connection.execute("DROP TABLE nba_predictions.ml_feature_store_v2")
    connection.close()
    result = scratch.cli("run", "--phase", "all", "--date", "2025-12-02", "--json")
    statuses = {phase["phase"]: phase["status"] for phase in result.json()["phases"]}
    assert statuses == {"phase3": "pass", "phase4": "error", "phase5": "pass", "phase5b": "pass", "phase6": "pass"}
    assert result.code == 2
    text = scratch.cli("run", "--phase", "all", "--date", "2025-12-02").out
    assert "phase4 2025-12-02: ERROR: could not run: schema drift" in text
    assert text.rstrip().endswith(
        "all phases 2025-12-02: ERROR (phase3 PASS, phase4 ERROR, phase5 PASS, phase5b PASS, phase6 PASS)"
    )
