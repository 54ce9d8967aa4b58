"""What the platform's numbers mean, written once for a date's checks and for date-range reports.

Each function takes already partition-filtered sources (one date in a checkpoint, a range in
`nba-dq health`) and keeps game_date, so the same definition serves both.
"""

from __future__ import annotations

from expectations.declare import sql_strings
from warehouse.catalog import PLAYER_GAME_SUMMARY, PREDICTIONS, UPCOMING_CONTEXT

P = PREDICTIONS.c
CTX = UPCOMING_CONTEXT.c
BOX = PLAYER_GAME_SUMMARY.c
CONTEXT_COLUMNS = (CTX.game_date, CTX.player_lookup, CTX.is_production_ready, CTX.player_status)
ACTIVE_COLUMNS = (
    P.game_date,
    P.player_lookup,
    P.game_id,
    P.system_id,
    P.predicted_points,
    P.current_points_line,
    P.invalidation_reason,
    P.is_active,
)


def coverage_players(context: str, excluded_statuses: tuple[str, ...], excluded: bool = False) -> str:
    """(game_date, player_lookup) the coverage counts: production-ready context players whose status
    is not excluded (the coordinator never predicts out or doubtful players). `excluded=True` gives the
    production-ready players left out for their status, reported beside the ratio."""
    status = f"COALESCE({CTX.player_status}, '')"
    test = "IN" if excluded else "NOT IN"
    return (
        f"SELECT DISTINCT {CTX.game_date} AS game_date, {CTX.player_lookup} AS player_lookup FROM ({context}) AS ctx"
        f" WHERE {CTX.is_production_ready} = TRUE AND {status} {test} {sql_strings(excluded_statuses)}"
    )


def active_predictions(predictions: str) -> str:
    """The active rows (what every downstream read uses) of a predictions source."""
    return f"SELECT * FROM ({predictions}) AS p WHERE {P.is_active} = TRUE"


def gradable_predictions(active: str, box_scores: str, line_placeholder: float) -> str:
    """(game_date, player_lookup, game_id, system_id) grading must cover: active predictions of players
    with a box score (the game was played), a line that is not the placeholder, not invalidated."""
    return f"""
SELECT DISTINCT a.{P.game_date} AS game_date, a.{P.player_lookup} AS player_lookup, a.{P.game_id} AS game_id,
  a.{P.system_id} AS system_id
FROM ({active}) AS a
JOIN (SELECT DISTINCT {BOX.player_lookup} AS player_lookup, {BOX.game_id} AS game_id FROM ({box_scores}) AS box) b
  ON b.player_lookup = a.{P.player_lookup} AND b.game_id = a.{P.game_id}
WHERE a.{P.current_points_line} IS NOT NULL AND a.{P.current_points_line} <> {line_placeholder}
  AND a.{P.invalidation_reason} IS NULL"""
