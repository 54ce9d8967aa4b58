"""The phases nba-dq checks: one checkpoint each, the tables it reads, and its suite builder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from warehouse.catalog import PREDICTIONS, SCHEDULE, UPCOMING_CONTEXT, Table
from warehouse.settings import Settings

if TYPE_CHECKING:
    from expectations.declare import CheckedBatch, PhaseRequest


@dataclass(frozen=True)
class Phase:
    key: str  # what --phase takes
    checkpoint: str  # the GX checkpoint's name
    tables: tuple[Table, ...]  # read by the suite: checked for drift before any expectation runs
    row_identity: tuple[str, ...]  # columns that name a failing row in column checks
    build: Callable[[PhaseRequest, Settings], list[CheckedBatch]]


def _phase5(request: PhaseRequest, settings: Settings) -> list[CheckedBatch]:
    from expectations import phase5_predictions  # imports GX: only when a phase actually runs

    return phase5_predictions.build_batches(request, settings.phase5, settings.era_for(request.game_date))


PHASES: dict[str, Phase] = {
    "5": Phase(
        key="5",
        checkpoint="phase5",
        tables=(PREDICTIONS, UPCOMING_CONTEXT, SCHEDULE),
        row_identity=(PREDICTIONS.c.player_lookup, PREDICTIONS.c.system_id),
        build=_phase5,
    ),
}
