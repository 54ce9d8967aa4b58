"""The names of every phase's checks, per checkpoint: what a `[phaseN.severity]` table may name.

Written here, free of GX, so dq.toml is validated before GX loads (its import takes seconds): a
mistyped name in a severity table is an error at load, not a check silently left critical. The
phase modules declare the checks; tests/test_check_names.py proves each set equals what its phase
declares for one date, over a range (`nba-dq audit`, which adds a `*_rows_present` check) and on its
completion messages' claims (`nba-dq serve`).
"""

from __future__ import annotations

# Checks of what the platform's completion messages claim (expectations/reconcile.py): declared only
# when a phase runs on its messages (`nba-dq serve`), never by `run` or `audit`.
CLAIM_STATUS_NOT_FAILED = "claim_status_not_failed"
CLAIM_STATUS_SUCCESS = "claim_status_success"
CLAIM_TABLE_KNOWN = "claim_table_known"
CLAIM_ROWS_LANDED = "claim_rows_landed"
CLAIM_BATCH_COMPLETE = "claim_batch_complete"
CLAIM_BATCH_NOT_STALLED = "claim_batch_not_stalled"
CLAIM_BATCH_NO_FAILED_PREDICTIONS = "claim_batch_no_failed_predictions"
CLAIM_EXPORT_ERRORS_EMPTY = "claim_export_errors_empty"
CLAIM_EXPORT_PATHS_EXIST = "claim_export_paths_exist"
_STATUS_CLAIMS = (CLAIM_STATUS_NOT_FAILED, CLAIM_STATUS_SUCCESS)
_TABLE_CLAIMS = (*_STATUS_CLAIMS, CLAIM_TABLE_KNOWN, CLAIM_ROWS_LANDED)
CLAIM_CHECK_NAMES: dict[str, tuple[str, ...]] = {
    "phase3": _TABLE_CLAIMS,
    "phase4": _TABLE_CLAIMS,
    "phase5": (*_TABLE_CLAIMS, CLAIM_BATCH_COMPLETE, CLAIM_BATCH_NOT_STALLED, CLAIM_BATCH_NO_FAILED_PREDICTIONS),
    "phase5b": (*_STATUS_CLAIMS, CLAIM_ROWS_LANDED),
    "phase6": (*_STATUS_CLAIMS, CLAIM_EXPORT_ERRORS_EMPTY, CLAIM_EXPORT_PATHS_EXIST),
}

CHECK_NAMES: dict[str, frozenset[str]] = {
    "phase3": frozenset(
        {
            "context_rows_present",
            "context_teams_complete",
            "context_players_per_game",
            "context_key_unique",
            "context_keys_not_null",
            "production_ready_share",
            "box_score_rows_present",
            "box_score_players_per_game",
            "box_score_key_unique",
            "box_score_minutes_range",
            "box_score_points_range",
        }
    ),
    "phase4": frozenset(
        {
            "feature_rows_present",
            "feature_store_coverage",
            "feature_key_unique",
            "feature_quality_score_range",
            "quality_tier_values",
            "feature_columns_not_constant_zero",
            "feature_values_finite",
        }
    ),
    "phase5": frozenset(
        {
            "prediction_rows_present",
            "active_prediction_count",
            "active_prediction_volume",
            "predicted_player_count",
            "player_coverage",
            "system_coverage",
            "active_key_unique",
            "consolidation_key_unique",
            "predicted_points_range",
            "confidence_score_range",
            "recommendation_values",
            "prediction_id_not_null",
            "player_lookup_not_null",
            "game_id_not_null",
            "system_id_not_null",
            "is_active_not_null",
            "no_orphaned_staging_tables",
        }
    ),
    "phase5b": frozenset(
        {
            "grading_rows_present",
            "grading_coverage",
            "grading_key_unique",
            "grading_errors_consistent",
            "grading_values_present",
            "prediction_correct_null_when_no_bet",
            "grading_confidence_range",
            "graded_points_match_prediction",
        }
    ),
    "phase6": frozenset(
        {
            "export_files_readable",
            "export_halt_fields",
            "export_no_empty_games",
            "export_players_per_game",
            "export_players_match_predictions",
            "export_fresh",
        }
    ),
}
CHECK_NAMES = {checkpoint: names | set(CLAIM_CHECK_NAMES[checkpoint]) for checkpoint, names in CHECK_NAMES.items()}
