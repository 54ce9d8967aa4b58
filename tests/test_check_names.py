"""The check names dq.toml's severity tables are validated against are the checks the phases declare."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from checkpoints.phases import PHASES
from checkpoints.summary import check_name
from expectations.check_names import CHECK_NAMES
from expectations.claims import PhaseClaims, ProcessorReport
from expectations.declare import PhaseRequest
from expectations.ranges import RangeRequest
from expectations.reconcile import with_claims
from tests.conftest import Workspace
from warehouse.connection import open_warehouse

DAY = date(2025, 12, 5)
NOW = datetime(2025, 12, 5, 18, tzinfo=timezone.utc)


CLAIMS = PhaseClaims((ProcessorReport("AnyProcessor", "success", None, 0, {}),))


def declared_names(seeded: Workspace) -> dict[str, set[str]]:
    """Every check a phase declares for one date, over a range (`nba-dq audit`), and on the claims of
    its completion messages (`nba-dq serve`)."""
    settings = seeded.settings
    warehouse = open_warehouse(settings)
    request = PhaseRequest(DAY, NOW, warehouse.engine_name, warehouse.datasets)
    window = RangeRequest(date(2025, 12, 1), date(2025, 12, 31), NOW, warehouse.engine_name, warehouse.datasets)
    declared: dict[str, set[str]] = {}
    for phase in PHASES.values():
        batches = phase.build(request, settings, warehouse)
        batches = with_claims(replace(request, claims=CLAIMS), settings, phase.checkpoint, batches)
        names = {check_name(check.meta) for batch in batches for check in batch.expectations}
        if phase.audit is not None:
            names |= {check.name for check in phase.audit(window, settings, warehouse).checks}
        declared[phase.checkpoint] = names
    return declared


def test_the_list_of_check_names_equals_what_each_phase_declares(seeded: Workspace) -> None:
    assert {checkpoint: set(names) for checkpoint, names in CHECK_NAMES.items()} == declared_names(seeded)
