"""The phases nba-dq checks: one checkpoint each, the tables it reads, and its suite builder.

Builders take the warehouse too: most declare SQL checks (run as one statement per table), Phase 6
reads facts to compare first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from warehouse.catalog import (
    FEATURE_STORE,
    PLAYER_GAME_SUMMARY,
    PREDICTION_ACCURACY,
    PREDICTIONS,
    SCHEDULE,
    UPCOMING_CONTEXT,
    Table,
)
from warehouse.exports import open_export_store

if TYPE_CHECKING:  # the CLI's --help imports this module: no SQLAlchemy, pydantic or GX here
    from expectations.declare import CheckedBatch, PhaseRequest
    from expectations.ranges import RangeAudit, RangeRequest
    from warehouse.connection import Warehouse
    from warehouse.settings import Settings


@dataclass(frozen=True)
class Phase:
    key: str  # what --phase takes
    checkpoint: str  # the GX checkpoint's name
    tables: tuple[Table, ...]  # read by the suite: checked for drift before any expectation runs
    build: Callable[[PhaseRequest, Settings, Warehouse], list[CheckedBatch]]
    # Its checks over a range of dates, set-based (`nba-dq audit`); None: checked one date at a time only.
    audit: Callable[[RangeRequest, Settings, Warehouse], RangeAudit] | None = None
    row_identity: tuple[str, ...] = ()  # columns that name a failing row in column checks of a frame of facts


# Suite modules import GX, so each builder imports its module only when its phase runs.


def _phase3(request: PhaseRequest, settings: Settings, warehouse: Warehouse) -> list[CheckedBatch]:
    from expectations import phase3_analytics

    return phase3_analytics.build_batches(request, settings.phase3)


def _phase4(request: PhaseRequest, settings: Settings, warehouse: Warehouse) -> list[CheckedBatch]:
    from expectations import phase4_features

    return phase4_features.build_batches(request, settings.phase4)


def _phase5(request: PhaseRequest, settings: Settings, warehouse: Warehouse) -> list[CheckedBatch]:
    from expectations import phase5_predictions

    era = settings.era_for(request.game_date)
    volume = phase5_predictions.volume_baseline(request, warehouse, settings.phase5)
    return phase5_predictions.build_batches(request, settings.phase5, era, volume)


def _phase5b(request: PhaseRequest, settings: Settings, warehouse: Warehouse) -> list[CheckedBatch]:
    from expectations import phase5b_grading

    return phase5b_grading.build_batches(request, settings.phase5b)


def _phase6(request: PhaseRequest, settings: Settings, warehouse: Warehouse) -> list[CheckedBatch]:
    from expectations import phase6_export

    facts = phase6_export.gather_facts(request, open_export_store(settings.export_root), warehouse)
    return phase6_export.build_batches(request, settings.phase6, facts)


def _audit3(request: RangeRequest, settings: Settings, warehouse: Warehouse) -> RangeAudit:
    from expectations import phase3_analytics

    return phase3_analytics.audit(request, settings.phase3, warehouse)


def _audit4(request: RangeRequest, settings: Settings, warehouse: Warehouse) -> RangeAudit:
    from expectations import phase4_features

    return phase4_features.audit(request, settings.phase4, warehouse)


def _audit5(request: RangeRequest, settings: Settings, warehouse: Warehouse) -> RangeAudit:
    from expectations import phase5_predictions

    return phase5_predictions.audit(request, settings, warehouse)


def _audit5b(request: RangeRequest, settings: Settings, warehouse: Warehouse) -> RangeAudit:
    from expectations import phase5b_grading

    return phase5b_grading.audit(request, settings.phase5b, warehouse)


def _audit6(request: RangeRequest, settings: Settings, warehouse: Warehouse) -> RangeAudit:
    from expectations import phase6_audit

    return phase6_audit.audit(request, settings, warehouse)


ALL_PHASES = "all"

# In pipeline order: `--phase all` runs them in this order.
PHASES: dict[str, Phase] = {
    phase.key: phase
    for phase in (
        Phase("3", "phase3", (SCHEDULE, UPCOMING_CONTEXT, PLAYER_GAME_SUMMARY), _phase3, _audit3),
        Phase("4", "phase4", (SCHEDULE, UPCOMING_CONTEXT, FEATURE_STORE), _phase4, _audit4),
        Phase("5", "phase5", (SCHEDULE, UPCOMING_CONTEXT, PREDICTIONS), _phase5, _audit5),
        Phase("5b", "phase5b", (SCHEDULE, PREDICTIONS, PLAYER_GAME_SUMMARY, PREDICTION_ACCURACY), _phase5b, _audit5b),
        Phase("6", "phase6", (SCHEDULE, PREDICTIONS), _phase6, _audit6, row_identity=("subject",)),
    )
}


AUDITED = [key for key, phase in PHASES.items() if phase.audit is not None]  # what `audit --phase all` covers


def phase_key(checkpoint: str) -> str:
    """What --phase takes for a checkpoint name (phase5b -> 5b)."""
    return next(key for key, phase in PHASES.items() if phase.checkpoint == checkpoint)
