"""Phase 3 (analytics): the upcoming-game context and the box scores, for one game date.

Phase 3 once produced 200 of 481 players; everything downstream (features, predictions, coverage
ratios) takes the context as its truth, so a thin context hides its own loss.
"""

from __future__ import annotations

from expectations.declare import (
    CheckedBatch,
    PhaseRequest,
    checker,
    duplicate_keys_sql,
    no_failing_rows,
    outside_range,
    rows_outside_sql,
)
from expectations.ranges import (
    FINAL_STATUS,
    Part,
    RangeAudit,
    RangeRequest,
    duplicate_keys_by_date,
    figures_sql,
    matching_rows_by_date,
    missing_partition,
    range_checkers,
    read_frame,
    rows_by_date,
    when,
)
from warehouse.catalog import PLAYER_GAME_SUMMARY, SCHEDULE, UPCOMING_CONTEXT
from warehouse.connection import Warehouse
from warehouse.settings import Phase3Thresholds

CTX = UPCOMING_CONTEXT.c
BOX = PLAYER_GAME_SUMMARY.c
S = SCHEDULE.c
BOX_IDENTITY = (BOX.player_lookup, BOX.game_id)  # what names a failing box-score row
SCHEDULE_TEAMS = (S.game_date, S.game_id, S.home_team_tricode, S.away_team_tricode, S.game_status)
CTX_KEYS = (CTX.player_lookup, CTX.game_id, CTX.team_abbr)  # never NULL
KEY_NULL = " OR ".join(f"{column} IS NULL" for column in CTX_KEYS)
DNP_SQL = f"{BOX.is_dnp} = TRUE"  # a player who did not play may have no minutes or points


def build_batches(request: PhaseRequest, thresholds: Phase3Thresholds) -> list[CheckedBatch]:
    t = thresholds
    named = checker(t)
    expected = _expected(t)
    context_checks = (
        named(
            "context_teams_complete",
            expected["context_teams_complete"],
            no_failing_rows(_teams_complete_sql(request, t)),
            "A game or a team missing from the context is never predicted, and no coverage ratio shows it.",
        ),
        named(
            "context_players_per_game",
            expected["context_players_per_game"],
            no_failing_rows(
                (
                    f"SELECT {CTX.game_id}, COUNT(*) AS context_rows FROM {{batch}} GROUP BY {CTX.game_id}"
                    f" HAVING COUNT(*) < {t.context_rows_per_game_min} OR COUNT(*) > {t.context_rows_per_game_max}"
                    f" ORDER BY {CTX.game_id}"
                )
            ),
            "Phase 3 once produced 200 of 481 players.",
        ),
        named(
            "context_key_unique",
            expected["context_key_unique"],
            no_failing_rows(duplicate_keys_sql((CTX.player_lookup, CTX.game_id))),
            "The context is written by MERGE on (player_lookup, game_id).",
        ),
        named(
            "context_keys_not_null",
            expected["context_keys_not_null"],
            no_failing_rows(_keys_not_null_sql()),
        ),
        named(
            "production_ready_share",
            f">= {t.min_production_ready_share:.0%} of context rows production-ready",
            no_failing_rows(_production_ready_sql(t)),
            "Coverage counts only production-ready players: a collapse here shrinks every denominator.",
        ),
    )
    box_checks = (
        named(
            "box_score_players_per_game",
            expected["box_score_players_per_game"],
            no_failing_rows(_box_score_per_game_sql(request, t)),
            "Grading needs every final game's box score; an empty partition fails.",
        ),
        named(
            "box_score_key_unique",
            expected["box_score_key_unique"],
            no_failing_rows(duplicate_keys_sql((BOX.player_lookup, BOX.game_id))),
        ),
        named(
            "box_score_minutes_range",
            expected["box_score_minutes_range"],
            no_failing_rows(
                rows_outside_sql(
                    request,
                    PLAYER_GAME_SUMMARY,
                    BOX.minutes_played,
                    (0, t.minutes_played_max),
                    BOX_IDENTITY,
                    null_allowed=DNP_SQL,
                )
            ),
            "Grading reads minutes and points: a NULL stat line of a player who played is a broken row.",
        ),
        named(
            "box_score_points_range",
            expected["box_score_points_range"],
            no_failing_rows(
                rows_outside_sql(
                    request, PLAYER_GAME_SUMMARY, BOX.points, (0, t.points_max), BOX_IDENTITY, null_allowed=DNP_SQL
                )
            ),
        ),
    )
    return [
        CheckedBatch(UPCOMING_CONTEXT.name, request.partition(UPCOMING_CONTEXT), context_checks),
        CheckedBatch(PLAYER_GAME_SUMMARY.name, request.partition(PLAYER_GAME_SUMMARY), box_checks),
    ]


def _expected(t: Phase3Thresholds) -> dict[str, str]:
    """What the checks that a date and a range share expect, in words."""
    return {
        "context_teams_complete": f"every scheduled game has >= {t.min_players_per_team} context players for each team",
        "context_players_per_game": f"{t.context_rows_per_game_min}-{t.context_rows_per_game_max}"
        " context rows per game",
        "context_key_unique": "one context row per (player_lookup, game_id)",
        "context_keys_not_null": f"{', '.join(CTX_KEYS)} never NULL",
        "box_score_players_per_game": f"{t.box_score_rows_per_game_min}-{t.box_score_rows_per_game_max}"
        " box-score rows per final game",
        "box_score_key_unique": "one box-score row per (player_lookup, game_id)",
        "box_score_minutes_range": f"minutes_played between 0 and {t.minutes_played_max}; NULL fails unless is_dnp",
        "box_score_points_range": f"points between 0 and {t.points_max}; NULL fails unless is_dnp",
    }


def _scheduled_teams(schedule: str, where: str = "TRUE") -> str:
    """CTEs `schedule` and `teams`, one row per (date, scheduled game, team): each team plays at most
    once a day, so (game_date, team_abbr) joins them to the context and the box scores."""
    return f"""
schedule AS ({schedule}),
teams AS (
  SELECT {S.game_date} AS game_date, {S.game_id} AS schedule_game_id, {S.home_team_tricode} AS team
  FROM schedule WHERE {where}
  UNION ALL
  SELECT {S.game_date} AS game_date, {S.game_id} AS schedule_game_id, {S.away_team_tricode} AS team
  FROM schedule WHERE {where}
)"""


def _teams_complete_sql(request: PhaseRequest, t: Phase3Thresholds) -> str:
    return f"""
WITH {_scheduled_teams(request.partition(SCHEDULE, SCHEDULE_TEAMS))},
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
    counts = ", ".join(f"SUM(CASE WHEN {column} IS NULL THEN 1 ELSE 0 END) AS null_{column}" for column in CTX_KEYS)
    return f"SELECT {counts}, SUM(CASE WHEN {KEY_NULL} THEN 1 ELSE 0 END) > 0 AS failed FROM {{batch}}"


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
WITH {_scheduled_teams(request.partition(SCHEDULE, SCHEDULE_TEAMS), f"{S.game_status} = {FINAL_STATUS}")},
players AS (SELECT {BOX.team_abbr} AS team, COUNT(*) AS box_rows FROM {{batch}} GROUP BY {BOX.team_abbr})
SELECT t.schedule_game_id, SUM(COALESCE(p.box_rows, 0)) AS box_score_rows
FROM teams t LEFT JOIN players p ON p.team = t.team
GROUP BY t.schedule_game_id
HAVING SUM(COALESCE(p.box_rows, 0)) < {t.box_score_rows_per_game_min}
    OR SUM(COALESCE(p.box_rows, 0)) > {t.box_score_rows_per_game_max}
ORDER BY t.schedule_game_id
"""


def audit(request: RangeRequest, thresholds: Phase3Thresholds, warehouse: Warehouse) -> RangeAudit:
    """Phase 3 over a range: one statement of per-date figures for the context and the box scores."""
    t = thresholds
    named, counted = range_checkers(t)
    expected = _expected(t)
    checks = (
        named(
            "context_rows_present",
            "context rows on every date with games",
            lambda f: missing_partition(f, "context_rows", "context"),
        ),
        named(
            "context_teams_complete",
            expected["context_teams_complete"],
            lambda f: when(
                f["thin_teams"] > 0,
                f"{f['thin_teams']} of {2 * f['games']} teams with < {t.min_players_per_team} context players",
            ),
        ),
        named(
            "context_players_per_game",
            expected["context_players_per_game"],
            lambda f: when(
                f["context_games_off"] > 0,
                f"{f['context_games_off']} games outside {expected['context_players_per_game']}",
            ),
        ),
        counted(
            "context_key_unique",
            expected["context_key_unique"],
            "context_duplicate_keys",
            "duplicated (player_lookup, game_id)",
        ),
        counted(
            "context_keys_not_null", expected["context_keys_not_null"], "context_null_keys", "rows with a NULL key"
        ),
        named(
            "box_score_rows_present",
            "box-score rows on every date with final games",
            lambda f: missing_partition(f, "box_score_rows", "box-score", games="final_games"),
        ),
        named(
            "box_score_players_per_game",
            expected["box_score_players_per_game"],
            lambda f: when(
                f["box_games_off"] > 0,
                f"{f['box_games_off']} final games outside {expected['box_score_players_per_game']}",
            ),
        ),
        counted(
            "box_score_key_unique",
            expected["box_score_key_unique"],
            "box_duplicate_keys",
            "duplicated (player_lookup, game_id)",
        ),
        counted("box_score_minutes_range", expected["box_score_minutes_range"], "minutes_outside", "rows outside"),
        counted("box_score_points_range", expected["box_score_points_range"], "points_outside", "rows outside"),
    )
    context = request.window(UPCOMING_CONTEXT, (CTX.game_date, CTX.player_lookup, CTX.game_id, CTX.team_abbr))
    box = request.window(PLAYER_GAME_SUMMARY, (BOX.game_date, BOX.player_lookup, BOX.game_id, BOX.team_abbr,
                                               BOX.points, BOX.minutes_played, BOX.is_dnp))  # fmt: skip
    schedule = request.window(SCHEDULE, SCHEDULE_TEAMS)
    parts = (
        rows_by_date(context, "context_rows"),
        Part("thin_teams", f"""
WITH {_scheduled_teams(schedule)},
players AS (SELECT game_date, {CTX.team_abbr} AS team, COUNT(DISTINCT {CTX.player_lookup}) AS context_players
            FROM ({context}) AS c GROUP BY game_date, {CTX.team_abbr})
SELECT t.game_date, COUNT(*) AS thin_teams FROM teams t
LEFT JOIN players p ON p.game_date = t.game_date AND p.team = t.team
WHERE COALESCE(p.context_players, 0) < {t.min_players_per_team} GROUP BY t.game_date""", ("thin_teams",)),
        Part("context_games_off", f"""
SELECT game_date, COUNT(*) AS context_games_off FROM (
  SELECT game_date, {CTX.game_id}, COUNT(*) AS context_rows FROM ({context}) AS c GROUP BY game_date, {CTX.game_id}
) AS g WHERE context_rows < {t.context_rows_per_game_min} OR context_rows > {t.context_rows_per_game_max}
GROUP BY game_date""", ("context_games_off",)),
        duplicate_keys_by_date(context, (CTX.player_lookup, CTX.game_id), "context_duplicate_keys"),
        matching_rows_by_date(context, {"context_null_keys": KEY_NULL}, "context_null_keys"),
        rows_by_date(box, "box_score_rows"),
        Part("box_games_off", f"""
WITH {_scheduled_teams(schedule, f"{S.game_status} = {FINAL_STATUS}")},
players AS (SELECT game_date, {BOX.team_abbr} AS team, COUNT(*) AS box_rows FROM ({box}) AS b
            GROUP BY game_date, {BOX.team_abbr}),
games AS (SELECT t.game_date, t.schedule_game_id, SUM(COALESCE(p.box_rows, 0)) AS box_rows FROM teams t
          LEFT JOIN players p ON p.game_date = t.game_date AND p.team = t.team
          GROUP BY t.game_date, t.schedule_game_id)
SELECT game_date, COUNT(*) AS box_games_off FROM games
WHERE box_rows < {t.box_score_rows_per_game_min} OR box_rows > {t.box_score_rows_per_game_max}
GROUP BY game_date""", ("box_games_off",)),
        duplicate_keys_by_date(box, (BOX.player_lookup, BOX.game_id), "box_duplicate_keys"),
        matching_rows_by_date(box, {
            "minutes_outside": outside_range(request.engine, PLAYER_GAME_SUMMARY, BOX.minutes_played, 0,
                                             t.minutes_played_max, null_allowed=DNP_SQL),
            "points_outside": outside_range(request.engine, PLAYER_GAME_SUMMARY, BOX.points, 0, t.points_max,
                                            null_allowed=DNP_SQL),
        }, "box_values"),
    )  # fmt: skip
    return RangeAudit(read_frame(warehouse, figures_sql(request, parts)), checks)
