"""Phase 3 (analytics): the upcoming-game context and the box scores, for one game date.

Phase 3 once produced 200 of 481 players; everything downstream (features, predictions, coverage
ratios) takes the context as its truth, so a thin context hides its own loss.
"""

from __future__ import annotations

from great_expectations import expectations as gxe

from expectations.declare import CheckedBatch, ExpectNoFailingRows, PhaseRequest, checker, duplicate_keys_sql
from warehouse.catalog import PLAYER_GAME_SUMMARY, SCHEDULE, UPCOMING_CONTEXT
from warehouse.settings import Phase3Thresholds

CTX = UPCOMING_CONTEXT.c
BOX = PLAYER_GAME_SUMMARY.c
S = SCHEDULE.c
FINAL_STATUS = 3  # nbac_schedule.game_status: 1 scheduled, 2 in progress, 3 final


def build_batches(request: PhaseRequest, thresholds: Phase3Thresholds) -> list[CheckedBatch]:
    t = thresholds
    named = checker(t)
    context_checks = (
        named(
            "context_teams_complete",
            f"every scheduled game has >= {t.min_players_per_team} context players for each team",
            ExpectNoFailingRows(unexpected_rows_query=_teams_complete_sql(request, t)),
            "A game or a team missing from the context is never predicted, and no coverage ratio shows it.",
        ),
        named(
            "context_players_per_game",
            f"{t.context_rows_per_game_min}-{t.context_rows_per_game_max} context rows per game",
            ExpectNoFailingRows(
                unexpected_rows_query=(
                    f"SELECT {CTX.game_id}, COUNT(*) AS context_rows FROM {{batch}} GROUP BY {CTX.game_id}"
                    f" HAVING COUNT(*) < {t.context_rows_per_game_min} OR COUNT(*) > {t.context_rows_per_game_max}"
                    f" ORDER BY {CTX.game_id}"
                )
            ),
            "Phase 3 once produced 200 of 481 players.",
        ),
        named(
            "context_key_unique",
            "one context row per (player_lookup, game_id)",
            ExpectNoFailingRows(unexpected_rows_query=duplicate_keys_sql((CTX.player_lookup, CTX.game_id))),
            "The context is written by MERGE on (player_lookup, game_id).",
        ),
        named(
            "context_keys_not_null",
            "player_lookup, game_id and team_abbr never NULL",
            ExpectNoFailingRows(unexpected_rows_query=_keys_not_null_sql()),
        ),
        named(
            "production_ready_share",
            f">= {t.min_production_ready_share:.0%} of context rows production-ready",
            ExpectNoFailingRows(unexpected_rows_query=_production_ready_sql(t)),
            "Coverage counts only production-ready players: a collapse here shrinks every denominator.",
        ),
    )
    box_checks = (
        named(
            "box_score_players_per_game",
            f"{t.box_score_rows_per_game_min}-{t.box_score_rows_per_game_max} box-score rows per final game",
            ExpectNoFailingRows(unexpected_rows_query=_box_score_per_game_sql(request, t)),
            "Grading needs every final game's box score; an empty partition fails.",
        ),
        named(
            "box_score_key_unique",
            "one box-score row per (player_lookup, game_id)",
            ExpectNoFailingRows(unexpected_rows_query=duplicate_keys_sql((BOX.player_lookup, BOX.game_id))),
        ),
        named(
            "box_score_minutes_range",
            f"minutes_played between 0 and {t.minutes_played_max}",
            gxe.ExpectColumnValuesToBeBetween(column=BOX.minutes_played, min_value=0, max_value=t.minutes_played_max),
        ),
        named(
            "box_score_points_range",
            f"points between 0 and {t.points_max}",
            gxe.ExpectColumnValuesToBeBetween(column=BOX.points, min_value=0, max_value=t.points_max),
        ),
    )
    return [
        CheckedBatch(UPCOMING_CONTEXT.name, request.partition(UPCOMING_CONTEXT), context_checks),
        CheckedBatch(PLAYER_GAME_SUMMARY.name, request.partition(PLAYER_GAME_SUMMARY), box_checks),
    ]


def _teams_of_scheduled_games(request: PhaseRequest, where: str = "TRUE") -> str:
    """One row per (scheduled game, team): each team plays at most once a day, so team_abbr joins them."""
    schedule = request.partition(SCHEDULE, (S.game_id, S.home_team_tricode, S.away_team_tricode, S.game_status))
    return f"""
schedule AS ({schedule}),
teams AS (
  SELECT {S.game_id} AS schedule_game_id, {S.home_team_tricode} AS team FROM schedule WHERE {where}
  UNION ALL
  SELECT {S.game_id} AS schedule_game_id, {S.away_team_tricode} AS team FROM schedule WHERE {where}
)"""


def _teams_complete_sql(request: PhaseRequest, t: Phase3Thresholds) -> str:
    return f"""
WITH {_teams_of_scheduled_games(request)},
players AS (
  SELECT {CTX.team_abbr} AS team, COUNT(DISTINCT {CTX.player_lookup}) AS context_players
  FROM {{batch}} GROUP BY {CTX.team_abbr}
)
SELECT t.schedule_game_id, t.team, COALESCE(p.context_players, 0) AS context_players
FROM teams t LEFT JOIN players p ON p.team = t.team
WHERE COALESCE(p.context_players, 0) < {t.min_players_per_team}
ORDER BY t.schedule_game_id, t.team
"""


def _keys_not_null_sql() -> str:
    counts = ", ".join(
        f"SUM(CASE WHEN {column} IS NULL THEN 1 ELSE 0 END) AS null_{column}"
        for column in (CTX.player_lookup, CTX.game_id, CTX.team_abbr)
    )
    nulls = " OR ".join(f"{column} IS NULL" for column in (CTX.player_lookup, CTX.game_id, CTX.team_abbr))
    return f"SELECT {counts}, SUM(CASE WHEN {nulls} THEN 1 ELSE 0 END) > 0 AS failed FROM {{batch}}"


def _production_ready_sql(t: Phase3Thresholds) -> str:
    return f"""
WITH counts AS (
  SELECT COUNT(*) AS context_rows,
         SUM(CASE WHEN {CTX.is_production_ready} = TRUE THEN 1 ELSE 0 END) AS production_ready
  FROM {{batch}}
)
SELECT context_rows, production_ready,
  CASE WHEN context_rows = 0 THEN NULL ELSE ROUND(production_ready / context_rows, 4) END AS share,
  (context_rows = 0 OR production_ready < {t.min_production_ready_share} * context_rows) AS failed
FROM counts
"""


def _box_score_per_game_sql(request: PhaseRequest, t: Phase3Thresholds) -> str:
    return f"""
WITH {_teams_of_scheduled_games(request, f"{S.game_status} = {FINAL_STATUS}")},
players AS (SELECT {BOX.team_abbr} AS team, COUNT(*) AS box_rows FROM {{batch}} GROUP BY {BOX.team_abbr})
SELECT t.schedule_game_id, SUM(COALESCE(p.box_rows, 0)) AS box_score_rows
FROM teams t LEFT JOIN players p ON p.team = t.team
GROUP BY t.schedule_game_id
HAVING SUM(COALESCE(p.box_rows, 0)) < {t.box_score_rows_per_game_min}
    OR SUM(COALESCE(p.box_rows, 0)) > {t.box_score_rows_per_game_max}
ORDER BY t.schedule_game_id
"""
