"""Phase 5B faults: each breaks one date's grading rows (never predicted_points, which stays the prediction's)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pandas as pd

from warehouse.catalog import PREDICTION_ACCURACY
from warehouse.seed.faults import BROKEN_GRADES, GRADED_SHARE, INFLATION, Fault

_G = PREDICTION_ACCURACY.c
_MIN_INFLATED_POINTS = 5.0  # inflating 2x adds >= 5 points to the error: far beyond any rounding tolerance


def break_grading(fault: Fault | None, grades: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """One date's grading rows with a Phase 5B fault applied (unchanged for any other fault)."""
    handler = _HANDLERS.get(fault.name) if fault is not None else None
    return grades if handler is None else handler(grades.reset_index(drop=True), rng)


def _error_mismatch(grades: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    candidates = list(grades.index[grades[_G.predicted_points] >= _MIN_INFLATED_POINTS])
    for index in rng.sample(candidates, BROKEN_GRADES):
        inflated = round(grades.at[index, _G.predicted_points] * rng.uniform(*INFLATION), 1)
        signed = round(inflated - grades.at[index, _G.actual_points], 1)
        grades.loc[index, [_G.absolute_error, _G.signed_error]] = [abs(signed), signed]
    return grades


def _nan_errors(grades: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    broken = rng.sample(list(grades.index[~grades[_G.is_voided]]), BROKEN_GRADES)
    grades.loc[broken, [_G.absolute_error, _G.signed_error]] = float("nan")  # lands as NULL in NUMERIC columns
    return grades


def _half_coverage(grades: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    kept = sorted(rng.sample(range(len(grades)), round(GRADED_SHARE * len(grades))))
    return grades.iloc[kept].reset_index(drop=True)


_HANDLERS: dict[str, Callable[[pd.DataFrame, random.Random], pd.DataFrame]] = {
    "grading_error_mismatch": _error_mismatch,
    "grading_nan": _nan_errors,
    "grading_half_coverage": _half_coverage,
}

HANDLED: frozenset[str] = frozenset(_HANDLERS)
