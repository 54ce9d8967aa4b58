"""Phase 5 faults: each breaks one date's clean predictions, and may leave staging tables behind.

They set lines and points but never the recommendation, which the generator derives afterwards, so a
faulty row still looks like something the platform could have written.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd

from warehouse.catalog import PREDICTIONS, STAGING_TABLE_PREFIX, UPCOMING_CONTEXT
from warehouse.seed.faults import (
    COVERAGE_DROP_SHARE,
    IN_FLIGHT_AGE,
    ORPHAN_AGE,
    OUT_OF_RANGE_POINTS,
    SHADOW_SYSTEM_ID,
    SILENT_SYSTEM_ID,
    STAGING_ROWS,
    UNPREDICTED_STATUSES,
    Fault,
    StagingTable,
    new_prediction_id,
    simulated_run_time,
)

_P = PREDICTIONS.c
_C = UPCOMING_CONTEXT.c
_PREDICTION_KEY = [_P.game_id, _P.player_lookup, _P.system_id]


def break_predictions(
    fault: Fault | None,
    predictions: pd.DataFrame,
    context: pd.DataFrame,
    system_ids: tuple[str, ...],
    rng: random.Random,
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    """One date's predictions with a Phase 5 fault applied, and the staging tables it leaves behind."""
    handler = _HANDLERS.get(fault.name) if fault is not None else None
    if fault is None or handler is None:
        return predictions, ()
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


def _shadow_system(
    fault: Fault, predictions: pd.DataFrame, context: pd.DataFrame, system_ids: tuple[str, ...], rng: random.Random
) -> tuple[pd.DataFrame, tuple[StagingTable, ...]]:
    # A copy of the first system's active rows under another system_id: new keys, so no key check fails.
    shadow = predictions[predictions[_P.is_active] & (predictions[_P.system_id] == system_ids[0])].copy()
    shadow[_P.system_id] = SHADOW_SYSTEM_ID
    shadow[_P.prediction_id] = [new_prediction_id(rng) for _ in range(len(shadow))]
    return pd.concat([predictions, shadow], ignore_index=True), ()


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
    "shadow_system_volume": _shadow_system,
}


HANDLED: frozenset[str] = frozenset(_HANDLERS)
