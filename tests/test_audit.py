"""`nba-dq audit`: on the seeded month it finds exactly the faults' dates and checks; over seeded seasons
exactly the gaps' dates; per phase one GX validation whose Data Docs page lists the failing dates.

The oracles come from the fault catalogue and from the seeded rows themselves (pandas), never from the
audit's own SQL.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from checkpoints.audit import AuditReport, audit
from checkpoints.phases import AUDITED, PHASES
from runners.cli import main
from tests.conftest import Workspace, make_workspace
from tests.test_seeded_dates import WARNINGS
from warehouse.catalog import PARTITION_COLUMN, SCHEDULE
from warehouse.seed import DEFAULT_END, DEFAULT_START, FAULTS, GAPS, generate, seed_duckdb
from warehouse.seed.gaps import WRITTEN_BY

CLOCK = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
SEASONS_START, SEASONS_END = date(2021, 10, 19), date(2025, 4, 13)
# Audit-only checks (no per-date twin): a table's rows missing on a date with games.
ROWS_PRESENT = {
    "phase3": {"context_rows_present": "upcoming_player_game_context", "box_score_rows_present": "player_game_summary"},
    "phase4": {"feature_rows_present": "ml_feature_store_v2"},
    "phase5": {"prediction_rows_present": "player_prop_predictions"},
    "phase5b": {"grading_rows_present": "prediction_accuracy"},
    "phase6": {},  # a date's missing export files fail export_files_readable, as in `run`
}

# Tests sharing a module fixture run on one xdist worker, which builds it once.
MONTH_AUDIT = pytest.mark.xdist_group("audit-month")
SEASONS = pytest.mark.xdist_group("audit-seasons")  # `seasons` seeds four seasons: the slowest fixture


def _failures(report: AuditReport) -> dict[tuple[str, str], set[date]]:
    return {(phase.checkpoint, check.name): set(check.failures) for phase in report.phases for check in phase.checks}


@pytest.fixture(scope="module")
def month_report(seeded_file: Path, tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    """The month's audit, run once for the module's tests in a GX folder of its own."""
    month = make_workspace(tmp_path_factory.mktemp("audited-month"), seeded_file)
    return audit(month.settings, AUDITED, DEFAULT_START, DEFAULT_END, CLOCK)


@pytest.fixture(scope="module")
def month_rows(seeded_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[date]]:
    """Per table, the game dates of the month with at least one row (from the generator, not the warehouse)."""
    data = generate(make_workspace(tmp_path_factory.mktemp("generated-month"), seeded_file).settings)
    return {name: set(frame[PARTITION_COLUMN]) for name, frame in data.frames.items()}


@MONTH_AUDIT
def test_month_audit_fails_each_fault_date_on_exactly_its_checks(
    month_report: AuditReport, month_rows: dict[str, set[date]]
) -> None:
    game_dates = month_rows[SCHEDULE.name]
    for (checkpoint, check), found in _failures(month_report).items():
        if check in ROWS_PRESENT[checkpoint]:
            expected = game_dates - month_rows[ROWS_PRESENT[checkpoint][check]]
        else:
            expected = {fault.game_date for fault in FAULTS if check in fault.failing_checks(checkpoint)}
        assert found == expected, f"{checkpoint}.{check}: found {sorted(found)}, seeded {sorted(expected)}"


@MONTH_AUDIT
def test_month_audit_finds_every_warehouse_fault_and_no_clean_date(month_report: AuditReport) -> None:
    audited_checks = {(c, name) for c, name in _failures(month_report)}
    for fault in FAULTS:
        for checkpoint in (PHASES[key].checkpoint for key in AUDITED):
            failing = {(checkpoint, name) for name in fault.failing_checks(checkpoint)}
            mirrored = failing & audited_checks
            # Every warehouse check a fault trips has its range form, so the audit can see the fault.
            assert mirrored == failing, f"{fault.name}: no range form of {sorted(failing - mirrored)}"
    audited = lambda fault: {n for k in AUDITED for n in fault.failing_checks(PHASES[k].checkpoint)}  # noqa: E731
    faulty = {fault.game_date for fault in FAULTS if audited(fault) - WARNINGS}
    warned = {fault.game_date for fault in FAULTS if audited(fault)} - faulty
    assert warned == {date(2025, 12, 27)}  # shadow_system_volume: a warning only, so `run` passes it
    assert {day for phase in month_report.phases for day in phase.failing_dates} == faulty
    assert {day for phase in month_report.phases for day in phase.warning_dates} == warned
    assert month_report.exit_code == 1


@MONTH_AUDIT
def test_warning_only_fault_is_reported_at_warning(month_report: AuditReport) -> None:
    predictions = month_report.phase("phase5")
    assert predictions is not None
    volume = next(check for check in predictions.checks if check.name == "active_prediction_volume")
    assert volume.severity == "warning"
    shadow = next(fault for fault in FAULTS if fault.name == "shadow_system_volume")
    assert shadow.game_date in volume.failures


@MONTH_AUDIT
def test_each_phase_is_one_validation_whose_page_lists_the_failing_dates(month_report: AuditReport) -> None:
    for phase in month_report.phases:
        assert len(phase.data_docs) == 1, phase.checkpoint
        page = Path(phase.data_docs[0]).read_text(encoding="utf-8")
        for day in phase.failing_dates:
            assert f"{day}: " in page, f"{phase.checkpoint}: {day} not on its Data Docs page"
        for day in phase.warning_dates:
            assert f"{day}: " in page, f"{phase.checkpoint}: {day} (warnings) not on its Data Docs page"
        clean = set(phase.game_dates) - set(phase.failing_dates) - set(phase.warning_dates)
        assert not any(f"{day}: " in page for day in clean)


def test_cli_prints_the_table_and_chart_and_exits_1(seeded: Workspace) -> None:
    result = seeded.cli("audit", "--start", "2025-12-01", "--end", "2025-12-31", "--now", "2026-11-29T12:00:00Z")
    assert result.code == 1, result.err
    assert "audit 2025-12-01..2025-12-31: FAIL" in result.out
    assert re.search(r"2025-12-05\s+2025-12-05\s+1\s+phase5\s+critical\s+player_coverage: coverage 60", result.out)
    failing, warnings = result.out.split("game dates passing with warnings (as run: exit 0):")
    assert "2025-12-27" not in failing  # warning-only: listed apart, as `run` passes it
    assert re.search(r"2025-12-27\s+2025-12-27\s+1\s+phase5\s+warning\s+active_prediction_volume: ", warnings)
    chart = Path(result.out.split("Coverage chart: ")[1].split()[0])
    assert chart.is_file() and "2025-12-05" in chart.read_text(encoding="utf-8")


def test_clean_range_passes_and_json_lists_no_failure(seeded: Workspace) -> None:
    result = seeded.cli("audit", "--start", "2025-12-01", "--end", "2025-12-03", "--json", "--phase", "5")
    assert result.code == 0, result.out + result.err
    document = result.json()
    assert document["status"] == "pass"
    assert [phase["failing_dates"] for phase in document["phases"]] == [[]]
    assert [phase["warning_dates"] for phase in document["phases"]] == [[]]
    assert all(check["status"] == "pass" for check in document["phases"][0]["checks"])


def test_bad_ranges_are_one_line_exit_2(seeded: Workspace) -> None:
    backwards = seeded.cli("audit", "--start", "2025-12-31", "--end", "2025-12-01")
    assert backwards.code == 2 and "after --end" in backwards.err
    no_games = seeded.cli("audit", "--start", "2025-08-01", "--end", "2025-08-31")
    assert no_games.code == 2 and "nothing to audit" in no_games.err
    unknown = seeded.cli("audit", "--start", "2025-12-01", "--end", "2025-12-31", "--phase", "7")
    assert unknown.code == 2 and "invalid choice" in unknown.err


def test_a_dropped_table_fails_its_phase_closed_and_the_rest_still_run(scratch: Workspace, sql) -> None:  # noqa: ANN001
    sql("DROP TABLE nba_predictions.ml_feature_store_v2")
    report = audit(scratch.settings, AUDITED, DEFAULT_START, DEFAULT_END, CLOCK)
    assert report.exit_code == 2
    features = report.phase("phase4")
    assert features is not None and features.error and "ml_feature_store_v2" in features.error
    assert report.phase("phase5") is not None and report.phase("phase5").failing_dates  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def seasons(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Several seasons, 2021-10-19..2025-04-13, with the gaps seeded (the slow fixture: about 2 minutes)."""
    root = tmp_path_factory.mktemp("seasons")
    workspace = make_workspace(root, root / "warehouse.duckdb")
    report = seed_duckdb(workspace.warehouse, workspace.settings, SEASONS_START, SEASONS_END)
    assert {gap.name for gap in report.gaps} == {gap.name for gap in GAPS}
    return workspace


def _scheduled(workspace: Workspace, start: date, end: date) -> set[date]:
    import duckdb

    connection = duckdb.connect(str(workspace.warehouse), read_only=True)
    try:
        rows = connection.execute(
            "SELECT DISTINCT game_date FROM nba_raw.nbac_schedule WHERE game_date BETWEEN ? AND ?", [start, end]
        ).fetchall()
    finally:
        connection.close()
    return {row[0] for row in rows}


@pytest.mark.slow  # left to `make test`: seeding the seasons takes minutes
@SEASONS
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2021, 10, 19), date(2022, 6, 30)),
        (date(2022, 10, 1), date(2023, 6, 30)),
        (date(2023, 10, 1), date(2024, 6, 30)),
        (date(2024, 10, 1), date(2025, 4, 13)),
        (SEASONS_START, SEASONS_END),
    ],
)
def test_season_audit_finds_exactly_the_seeded_gaps(seasons: Workspace, start: date, end: date) -> None:
    report = audit(seasons.settings, AUDITED, start, end, CLOCK)
    game_dates = _scheduled(seasons, start, end)
    for phase in report.phases:
        expected = {day for gap in GAPS if phase.checkpoint in gap.lost_phases for day in game_dates if gap.covers(day)}
        assert set(phase.failing_dates) == expected, phase.checkpoint
        for check, table in ROWS_PRESENT[phase.checkpoint].items():
            lost = {day for day in expected if any(table in WRITTEN_BY[p] for g in GAPS if g.covers(day)
                                                   for p in g.lost_phases)}  # fmt: skip
            found = next(c for c in phase.checks if c.name == check)
            assert set(found.failures) == lost, f"{phase.checkpoint}.{check}"
    assert report.exit_code == (1 if any(phase.failing_dates for phase in report.phases) else 0)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_a_terminal_only(seeded: Workspace) -> None:
    args = ["audit", "--start", "2025-12-01", "--end", "2025-12-10", "--phase", "3"]
    terminal, out = _Terminal(), io.StringIO()
    assert main(args, env=seeded.env, stdout=out, stderr=terminal) == 1
    assert "audit 2025-12-01..2025-12-10: phase3 (1/1) ..." in terminal.getvalue()
    assert "phase3 done in" in terminal.getvalue() and "3 of 10 dates failing" in terminal.getvalue()
    piped = seeded.cli(*args)
    assert "(1/1)" not in piped.err and piped.out.startswith("audit 2025-12-01..2025-12-10: FAIL")
