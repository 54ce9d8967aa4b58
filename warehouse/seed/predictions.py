"""Phase 5's rows: the coordinator's player selection and one active prediction per player and system."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from warehouse.catalog import PREDICTIONS, UPCOMING_CONTEXT
from warehouse.seed.faults import UNPREDICTED_STATUSES, new_prediction_id

MAX_PREDICTED_PLAYERS = 500  # the coordinator's daily cap
_SUPERSEDED_SHARE = 0.08
_LINE_MOVES = (-1.0, -0.5, 0.5, 1.0)
_C = UPCOMING_CONTEXT.c
_P = PREDICTIONS.c


def predictions_for(
    day: date, context: dict[str, list], system_ids: tuple[str, ...], rng: random.Random
) -> dict[str, list]:
    """One active row per selected player and era system, plus superseded history for some lined pairs."""
    rows: dict[str, list] = {column: [] for column in PREDICTIONS.columns}
    selected = _selected(context)
    run = datetime(day.year, day.month, day.day, 17, 30, tzinfo=timezone.utc)
    collision_pair = next(((i, system_ids[0]) for i in selected if context[_C.has_prop_line][i]), None)
    for i in selected:
        line = context[_C.current_points_line][i]
        expected = line if line is not None else context[_C.avg_minutes_per_game_last_7][i] * 0.5
        for number, system in enumerate(system_ids):
            noise = 2.5 + 0.5 * number  # each system its own spread, so their numbers differ
            created = run + timedelta(seconds=rng.randint(0, 600))
            base = {
                _P.system_id: system,
                _P.player_lookup: context[_C.player_lookup][i],
                _P.game_date: day,
                _P.game_id: context[_C.game_id][i],
                _P.line_source: "ACTUAL_PROP" if line is not None else "NO_PROP_LINE",
                _P.has_prop_line: context[_C.has_prop_line][i],
                _P.is_production_ready: context[_C.is_production_ready][i],
                _P.invalidation_reason: None,
                _P.recommendation: None,  # derived from points and line once faults are applied
            }
            move = None
            if (i, system) == collision_pair:
                move = -0.5 if line % 1 == 0 else 0.5  # N.5 vs N+1.0: equal under an INT64 cast
            elif line is not None and rng.random() < _SUPERSEDED_SHARE:
                move = rng.choice(_LINE_MOVES)
            if move is not None:
                older = created - timedelta(seconds=rng.randint(1200, 14400))
                _append(rows, base, rng, 1, line + move, _points(line + move, noise, rng), False, older, created)
            version = 1 if move is None else 2
            _append(rows, base, rng, version, line, _points(expected, noise, rng), True, created, created)
    return rows


def with_recommendations(frame: pd.DataFrame) -> pd.DataFrame:
    """NO_LINE without a line; OVER/UNDER beyond one point from it; else PASS, or HOLD at low confidence."""
    if frame.empty:
        return frame
    line = frame[_P.current_points_line].astype("float64")
    edge = (frame[_P.predicted_points].astype("float64") - line).round(1)
    quiet = np.where(frame[_P.confidence_score].astype("float64") < 50.0, "HOLD", "PASS")
    choice = np.where(line.isna(), "NO_LINE", np.where(edge > 1.0, "OVER", np.where(edge < -1.0, "UNDER", quiet)))
    return frame.assign(**{_P.recommendation: choice})


def _selected(context: dict[str, list]) -> list[int]:
    """The coordinator's rule: (minutes >= 15 OR a line OR production-ready), not out/doubtful, <= 500."""
    chosen = [
        i
        for i, status in enumerate(context[_C.player_status])
        if status not in UNPREDICTED_STATUSES
        and (
            context[_C.avg_minutes_per_game_last_7][i] >= 15
            or context[_C.has_prop_line][i]
            or context[_C.is_production_ready][i]
        )
    ]
    if len(chosen) > MAX_PREDICTED_PLAYERS:
        ready, minutes = context[_C.is_production_ready], context[_C.avg_minutes_per_game_last_7]
        priority = sorted(chosen, key=lambda i: (not ready[i], -minutes[i], i))
        chosen = sorted(priority[:MAX_PREDICTED_PLAYERS])
    return chosen


def _points(expected: float, noise: float, rng: random.Random) -> float:
    return round(min(60.0, max(0.0, expected + rng.gauss(0.0, noise))), 1)


def _append(
    rows: dict[str, list],
    base: dict[str, object],
    rng: random.Random,
    version: int,
    line: float | None,
    points: float,
    active: bool,
    created: datetime,
    updated: datetime,
) -> None:
    values = {
        **base,
        _P.prediction_id: new_prediction_id(rng),
        _P.prediction_version: version,
        _P.predicted_points: points,
        _P.confidence_score: round(rng.uniform(40.0, 95.0), 2),
        _P.current_points_line: line,
        _P.is_active: active,
        _P.default_feature_count: rng.choices((0, 1, 2, 3, 4), (60, 20, 10, 6, 4))[0],
        _P.created_at: created,
        _P.updated_at: updated,
    }
    for column in PREDICTIONS.columns:
        rows[column].append(values[column])
