"""Seeded gaps: runs of game dates whose rows some phases never wrote.

The platform found gaps of 26 and 109 days in its history months late, because monitoring looked back
7-14 days, and grading was once silently down for six days. A gap keeps the schedule (the games were
played) and drops what its phases wrote on those dates (Phase 6: the export files). They lie in the
seasons before the fault month, where a season audit finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from warehouse.catalog import FEATURE_STORE, PLAYER_GAME_SUMMARY, PREDICTION_ACCURACY, PREDICTIONS, UPCOMING_CONTEXT
from warehouse.seed.faults import FAULT_DATES, PHASES

# The tables each phase writes (Phase 6 writes the export files).
WRITTEN_BY: dict[str, tuple[str, ...]] = {
    "phase3": (UPCOMING_CONTEXT.name, PLAYER_GAME_SUMMARY.name),
    "phase4": (FEATURE_STORE.name,),
    "phase5": (PREDICTIONS.name,),
    "phase5b": (PREDICTION_ACCURACY.name,),
    "phase6": (),
}


@dataclass(frozen=True)
class Gap:
    name: str
    start: date
    end: date  # inclusive
    lost_phases: tuple[str, ...]  # what these phases write is missing on the gap's dates
    summary: str

    def __post_init__(self) -> None:
        unknown = sorted(set(self.lost_phases) - set(PHASES))
        if unknown or not self.lost_phases:
            raise ValueError(f"gap {self.name}: phases {unknown or 'none'}; use some of {', '.join(PHASES)}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


GAPS: tuple[Gap, ...] = (
    Gap(
        "predictions_lost_26_days",
        date(2022, 1, 10),
        date(2022, 2, 4),
        ("phase5", "phase5b", "phase6"),
        "26 days without predictions, grading or exports (analytics and features were written)",
    ),
    Gap(
        "pipeline_down_109_days",
        date(2023, 11, 6),
        date(2024, 2, 22),
        PHASES[PHASES.index("phase3") :],
        "109 days with only the schedule: no context, box scores, features, predictions, grading or exports",
    ),
    Gap(
        "grading_down_6_days",
        date(2024, 12, 2),
        date(2024, 12, 7),
        ("phase5b",),
        "grading silently down for 6 days (predictions and exports were written)",
    ),
)


def gap_on(day: date) -> Gap | None:
    return next((gap for gap in GAPS if gap.covers(day)), None)


def _check_apart_from_faults() -> None:
    """A fault's date must keep its rows, or its checks would fail for the gap's reason instead."""
    for gap in GAPS:
        inside = sorted(day for day in FAULT_DATES if gap.covers(day))
        if inside:
            raise ValueError(f"gap {gap.name} covers fault date(s) {', '.join(map(str, inside))}")


_check_apart_from_faults()
