"""The audit covers Phase 6: a range's export files are read and judged by Phase 6's own checks, so `audit`
names the seeded month's export faults, agrees with `run --phase 6` on every date, and fails closed."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone

import pytest
from great_expectations import expectations as gxe

from checkpoints.audit import audit
from checkpoints.phases import AUDITED
from checkpoints.run import run_phase
from expectations import phase6_audit
from expectations.ranges import RangeRequest
from tests.conftest import Workspace
from tests.test_phase6_exports import DAY, HAND_FAULTS
from tests.test_seeded_dates import MONTH, games_on
from warehouse.connection import open_warehouse
from warehouse.seed import DEFAULT_END, DEFAULT_START, FAULTS

pytestmark = pytest.mark.acceptance
CLOCK = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
EXPORT_FAULT_DATES = {date(2025, 12, 7), date(2025, 12, 11), date(2025, 12, 14), date(2025, 12, 17)}


def _phase6_faults() -> dict[date, set[str]]:
    return {fault.game_date: set(fault.failing_checks("phase6")) for fault in FAULTS if fault.failing_checks("phase6")}


def test_audit_all_names_the_export_fault_dates_and_no_clean_date(seeded: Workspace) -> None:
    result = seeded.cli("audit", "--start", str(DEFAULT_START), "--end", str(DEFAULT_END), "--json",
                        "--now", CLOCK.isoformat())  # fmt: skip
    assert result.code == 1, result.err
    phases = {phase["phase"]: phase for phase in result.json()["phases"]}
    assert "phase6" in phases and phases["phase6"]["error"] is None
    failing = {date.fromisoformat(day) for phase in phases.values() for day in phase["failing_dates"]}
    assert EXPORT_FAULT_DATES <= failing
    export_failing = {date.fromisoformat(day) for day in phases["phase6"]["failing_dates"]}
    assert export_failing == set(_phase6_faults())  # the four, and 12-18 (no predictions: games without players)
    faulty = {fault.game_date for fault in FAULTS if any(fault.failing_checks(p) for p in phases)}
    assert failing <= faulty, f"clean dates named: {sorted(failing - faulty)}"
    page = phases["phase6"]["data_docs"][0]
    assert all(f"{day}: " in open(page, encoding="utf-8").read() for day in export_failing)  # noqa: SIM115


def test_run_phase6_and_audit_agree_on_every_seeded_date(seeded: Workspace) -> None:
    settings = seeded.settings
    report = audit(settings, ["6"], DEFAULT_START, DEFAULT_END, CLOCK)
    exports = report.phase("phase6")
    assert exports is not None and exports.error is None
    game_dates = [day for day in MONTH if games_on(seeded, day) > 0]
    assert list(exports.game_dates) == game_dates
    for day in game_dates:
        summary = run_phase(settings, "6", day, settings.run_time(day, CLOCK))
        by_run = {check.name for check in summary.failed()}  # a skip (12-19's halted floor) is not failing
        by_audit = {check.name for check in exports.checks if day in check.failures}
        assert by_audit == by_run == _phase6_faults().get(day, set()), day


@pytest.mark.parametrize("fault", HAND_FAULTS, ids=str)
def test_audit_judges_each_hand_made_export_fault_as_run_does(scratch: Workspace, fault: str) -> None:
    """The oracles are test_phase6_exports' (what `run --phase 6` fails); the audit's figures must match."""
    change, expected = HAND_FAULTS[fault]
    change(scratch.exports)
    settings = scratch.settings
    warehouse = open_warehouse(settings, {"command": "audit"})
    request = RangeRequest(DAY, DAY, CLOCK, warehouse.engine_name, warehouse.datasets)
    audited = phase6_audit.audit(request, settings, warehouse)
    figures = audited.figures.to_dict("records")
    assert [row["game_date"] for row in figures] == [DAY]
    assert {check.name for check in audited.checks if check.failure(figures[0])} == expected


def test_a_corrupt_export_file_fails_its_date_and_says_why(scratch: Workspace) -> None:
    (scratch.exports / "tonight" / f"{DAY}.json").write_bytes(b'{"games": [')
    report = audit(scratch.settings, ["6"], DEFAULT_START, DEFAULT_END, CLOCK)
    exports = report.phase("phase6")
    assert exports is not None and DAY in exports.failing_dates and report.exit_code == 1
    readable = next(check for check in exports.checks if check.name == "export_files_readable")
    assert f"tonight/{DAY}.json: not JSON" in readable.failures[DAY]


def test_a_missing_export_folder_fails_the_phase_closed_and_the_rest_still_run(scratch: Workspace) -> None:
    shutil.rmtree(scratch.exports)
    result = scratch.cli("audit", "--start", str(DEFAULT_START), "--end", str(DEFAULT_END), "--json")
    assert result.code == 2
    phases = {phase["phase"]: phase for phase in result.json()["phases"]}
    assert "export root" in phases["phase6"]["error"] and "does not exist" in phases["phase6"]["error"]
    assert phases["phase5"]["error"] is None and phases["phase5"]["failing_dates"]
    assert "nba-dq: error: audit phase6: could not run: export root" in result.err


def test_phase6_is_audited_by_default() -> None:
    assert "6" in AUDITED


def test_a_check_without_a_set_based_form_fails_closed() -> None:
    unique = gxe.ExpectColumnValuesToBeUnique(column="subject")
    unique.meta = {"check": "a_new_check"}
    with pytest.raises(TypeError, match="a_new_check: no set-based form"):
        phase6_audit.unexpected_rows(phase6_audit.frame_of_facts([]), unique)
