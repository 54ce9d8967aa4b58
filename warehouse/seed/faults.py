"""The fault catalogue: each real incident the suite must catch, seeded on its own fixed game date.

Every other date is clean, so a test (or a data engineer reading Data Docs) can tell from the date alone
which checks should fail. Faults work on one date's clean DataFrames and return the broken ones; they
set lines and points but never the recommendation, which the generator derives afterwards, so a faulty
row still looks like something the platform could have written.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pandas as pd

from warehouse.catalog import PREDICTIONS, STAGING_TABLE_PREFIX, UPCOMING_CONTEXT

RUN_HOUR_UTC = 18
UNPREDICTED_STATUSES = ("out", "doubtful")  # the coordinator never predicts these players
SILENT_SYSTEM_ID = "similarity_balanced_v1"
OUT_OF_RANGE_POINTS = (72.5, 64.0, -3.0)
COVERAGE_DROP_SHARE = 0.4
ORPHAN_AGE = timedelta(hours=3)
IN_FLIGHT_AGE = timedelta(minutes=10)
STAGING_ROWS = 4

_P = PREDICTIONS.c
_C = UPCOMING_CONTEXT.c
_PREDICTION_KEY = [_P.game_id, _P.player_lookup, _P.system_id]


@dataclass(frozen=True)
class Fault:
    """One seeded incident: what is wrong on which date, and the Phase 5 checks that must fail there."""

    name: str
    game_date: date
    summary: str
    failing_checks: frozenset[str]


@dataclass(frozen=True, eq=False)
class StagingTable:
    """A `_staging_*` table in the predictions dataset: its bare name and its predictions-shaped rows."""

    name: str
    frame: pd.DataFrame


FAULTS: tuple[Fault, ...] = (
    Fault(
        "coverage_drop",
        date(2025, 12, 5),
        "~40% of the selected players have no prediction at all"
        " (mirrors 2025-12-29: 68 of 158 players written through a DML concurrency limit)",
        frozenset({"player_coverage"}),
    ),
    Fault(
        "duplicate_active_prediction",
        date(2025, 12, 8),
        "one (game_id, player_lookup, system_id) has a second active row with a line 1.0 higher"
        " (mirrors 2026-01-11: two concurrent consolidations)",
        frozenset({"active_key_unique"}),
    ),
    Fault(
        "consolidation_key_duplicate",
        date(2025, 12, 10),
        "an inactive copy of an active N.5-line row on the same consolidation key, beside a superseded"
        " N+1.0 row that only an INT64 cast would merge (mirrors the 2025-12-30/31 consolidation MERGE failures)",
        frozenset({"consolidation_key_unique"}),
    ),
    Fault(
        "orphaned_staging_table",
        date(2025, 12, 12),
        "a staging table of the date's batch created 3 h before the run"
        " (mirrors staging kept on purpose after a failed MERGE)",
        frozenset({"no_orphaned_staging_tables"}),
    ),
    Fault(
        "staging_in_flight",
        date(2025, 12, 15),
        "a staging table created 10 min before the run: a batch in flight, not an orphan"
        " (guards the orphan check against false alarms)",
        frozenset(),
    ),
    Fault(
        "zero_predictions",
        date(2025, 12, 18),
        "full slate and context but zero prediction rows"
        " (mirrors 2026-02-07/08: schema drift made 100% of writes fail)",
        frozenset({"active_prediction_count", "predicted_player_count", "player_coverage", "system_coverage"}),
    ),
    Fault(
        "silent_system",
        date(2025, 12, 20),
        f"{SILENT_SYSTEM_ID} writes no predictions"
        " (mirrors the shadow models that produced almost nothing for two days, unnoticed)",
        frozenset({"system_coverage"}),
    ),
    Fault(
        "points_out_of_range",
        date(2025, 12, 22),
        "three active predictions at 72.5, 64.0 and -3.0 points, outside the platform's 0-60 clamp"
        " (mirrors grading's inflated predicted_points)",
        frozenset({"predicted_points_range"}),
    ),
)

FAULT_DATES: frozenset[date] = frozenset(fault.game_date for fault in FAULTS)


def simulated_run_time(game_date: date) -> datetime:
    """When the Phase 5 checkpoint runs for a date (18:00 UTC): staging ages are measured from here."""
    return datetime(game_date.year, game_date.month, game_date.day, RUN_HOUR_UTC, tzinfo=timezone.utc)


def new_prediction_id(rng: random.Random) -> str:
    """A uuid4 drawn from the seeded rng, so ids are as reproducible as the rest of the data."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def apply_fault(
    fault: Fault,
    predictions: pd.DataFrame,
    context: pd.DataFrame,
    system_ids: tuple[str, ...],
    rng: random.Random,
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    """One date's predictions with the fault applied, and the staging tables it leaves behind."""
    handler = _HANDLERS[fault.name]
    return handler(fault, predictions.reset_index(drop=True), context, system_ids, rng)


_Handler = Callable[
    [Fault, pd.DataFrame, pd.DataFrame, tuple[str, ...], random.Random],
    tuple[pd.DataFrame, tuple[StagingTable, ...]],
]


def _coverage_drop(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    # Drop whole players (every system, every version), expected and other players alike, so coverage
    # falls to ~60% while each remaining player keeps every system: only player_coverage may fail.
    expected_rows = context[context[_C.is_production_ready] & ~context[_C.player_status].isin(UNPREDICTED_STATUSES)]
    expected = set(expected_rows[_C.player_lookup])
    players = sorted(set(predictions[_P.player_lookup]))
    dropped: set[str] = set()
    for group in ([p for p in players if p in expected], [p for p in players if p not in expected]):
        dropped.update(rng.sample(group, round(COVERAGE_DROP_SHARE * len(group))))
    return predictions[~predictions[_P.player_lookup].isin(dropped)], ()


def _duplicate_active(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    # A key without history, so the +1.0 line cannot meet an older row's line: only the active key repeats.
    candidates = _rows_without_history(predictions)
    row = predictions.loc[[_pick(candidates, rng)]].copy()
    row[_P.prediction_id] = new_prediction_id(rng)
    row[_P.current_points_line] = row[_P.current_points_line] + 1.0
    row[_P.created_at] = row[_P.created_at] + pd.Timedelta(seconds=rng.randint(5, 90))
    row[_P.updated_at] = row[_P.created_at]
    return pd.concat([predictions, row], ignore_index=True), ()


def _consolidation_key_duplicate(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    candidates = _rows_without_history(predictions)
    candidates = candidates[candidates[_P.current_points_line] % 1 == 0.5]
    index = _pick(candidates, rng)
    predictions.loc[index, _P.prediction_version] = 2
    active = predictions.loc[[index]]
    copy = active.copy()
    copy[_P.prediction_id] = new_prediction_id(rng)
    copy[_P.is_active] = False
    superseded = active.copy()
    superseded[_P.prediction_id] = new_prediction_id(rng)
    superseded[_P.is_active] = False
    superseded[_P.prediction_version] = 1
    superseded[_P.current_points_line] = superseded[_P.current_points_line] + 0.5
    superseded[_P.created_at] = superseded[_P.created_at] - pd.Timedelta(hours=2)
    superseded[_P.updated_at] = active[_P.created_at]
    return pd.concat([predictions, copy, superseded], ignore_index=True), ()


def _orphaned_staging(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    return predictions, (_staging_table(fault.game_date, predictions, ORPHAN_AGE, rng),)


def _staging_in_flight(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    return predictions, (_staging_table(fault.game_date, predictions, IN_FLIGHT_AGE, rng),)


def _zero_predictions(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    return predictions.iloc[0:0], ()


def _silent_system(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    # An era without similarity_balanced_v1 (a custom dq.toml) silences its last system instead.
    silent = SILENT_SYSTEM_ID if SILENT_SYSTEM_ID in system_ids else system_ids[-1]
    return predictions[predictions[_P.system_id] != silent], ()


def _points_out_of_range(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    # Existing active rows are changed in place, so no key gains a row and only the range check fails.
    active = list(predictions.index[predictions[_P.is_active]])
    for index, points in zip(rng.sample(active, len(OUT_OF_RANGE_POINTS)), OUT_OF_RANGE_POINTS, strict=False):
        predictions.loc[index, _P.predicted_points] = points
    return predictions, ()


def _rows_without_history(predictions: pd.DataFrame) -> pd.DataFrame:
    """Active rows with a line that are alone on their key (no superseded row to collide with)."""
    rows_per_key = predictions.groupby(_PREDICTION_KEY)[_P.prediction_id].transform("size")
    alone = (rows_per_key == 1) & predictions[_P.is_active] & predictions[_P.current_points_line].notna()
    return predictions[alone & (predictions[_P.current_points_line] <= 33.5)]


def _pick(rows: pd.DataFrame, rng: random.Random) -> int:
    return int(rows.index[rng.randrange(len(rows))])


def _staging_table(game_date: date, predictions: pd.DataFrame, age: timedelta, rng: random.Random) -> StagingTable:
    """A worker's staging table named like the platform's, started `age` before the run, with a few rows."""
    started = simulated_run_time(game_date) - age
    batch_id = f"batch_{game_date.isoformat()}_{int(started.timestamp())}"
    suffix = "".join(rng.choices(string.ascii_lowercase + string.digits, k=3))
    worker_id = f"prediction_worker_{rng.randint(1, 99):05d}_{suffix}_{rng.getrandbits(32):08x}"
    name = f"{STAGING_TABLE_PREFIX}{batch_id}_{worker_id}".replace("-", "_")
    active = list(predictions.index[predictions[_P.is_active]])
    rows = predictions.loc[sorted(rng.sample(active, min(STAGING_ROWS, len(active))))].copy()
    rows[_P.prediction_id] = [new_prediction_id(rng) for _ in range(len(rows))]
    rows[_P.created_at] = pd.Timestamp(started)
    rows[_P.updated_at] = pd.Timestamp(started)
    return StagingTable(name=name, frame=rows.reset_index(drop=True))


_HANDLERS: dict[str, _Handler] = {
    "coverage_drop": _coverage_drop,
    "duplicate_active_prediction": _duplicate_active,
    "consolidation_key_duplicate": _consolidation_key_duplicate,
    "orphaned_staging_table": _orphaned_staging,
    "staging_in_flight": _staging_in_flight,
    "zero_predictions": _zero_predictions,
    "silent_system": _silent_system,
    "points_out_of_range": _points_out_of_range,
}
