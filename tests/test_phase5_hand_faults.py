"""Faults injected by hand into a copy of the seeded DuckDB file (same names as BigQuery) are caught.

Together with the seeded catalogue this shows every Phase 5 check failing on its fault.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from expectations.declare import PhaseRequest
from expectations.phase5_predictions import VolumeBaseline, build_batches
from tests.conftest import Workspace
from warehouse.seed import FAULTS, simulated_run_time
from warehouse.settings import load_settings

pytestmark = pytest.mark.acceptance
DAY = date(2025, 12, 3)  # a clean seeded date
PREDICTIONS = "nba_predictions.player_prop_predictions"
ON_DAY = f"game_date = DATE '{DAY}'"
ONE_ACTIVE_ROW = (
    f"(SELECT prediction_id FROM {PREDICTIONS} WHERE {ON_DAY} AND is_active ORDER BY prediction_id LIMIT 1)"
)


def staging_name(batch_day: date, hours_before_run: float, worker: str = "00007_k3p_0a49f283") -> str:
    started = simulated_run_time(batch_day) - timedelta(hours=hours_before_run)
    return f"_staging_batch_{batch_day:%Y_%m_%d}_{int(started.timestamp())}_prediction_worker_{worker}"


def copy_of_row(changes: str) -> str:
    """Insert a copy of one active row with a new prediction_id and the given column changes."""
    return (
        f"INSERT INTO {PREDICTIONS} SELECT * REPLACE ('hand-' || prediction_id AS prediction_id, {changes})"
        f" FROM {PREDICTIONS} WHERE prediction_id = {ONE_ACTIVE_ROW}"
    )


def update_one(assignment: str) -> str:
    return f"UPDATE {PREDICTIONS} SET {assignment} WHERE prediction_id = {ONE_ACTIVE_ROW}"


HAND_FAULTS: dict[str, tuple[list[str], set[str]]] = {
    "delete 40% of players' predictions": (
        [
            f"DELETE FROM {PREDICTIONS} WHERE {ON_DAY} AND player_lookup IN (SELECT player_lookup FROM"
            f" (SELECT DISTINCT player_lookup FROM {PREDICTIONS} WHERE {ON_DAY})"
            " USING SAMPLE 40 PERCENT (reservoir, 7))"
        ],
        {"player_coverage"},
    ),
    "duplicate active row": ([copy_of_row("current_points_line + 1 AS current_points_line")], {"active_key_unique"}),
    "inactive twin on the consolidation key": ([copy_of_row("FALSE AS is_active")], {"consolidation_key_unique"}),
    "two NULL-line rows on one key": (
        [update_one("current_points_line = NULL"), copy_of_row("FALSE AS is_active")],
        {"consolidation_key_unique"},
    ),
    "old staging table of the date's batch": (
        [f"CREATE TABLE nba_predictions.{staging_name(DAY, 3)} AS SELECT * FROM {PREDICTIONS} LIMIT 2"],
        {"no_orphaned_staging_tables"},
    ),
    "staging table whose age cannot be known": (
        ["CREATE TABLE nba_predictions._staging_manual_copy (x INTEGER)"],
        {"no_orphaned_staging_tables"},
    ),
    "a whole system silent": (
        [f"DELETE FROM {PREDICTIONS} WHERE {ON_DAY} AND system_id = 'zone_matchup_v1'"],
        {"system_coverage"},
    ),
    "every prediction gone": (
        [f"DELETE FROM {PREDICTIONS} WHERE {ON_DAY}"],
        # as the seeded zero_predictions, but the volume is not judged yet: DAY has 2 earlier game dates
        next(f for f in FAULTS if f.name == "zero_predictions").failing_checks("phase5") - {"active_prediction_volume"},
    ),
    "predicted_points above the clamp": ([update_one("predicted_points = 60.1")], {"predicted_points_range"}),
    "confidence on the wrong scale": ([update_one("confidence_score = 150")], {"confidence_score_range"}),
    "unknown recommendation": ([update_one("recommendation = 'MAYBE'")], {"recommendation_values"}),
    "NULL prediction_id": ([update_one("prediction_id = NULL")], {"prediction_id_not_null"}),
    "NULL player_lookup": ([update_one("player_lookup = NULL")], {"player_lookup_not_null"}),
    "NULL game_id": ([update_one("game_id = NULL")], {"game_id_not_null"}),
    "NULL system_id": ([update_one("system_id = NULL")], {"system_id_not_null"}),
    "NULL is_active": ([update_one("is_active = NULL")], {"is_active_not_null"}),
    # Not faults: each must leave every check passing.
    "LIKE-wildcard lookalike table": (["CREATE TABLE nba_predictions.xstagingy_batch_copy (x INTEGER)"], set()),
    "old staging table of another date": (
        [f"CREATE TABLE nba_predictions.{staging_name(DAY - timedelta(days=1), 30)} (x INTEGER)"],
        set(),
    ),
    "young staging table (in flight)": (
        [f"CREATE TABLE nba_predictions.{staging_name(DAY, 0.2)} (x INTEGER)"],
        set(),
    ),
}


@pytest.mark.parametrize("fault", HAND_FAULTS, ids=str)
def test_hand_made_fault_is_detected(scratch: Workspace, sql: Callable[[str], None], fault: str) -> None:
    statements, expected = HAND_FAULTS[fault]
    for statement in statements:
        sql(statement)
    result = scratch.cli(
        "run", "--phase", "5", "--date", str(DAY), "--now", simulated_run_time(DAY).isoformat(), "--json"
    )
    assert result.failing() == expected
    assert result.code == (1 if expected else 0), result.err


def test_every_phase5_check_has_a_fault_that_fails_it() -> None:
    settings = load_settings({})
    request = PhaseRequest(DAY, simulated_run_time(DAY), "duckdb", settings.datasets)
    declared = {
        e.meta["check"]
        for batch in build_batches(request, settings.phase5, settings.era_for(DAY), VolumeBaseline((), 5))
        for e in batch.expectations
    }
    caught = set().union(*(checks for _, checks in HAND_FAULTS.values()), *(f.failing_checks("phase5") for f in FAULTS))
    assert declared == caught
