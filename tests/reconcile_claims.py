"""Claims as the platform's completion messages would make them for a clean seeded date, built from
the warehouse's real counts (read beside nba-dq), for the reconciliation tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from expectations.claims import PhaseClaims, ProcessorReport
from tests.conftest import Workspace
from warehouse.catalog import PREDICTIONS_EXPORT, TONIGHT_EXPORT

DAY = date(2025, 12, 2)  # a clean seeded date
ON_DAY = f"game_date = DATE '{DAY}'"
BOX = "nba_analytics.player_game_summary"
CONTEXT = "nba_analytics.upcoming_player_game_context"
FEATURES = "nba_predictions.ml_feature_store_v2"
PREDICTIONS = "nba_predictions.player_prop_predictions"
GRADED = "nba_predictions.prediction_accuracy"


def landed(workspace: Workspace, day: date = DAY) -> dict[str, int]:
    """The date's real counts, read beside nba-dq (read-only) to build truthful claims."""
    on_day = f"game_date = DATE '{day}'"
    connection = duckdb.connect(str(workspace.warehouse), read_only=True)
    try:
        count = lambda sql: int(connection.execute(sql).fetchone()[0])  # noqa: E731
        return {
            BOX: count(f"SELECT COUNT(*) FROM {BOX} WHERE {on_day}"),
            CONTEXT: count(f"SELECT COUNT(*) FROM {CONTEXT} WHERE {on_day}"),
            FEATURES: count(f"SELECT COUNT(*) FROM {FEATURES} WHERE {on_day}"),
            PREDICTIONS: count(f"SELECT COUNT(*) FROM {PREDICTIONS} WHERE {on_day}"),
            "players": count(
                f"SELECT COUNT(DISTINCT player_lookup) FROM {PREDICTIONS} WHERE {on_day} AND is_active = TRUE"
            ),
            GRADED: count(f"SELECT COUNT(*) FROM {GRADED} WHERE {on_day}"),
        }
    finally:
        connection.close()


def report(processor: str, output_table: str | None, record_count: int | None, **details: Any) -> ProcessorReport:
    return ProcessorReport(processor, "success", output_table, record_count, details)


def truthful(workspace: Workspace) -> dict[str, PhaseClaims]:
    """Each phase's messages as the platform would send them for the seeded date, with its real counts."""
    n = landed(workspace)
    exports = workspace.exports
    return {
        "3": PhaseClaims(
            (
                report("PlayerGameSummaryProcessor", "nba_analytics.player_game_summary", n[BOX]),
                report("UpcomingPlayerGameContextProcessor", "upcoming_player_game_context", n[CONTEXT]),
            )
        ),
        "4": PhaseClaims((report("MLFeatureStoreProcessor", "nba_predictions.ml_feature_store_v2", n[FEATURES]),)),
        "5": PhaseClaims(
            (
                report(
                    "PredictionCoordinator",
                    "nba_predictions.player_prop_predictions",
                    n["players"],
                    batch_id=f"batch_{DAY}_1764694800",
                    expected_predictions=n["players"],
                    completed_predictions=n["players"],
                    failed_predictions=0,
                    completion_pct=100.0,
                    stall_detected=False,
                    total_predictions=n[PREDICTIONS],
                ),
            )
        ),
        "5b": PhaseClaims((report("Phase5BGrading", None, None, graded_count=n[GRADED], predictions_found=999),)),
        "6": PhaseClaims(
            (
                report(
                    "Phase6Export",
                    None,
                    None,
                    export_type="daily",
                    errors=[],
                    paths={
                        "predictions": str(exports / PREDICTIONS_EXPORT.path(DAY)),
                        "tonight": str(exports / TONIGHT_EXPORT.path(DAY)),
                        "signal_best_bets": None,
                    },
                ),
            )
        ),
    }
