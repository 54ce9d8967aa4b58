"""What keeps the audit within a few times a hand-written pass, asserted as counts, never as times:
one connection per audited phase, and one GX metric per range check (ExpectNoFailingDates)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from great_expectations.core.run_identifier import RunIdentifier

from checkpoints.audit import audit
from checkpoints.context import build_context
from checkpoints.phases import AUDITED
from checkpoints.run import build_checkpoint
from expectations.audit_expectation import ExpectNoFailingDates, FailingDates
from expectations.declare import CheckedBatch, check
from tests.conftest import Workspace
from warehouse.seed import DEFAULT_END, DEFAULT_START

CLOCK = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


@contextmanager
def counting_connections() -> Iterator[list[object]]:
    opened: list[object] = []

    def connected(connection: object) -> None:
        opened.append(connection)

    sa.event.listen(sa.engine.Engine, "engine_connect", connected)
    try:
        yield opened
    finally:
        sa.event.remove(sa.engine.Engine, "engine_connect", connected)


def test_each_audited_phase_opens_the_warehouse_once(seeded: Workspace) -> None:
    with counting_connections() as opened:
        report = audit(seeded.settings, AUDITED, DEFAULT_START, DEFAULT_END, CLOCK)
    assert [phase.error for phase in report.phases] == [None] * len(AUDITED)
    assert len(opened) == len(AUDITED)  # each phase's schema check and statements share its connection


def test_no_failing_dates_passes_only_an_empty_column_and_lists_every_failure(tmp_path: Path) -> None:
    (tmp_path / "gx").mkdir()
    frame = pd.DataFrame(
        {
            "game_date": ["2025-12-01", "2025-12-02", "2025-12-03"],
            "clean": [None, None, None],
            "failing": [None, "2025-12-02: 3 duplicated keys", "2025-12-03: 1 duplicated keys"],
            "stray": [None, float("nan"), 0],  # NaN is empty (pandas may store None so); 0 is no finding: it fails
        }
    )
    columns = ("clean", "failing", "stray")
    checks = tuple(check(ExpectNoFailingDates(check_column=name), name, "critical", name) for name in columns)
    context = build_context(Path(__file__).resolve().parent.parent / "gx", in_memory=True)
    with redirect_stdout(io.StringIO()):
        checkpoint = build_checkpoint(context, "t", [CheckedBatch("t", "", checks, frame=frame)], [], {})
        result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier("t"))
    outcomes = {
        r.expectation_config.kwargs["check_column"]: r for run in result.run_results.values() for r in run.results
    }
    assert {name: outcome.success for name, outcome in outcomes.items()} == {
        "clean": True,
        "failing": False,
        "stray": False,
    }
    observed = outcomes["failing"].result["observed_value"]
    assert observed == "2 failing dates: 2025-12-02: 3 duplicated keys; 2025-12-03: 1 duplicated keys"
    assert outcomes["clean"].result["observed_value"] == "no failing date"
    assert FailingDates.metric_name in ExpectNoFailingDates.metric_dependencies
