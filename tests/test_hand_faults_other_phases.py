"""Phases 3, 4 and 5B: faults injected by hand into a copy of the seeded DuckDB file are caught."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from checkpoints.phases import PHASES, Phase
from expectations.declare import PhaseRequest
from tests.conftest import Workspace
from warehouse.connection import Warehouse
from warehouse.seed import FAULTS, simulated_run_time
from warehouse.settings import load_settings

pytestmark = pytest.mark.acceptance
DAY = date(2025, 12, 3)  # a clean seeded date
ON_DAY = f"game_date = DATE '{DAY}'"
CONTEXT = "nba_analytics.upcoming_player_game_context"
BOX = "nba_analytics.player_game_summary"
FEATURES = "nba_predictions.ml_feature_store_v2"
GRADING = "nba_predictions.prediction_accuracy"


def first_row(table: str, order: str = "player_lookup, game_id") -> str:
    return f"(SELECT player_lookup FROM {table} WHERE {ON_DAY} ORDER BY {order} LIMIT 1)"


def update_first(table: str, assignment: str) -> str:
    return f"UPDATE {table} SET {assignment} WHERE {ON_DAY} AND player_lookup = {first_row(table)}"


def duplicate_first(table: str) -> str:
    return f"INSERT INTO {table} SELECT * FROM {table} WHERE {ON_DAY} AND player_lookup = {first_row(table)} LIMIT 1"


def one_game_box(table: str) -> str:
    return f"(SELECT game_id FROM {table} WHERE {ON_DAY} ORDER BY game_id LIMIT 1)"


# (phase, statements, failing checks of that phase)
HAND_FAULTS: dict[str, tuple[str, list[str], set[str]]] = {
    "context team without players": (
        "phase3",
        [
            f"DELETE FROM {CONTEXT} WHERE {ON_DAY} AND team_abbr = (SELECT team_abbr FROM {CONTEXT} WHERE {ON_DAY}"
            " ORDER BY team_abbr LIMIT 1)"
        ],
        {"context_teams_complete", "context_players_per_game"},  # one team alone is under 20 rows
    ),
    "context row duplicated": ("phase3", [duplicate_first(CONTEXT)], {"context_key_unique"}),
    "context team_abbr NULL": ("phase3", [update_first(CONTEXT, "team_abbr = NULL")], {"context_keys_not_null"}),
    "context barely production-ready": (
        "phase3",
        [f"UPDATE {CONTEXT} SET is_production_ready = (hash(player_lookup) % 4 = 0) WHERE {ON_DAY}"],
        {"production_ready_share"},
    ),
    "context game far too large": (
        "phase3",
        [
            f"INSERT INTO {CONTEXT} SELECT * REPLACE (player_lookup || '_twin' AS player_lookup) FROM {CONTEXT}"
            f" WHERE {ON_DAY} AND game_id = {one_game_box(CONTEXT)}"
        ],
        {"context_players_per_game"},
    ),
    "box score missing for a game": (
        "phase3",
        [f"DELETE FROM {BOX} WHERE {ON_DAY} AND game_id = {one_game_box(BOX)}"],
        {"box_score_players_per_game"},
    ),
    "box score row duplicated": ("phase3", [duplicate_first(BOX)], {"box_score_key_unique"}),
    "minutes above 60": ("phase3", [update_first(BOX, "minutes_played = 75")], {"box_score_minutes_range"}),
    "points above 80": ("phase3", [update_first(BOX, "points = 95")], {"box_score_points_range"}),
    "feature store emptied": (
        "phase4",
        [f"DELETE FROM {FEATURES} WHERE {ON_DAY}"],
        {"feature_store_coverage", "feature_columns_not_constant_zero"},
    ),
    "feature row duplicated": ("phase4", [duplicate_first(FEATURES)], {"feature_key_unique"}),
    "quality score above 100": (
        "phase4",
        [update_first(FEATURES, "feature_quality_score = 120")],
        {"feature_quality_score_range"},
    ),
    "unknown quality tier": ("phase4", [update_first(FEATURES, "quality_tier = 'platinum'")], {"quality_tier_values"}),
    "a feature all NULL": (
        "phase4",
        [f"UPDATE {FEATURES} SET feature_7_value = NULL WHERE {ON_DAY}"],
        {"feature_columns_not_constant_zero"},
    ),
    "a feature value NaN": (
        "phase4",
        [update_first(FEATURES, "feature_2_value = 'NaN'::DOUBLE")],
        {"feature_values_finite"},  # more NULL, NaN and infinity faults: tests/test_null_nan.py
    ),
    "grading row duplicated": ("phase5b", [duplicate_first(GRADING)], {"grading_key_unique"}),
    "grading confidence on the 0-100 scale": (
        "phase5b",
        [update_first(GRADING, "confidence_score = 7.5")],
        {"grading_confidence_range"},
    ),
    "graded points inflated": (
        "phase5b",
        [
            update_first(
                GRADING,
                "predicted_points = predicted_points * 3, absolute_error = abs(predicted_points * 3 - actual_points),"
                " signed_error = predicted_points * 3 - actual_points",
            )
        ],
        {"graded_points_match_prediction"},
    ),
    "a PASS marked correct": (
        "phase5b",
        [
            f"UPDATE {GRADING} SET recommendation = 'PASS', prediction_correct = TRUE WHERE {ON_DAY}"
            f" AND player_lookup = {first_row(GRADING)}"
        ],
        {"prediction_correct_null_when_no_bet"},
    ),
    "grading emptied": ("phase5b", [f"DELETE FROM {GRADING} WHERE {ON_DAY}"], {"grading_coverage"}),
}


@pytest.mark.parametrize("fault", HAND_FAULTS, ids=str)
def test_hand_made_fault_is_detected(scratch: Workspace, sql: Callable[[str], None], fault: str) -> None:
    phase, statements, expected = HAND_FAULTS[fault]
    for statement in statements:
        sql(statement)
    key = next(key for key, spec in PHASES.items() if spec.checkpoint == phase)
    result = scratch.cli(
        "run", "--phase", key, "--date", str(DAY), "--now", simulated_run_time(DAY).isoformat(), "--json"
    )
    assert result.failing() == expected, result.err
    assert result.code == 1


@pytest.mark.parametrize(
    "phase", [p for p in PHASES.values() if p.checkpoint in ("phase3", "phase4", "phase5b")], ids=lambda p: p.checkpoint
)
def test_every_check_has_a_fault_that_fails_it(phase: Phase) -> None:
    settings = load_settings({})
    request = PhaseRequest(DAY, simulated_run_time(DAY), "duckdb", settings.datasets)
    unused = Warehouse("duckdb:///unused.duckdb", "duckdb", settings.datasets)  # these builders only declare SQL
    declared = {e.meta["check"] for batch in phase.build(request, settings, unused) for e in batch.expectations}
    caught = set().union(
        *(checks for name, _, checks in HAND_FAULTS.values() if name == phase.checkpoint),
        *(fault.failing_checks(phase.checkpoint) for fault in FAULTS),
    )
    assert declared == caught
