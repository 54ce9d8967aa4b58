"""Phase 4's rows: one ml_feature_store_v2 row per production-ready context player (and some others).

Vectorised with numpy: each date draws from its own np.random.Generator, seeded from the date's string.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from warehouse.catalog import FEATURE_COUNT, FEATURE_STORE, FEATURE_VALUE_COLUMNS, UPCOMING_CONTEXT
from warehouse.seed.outcomes import PLACEHOLDER_LINE

FEATURE_VERSION = "v2_37features"
PLATFORM_FEATURE_COUNT = 37  # what the platform's v2 rows declare; the embedded store carries FEATURE_COUNT
QUALITY_TIERS = ((90.0, "gold"), (80.0, "silver"), (70.0, "bronze"), (60.0, "poor"))  # lower bounds; else critical
QUALITY_READY_SCORE = 70.0  # bronze or better
_NOT_READY_SHARE = 0.5  # of the non-production-ready context players that still get a row
_READY_DEFAULTS = (0.70, 0.18, 0.08, 0.04)  # P(default_feature_count = 0..3)
_NOT_READY_DEFAULTS = (0.30, 0.30, 0.25, 0.15)
_PHASE3_SHARE = 0.2  # of the non-default values that come from Phase 3 rather than Phase 4
_NULL_SHARE = 0.01  # of the non-default values with no data at all
_DEFAULT_QUALITY = 40.0
_NOT_READY_PENALTY = 10.0
_C = UPCOMING_CONTEXT.c
_F = FEATURE_STORE.c

_Draw = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]  # (scoring, minutes, rng) -> values


@dataclass(frozen=True)
class _Feature:
    meaning: str  # the platform's name for feature N
    draw: _Draw
    default: float  # the league-average value used when the feature is defaulted


def _around(spread: float) -> _Draw:
    """A points average: the player's scoring level plus noise."""

    def draw(scoring: np.ndarray, minutes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.maximum(0.0, scoring + rng.normal(0.0, spread, len(scoring))).round(1)

    return draw


def _noise(spread: float) -> _Draw:
    """A centred score (matchup, pace, usage spike)."""

    def draw(scoring: np.ndarray, minutes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, spread, len(scoring)).round(2)

    return draw


def _points_std(scoring: np.ndarray, minutes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.maximum(0.5, 2.0 + 0.25 * scoring + rng.normal(0.0, 1.0, len(scoring))).round(2)


def _recent_games(scoring: np.ndarray, minutes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(2, 5, len(scoring)).astype(float)


def _fatigue(scoring: np.ndarray, minutes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(100.0 - 0.8 * minutes + rng.normal(0.0, 8.0, len(minutes)), 40.0, 100.0).round(1)


def _rest_advantage(scoring: np.ndarray, minutes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(-1, 2, len(scoring)).astype(float)


_FEATURES: tuple[_Feature, ...] = (
    _Feature("points_avg_last_5", _around(3.0), 10.0),
    _Feature("points_avg_last_10", _around(2.0), 10.0),
    _Feature("points_avg_season", _around(1.5), 10.0),
    _Feature("points_std_last_10", _points_std, 5.0),
    _Feature("games_in_last_7_days", _recent_games, 3.0),
    _Feature("fatigue_score", _fatigue, 75.0),
    _Feature("shot_zone_mismatch_score", _noise(4.0), 0.0),
    _Feature("pace_score", _noise(2.5), 0.0),
    _Feature("usage_spike_score", _noise(1.0), 0.0),
    _Feature("rest_advantage", _rest_advantage, 0.0),
)

# (value, quality, source) column of each feature, checked against the catalog by attribute access.
_COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (value, getattr(_F, f"feature_{n}_quality"), getattr(_F, f"feature_{n}_source"))
    for n, value in enumerate(FEATURE_VALUE_COLUMNS)
)


def quality_tier(scores: np.ndarray) -> np.ndarray:
    """gold >= 90, silver >= 80, bronze >= 70, poor >= 60, else critical."""
    return np.select([scores >= bound for bound, _ in QUALITY_TIERS], [tier for _, tier in QUALITY_TIERS], "critical")


def feature_rows(day: date, context: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The feature store for one date, from its (de-duplicated) context."""
    if len(_FEATURES) != FEATURE_COUNT:
        raise ValueError(f"the seed draws {len(_FEATURES)} features but the catalog has {FEATURE_COUNT}")
    if context.empty:
        return pd.DataFrame({column: [] for column in FEATURE_STORE.columns})
    rows = context[context[_C.is_production_ready] | (rng.random(len(context)) < _NOT_READY_SHARE)]
    n, k = len(rows), FEATURE_COUNT
    ready = rows[_C.is_production_ready].to_numpy(dtype=bool)
    minutes = rows[_C.avg_minutes_per_game_last_7].to_numpy(dtype=float)
    line = rows[_C.current_points_line].to_numpy(dtype=float)  # NaN without a line
    scoring = np.where(np.isnan(line) | (line == PLACEHOLDER_LINE), 0.5 * minutes, line)
    values = np.column_stack([feature.draw(scoring, minutes, rng) for feature in _FEATURES])
    defaults = np.where(ready, rng.choice(4, n, p=_READY_DEFAULTS), rng.choice(4, n, p=_NOT_READY_DEFAULTS))
    defaulted = rng.random((n, k)).argsort(axis=1).argsort(axis=1) < defaults[:, None]  # `defaults` random features
    from_phase3 = ~defaulted & (rng.random((n, k)) < _PHASE3_SHARE)
    missing = ~defaulted & (rng.random((n, k)) < _NULL_SHARE)
    values = np.where(defaulted, np.array([feature.default for feature in _FEATURES]), values)
    values[missing] = np.nan
    measured = np.where(from_phase3, rng.uniform(65.0, 90.0, (n, k)), rng.uniform(85.0, 100.0, (n, k)))
    quality = np.where(defaulted, _DEFAULT_QUALITY, np.where(missing, 0.0, measured)).round(1)
    source = np.where(defaulted, "default", np.where(from_phase3, "phase3", "phase4"))
    penalty = np.where(ready, 0.0, _NOT_READY_PENALTY)
    score = np.clip(quality.mean(axis=1) + rng.normal(0.0, 4.0, n) - penalty, 50.0, 100.0).round(2)
    columns: dict[str, object] = {
        _F.player_lookup: rows[_C.player_lookup].to_numpy(),
        _F.game_id: rows[_C.game_id].to_numpy(),
        _F.game_date: [day] * n,
        _F.feature_version: [FEATURE_VERSION] * n,
        _F.feature_count: [PLATFORM_FEATURE_COUNT] * n,
        _F.feature_quality_score: score,
        _F.quality_tier: quality_tier(score),
        _F.default_feature_count: defaults,
        _F.is_production_ready: ready,
        _F.is_quality_ready: score >= QUALITY_READY_SCORE,
    }
    for n_feature, (value, quality_column, source_column) in enumerate(_COLUMNS):
        columns[value] = values[:, n_feature]
        columns[quality_column] = quality[:, n_feature]
        columns[source_column] = source[:, n_feature]
    return pd.DataFrame({column: columns[column] for column in FEATURE_STORE.columns})
