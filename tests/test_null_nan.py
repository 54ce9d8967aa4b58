"""NULL, NaN and +/-inf fail every range, value-set and "not constant zero" check, on a date and in the audit.

Faults are written by hand into a copy of the seeded DuckDB file; each runs the phase's checkpoint for
the date and the season audit over a range holding it, and both must name the same failing checks.
DuckDB sorts NaN above every number and counts it `<> 0`; the BigQuery side is in
tests/test_bigquery_emulator.py (test_null_nan_and_infinity_fail_on_the_emulator).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from checkpoints.audit import audit
from tests.conftest import Workspace
from warehouse.seed import simulated_run_time

pytestmark = pytest.mark.acceptance
DAY = date(2025, 12, 3)  # a clean seeded date
ON_DAY = f"game_date = DATE '{DAY}'"
CONTEXT = "nba_analytics.upcoming_player_game_context"
BOX = "nba_analytics.player_game_summary"
FEATURES = "nba_predictions.ml_feature_store_v2"
PREDICTIONS = "nba_predictions.player_prop_predictions"
GRADING = "nba_predictions.prediction_accuracy"
NAN, INF, MINUS_INF = "'NaN'::DOUBLE", "'Infinity'::DOUBLE", "'-Infinity'::DOUBLE"
EVERY_ZERO_CHECK = {"feature_columns_not_constant_zero", "feature_values_finite"}


def first_row(table: str) -> str:
    return f"(SELECT player_lookup FROM {table} WHERE {ON_DAY} ORDER BY player_lookup, game_id LIMIT 1)"


def update_first(table: str, assignment: str) -> str:
    return f"UPDATE {table} SET {assignment} WHERE {ON_DAY} AND player_lookup = {first_row(table)}"


def update_all(table: str, assignment: str) -> str:
    return f"UPDATE {table} SET {assignment} WHERE {ON_DAY}"


def update_predictions(assignment: str, active: bool = True, rows: int = 200) -> str:
    chosen = (
        f"SELECT prediction_id FROM {PREDICTIONS} WHERE {ON_DAY} AND is_active = {str(active).upper()}"
        f" ORDER BY prediction_id LIMIT {rows}"
    )
    return f"UPDATE {PREDICTIONS} SET {assignment} WHERE {ON_DAY} AND prediction_id IN ({chosen})"


# name -> (phase key, statements, the phase's failing checks: on the date and in the audit)
FAULTS: dict[str, tuple[str, list[str], set[str]]] = {
    "box points NULL, player played": ("3", [update_first(BOX, "points = NULL")], {"box_score_points_range"}),
    "box minutes NULL, player played": (
        "3",
        [update_first(BOX, "minutes_played = NULL")],
        {"box_score_minutes_range"},
    ),
    "box points NULL, is_dnp NULL": (
        "3",
        [update_first(BOX, "points = NULL, minutes_played = NULL, is_dnp = NULL")],
        {"box_score_points_range", "box_score_minutes_range"},
    ),
    "box points and minutes NULL on a DNP row (allowed)": (
        "3",
        [update_first(BOX, "points = NULL, minutes_played = NULL, is_dnp = TRUE")],
        set(),
    ),
    "a feature all NaN": ("4", [update_all(FEATURES, f"feature_3_value = {NAN}")], EVERY_ZERO_CHECK),
    "a feature all +inf": ("4", [update_all(FEATURES, f"feature_3_value = {INF}")], EVERY_ZERO_CHECK),
    "a feature all -inf": ("4", [update_all(FEATURES, f"feature_3_value = {MINUS_INF}")], EVERY_ZERO_CHECK),
    "a feature zero or NaN": (
        "4",
        [update_all(FEATURES, "feature_3_value = 0"), update_first(FEATURES, f"feature_3_value = {NAN}")],
        EVERY_ZERO_CHECK,
    ),
    "one feature value NaN": ("4", [update_first(FEATURES, f"feature_6_value = {NAN}")], {"feature_values_finite"}),
    "one feature value -inf": (
        "4",
        [update_first(FEATURES, f"feature_6_value = {MINUS_INF}")],
        {"feature_values_finite"},
    ),
    "feature values NULL (no data, allowed)": ("4", [update_first(FEATURES, "feature_6_value = NULL")], set()),
    "feature_quality_score NULL on every row": (
        "4",
        [update_all(FEATURES, "feature_quality_score = NULL")],
        {"feature_quality_score_range"},
    ),
    "quality_tier NULL on every row": ("4", [update_all(FEATURES, "quality_tier = NULL")], {"quality_tier_values"}),
    "predicted_points NULL on 200 active rows": (
        "5",
        [update_predictions("predicted_points = NULL")],
        {"predicted_points_range"},
    ),
    "confidence_score NULL on 200 active rows": (
        "5",
        [update_predictions("confidence_score = NULL")],
        {"confidence_score_range"},
    ),
    "recommendation NULL on 200 active rows": (
        "5",
        [update_predictions("recommendation = NULL")],
        {"recommendation_values"},
    ),
    "all three NULL on inactive rows (allowed)": (
        "5",
        [update_predictions("predicted_points = NULL, confidence_score = NULL, recommendation = NULL", active=False)],
        set(),
    ),
    "grading confidence NULL": ("5b", [update_first(GRADING, "confidence_score = NULL")], {"grading_confidence_range"}),
    "grading bet scored without a recommendation": (
        "5b",
        [update_first(GRADING, "recommendation = NULL, prediction_correct = TRUE")],
        {"prediction_correct_null_when_no_bet"},
    ),
    # Checks that had no range form: the audit passed these NULLs.
    "context team_abbr NULL": ("3", [update_first(CONTEXT, "team_abbr = NULL")], {"context_keys_not_null"}),
    "prediction_id NULL on an inactive row": (
        "5",
        [update_predictions("prediction_id = NULL", active=False, rows=1)],
        {"prediction_id_not_null"},
    ),
    "game_id NULL on an active row": ("5", [update_predictions("game_id = NULL", rows=1)], {"game_id_not_null"}),
    "is_active NULL": ("5", [update_predictions("is_active = NULL", rows=1)], {"is_active_not_null"}),
    "graded predicted_points NULL": (
        "5b",
        [update_first(GRADING, "predicted_points = NULL")],
        {"graded_points_match_prediction"},
    ),
}


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_null_nan_and_infinity_fail_the_date_and_the_audit(
    scratch: Workspace, sql: Callable[[str], None], fault: str
) -> None:
    key, statements, expected = FAULTS[fault]
    for statement in statements:
        sql(statement)
    run = scratch.cli("run", "--phase", key, "--date", str(DAY), "--now", simulated_run_time(DAY).isoformat(), "--json")
    assert run.failing() == expected, run.err
    assert run.code == (1 if expected else 0), run.err

    report = audit(scratch.settings, [key], DAY - timedelta(days=1), DAY, simulated_run_time(DAY))
    (phase,) = report.phases
    assert phase.error is None
    assert {check.name for check in phase.checks if DAY in check.failures} == expected


def test_a_nan_feature_is_named_by_player_game_and_feature(scratch: Workspace, sql: Callable[[str], None]) -> None:
    sql(update_first(FEATURES, f"feature_6_value = {NAN}"))
    run = scratch.cli("run", "--phase", "4", "--date", str(DAY), "--now", simulated_run_time(DAY).isoformat(), "--json")
    finite = next(check for check in run.json()["checks"] if check["name"] == "feature_values_finite")
    (row,) = finite["observed"]
    assert row["feature"] == "feature_6_value" and row["feature_value"] == "nan"
    assert row["player_lookup"] and row["game_id"]
