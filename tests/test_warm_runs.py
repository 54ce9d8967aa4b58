"""Runs in one process (a service, an in-process loop) share one GX context per gx folder: each run
still gets its own date's suites, verdict, stored results and pages, and nothing piles up in memory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from checkpoints.context import shared_context
from checkpoints.phases import PHASES
from checkpoints.run import run_phase, run_phases
from tests.conftest import Workspace
from warehouse.errors import CouldNotRun
from warehouse.seed import FAULTS, simulated_run_time

pytestmark = pytest.mark.acceptance
FAULT_BY_DATE = {fault.game_date: fault for fault in FAULTS}
CLEAN = date(2025, 12, 2)
COVERAGE_DROP = date(2025, 12, 5)  # phase 5 fails player_coverage
ZERO_PREDICTIONS = date(2025, 12, 18)  # phases 5, 5b and 6 fail


def expected_failures(checkpoint: str, day: date) -> set[str]:
    fault = FAULT_BY_DATE.get(day)
    return set(fault.failing_checks(checkpoint)) if fault else set()


def stored_results(workspace: Workspace, run_name: str) -> list[Path]:
    return sorted((workspace.root / "gx/uncommitted/validations").glob(f"*/*/{run_name}/*/*.json"))


def test_one_context_per_process_and_each_run_its_own_verdict(
    scratch: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import great_expectations as gx

    built: list[Any] = []
    get_context = gx.get_context
    monkeypatch.setattr(gx, "get_context", lambda *a, **k: built.append(1) or get_context(*a, **k))
    settings = scratch.settings
    # A fault date, a clean one and the fault again: a suite reused from the run before would show.
    for day in (COVERAGE_DROP, CLEAN, COVERAGE_DROP):
        summary = run_phase(settings, "5", day, simulated_run_time(day))
        assert {check.name for check in summary.failed()} == expected_failures("phase5", day), day
        assert summary.data_docs and all(Path(page).is_file() for page in summary.data_docs)
    assert len(built) == 1  # before: one context per run
    assert len(stored_results(scratch, f"phase5-{COVERAGE_DROP}")) == 4  # two runs, two tables each
    assert len(stored_results(scratch, f"phase5-{CLEAN}")) == 2


def test_every_phase_in_one_process_keeps_its_verdicts(scratch: Workspace) -> None:
    for day in (ZERO_PREDICTIONS, CLEAN, ZERO_PREDICTIONS):
        summaries = run_phases(scratch.settings, list(PHASES), day, simulated_run_time(day))
        assert [s.error for s in summaries] == [None] * len(PHASES)
        failing = {s.phase: {check.name for check in s.failed()} for s in summaries}
        assert failing == {s.phase: expected_failures(s.phase, day) for s in summaries}, day


def test_registrations_stay_bounded_over_many_dates(scratch: Workspace) -> None:
    """Suites, definitions and batch definitions are the phase's, not one set per date."""
    days = [date(2025, 12, n) for n in (2, 3, 4)]
    for day in days:
        run_phase(scratch.settings, "5", day, simulated_run_time(day))
    context = shared_context(scratch.settings.gx_root)
    assert sorted(d.name for d in context.validation_definitions.all()) == [
        "phase5.player_prop_predictions",
        "phase5.staging_tables",
    ]
    assert len(context.suites.all()) == 2
    [frames] = context.data_sources.all().values()
    assert [len(asset.batch_definitions) for asset in frames.assets] == [1, 1]


def test_an_edited_configuration_takes_effect_on_the_next_run(scratch: Workspace) -> None:
    settings = scratch.settings
    run_phase(settings, "5", CLEAN, simulated_run_time(CLEAN))
    config = scratch.root / "gx/great_expectations.yml"
    config.write_text("stores: [unclosed\n")
    with pytest.raises(CouldNotRun, match="is not valid YAML"):
        run_phase(settings, "5", CLEAN, simulated_run_time(CLEAN))


def test_a_run_opens_the_warehouse_file_once_and_closes_it(
    scratch: Workspace, sql: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema, schedule, volume history and the two tables' statements share one connection (before:
    five opens of the file); it is closed when the statements are done, so a writer can open the file."""
    import duckdb

    opened: list[str] = []
    connect = duckdb.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(str(kwargs.get("database", args[0] if args else "")))
        return connect(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting)
    summary = run_phase(scratch.settings, "5", COVERAGE_DROP, simulated_run_time(COVERAGE_DROP))
    assert {check.name for check in summary.failed()} == {"player_coverage"}
    assert opened.count(str(scratch.warehouse)) == 1
    sql("CREATE TABLE nba_predictions.written_after_the_run (x INTEGER)")  # no reader left holding the file


def test_a_failing_statement_in_the_shared_connection_could_not_run(
    scratch: Workspace, sql: Callable[[str], None]
) -> None:
    sql("ALTER TABLE nba_predictions.player_prop_predictions RENAME TO moved_away")
    with pytest.raises(CouldNotRun, match="player_prop_predictions"):
        run_phase(scratch.settings, "5", CLEAN, simulated_run_time(CLEAN))
    sql("ALTER TABLE nba_predictions.moved_away RENAME TO player_prop_predictions")  # the file is free again
    assert not run_phase(scratch.settings, "5", CLEAN, simulated_run_time(CLEAN)).failed()
