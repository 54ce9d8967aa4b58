"""Phase 5 (predictions): what must hold for a game date after the coordinator's MERGE.

Each check maps to a real incident: lost predictions (volume, coverage), silent shadow models
(system coverage), concurrent consolidations (key uniqueness), failed MERGEs leaving staging
tables behind, and values the platform clamps or enumerates.
"""

from __future__ import annotations

from great_expectations import expectations as gxe
from great_expectations.expectations.row_conditions import Column

from expectations.declare import (
    CheckedBatch,
    ExpectNoFailingRows,
    PhaseRequest,
    checker,
    duplicate_keys_sql,
    first_values_sql,
    sql_values_table,
)
from expectations.definitions import CONTEXT_COLUMNS, coverage_players
from warehouse.catalog import PREDICTIONS, UPCOMING_CONTEXT
from warehouse.dialect import staging_tables_query
from warehouse.settings import Era, Phase5Thresholds

P = PREDICTIONS.c
CTX = UPCOMING_CONTEXT.c
ACTIVE = Column(P.is_active) == True  # noqa: E712 (GX builds the condition from ==)
ACTIVE_SQL = f"{P.is_active} = TRUE"


def build_batches(request: PhaseRequest, thresholds: Phase5Thresholds, era: Era) -> list[CheckedBatch]:
    """The Phase 5 suite: every check runs against the date's partition of the predictions table."""
    t = thresholds
    named = checker(t)

    checks = [
        named(
            "active_prediction_count",
            f">= {t.min_active_predictions} active predictions",
            gxe.ExpectTableRowCountToBeBetween(min_value=t.min_active_predictions, row_condition=ACTIVE),
            "An empty partition fails: on 2026-02-07/08 schema drift failed every write and nothing alerted.",
        ),
        named(
            "predicted_player_count",
            f">= {t.min_predicted_players} players with an active prediction",
            gxe.ExpectColumnUniqueValueCountToBeBetween(
                column=P.player_lookup, min_value=t.min_predicted_players, row_condition=ACTIVE
            ),
        ),
        named(
            "player_coverage",
            f"coverage >= {t.min_player_coverage:.0%} of production-ready players "
            f"(status not in {', '.join(t.coverage_excluded_statuses)})",
            ExpectNoFailingRows(unexpected_rows_query=_player_coverage_sql(request, t)),
            "On 2025-12-29 a DML concurrency limit lost 57% of predictions (68 of 158 players written).",
        ),
        named(
            "system_coverage",
            f"each of {', '.join(era.system_ids)} ({era.name} era) predicts >= "
            f"{t.min_system_coverage:.0%} of the predicted players",
            ExpectNoFailingRows(unexpected_rows_query=_system_coverage_sql(era, t)),
            "Shadow models once produced almost nothing for two days, unnoticed.",
        ),
        named(
            "active_key_unique",
            "one active row per (game_id, player_lookup, system_id)",
            ExpectNoFailingRows(
                unexpected_rows_query=duplicate_keys_sql((P.game_id, P.player_lookup, P.system_id), ACTIVE_SQL)
            ),
            "On 2026-01-11 two concurrent consolidations wrote duplicate active predictions.",
        ),
        named(
            "consolidation_key_unique",
            "one row per (game_id, player_lookup, system_id, current_points_line), line compared exactly",
            ExpectNoFailingRows(
                unexpected_rows_query=duplicate_keys_sql(
                    (P.game_id, P.player_lookup, P.system_id, P.current_points_line), "TRUE"
                )
            ),
            "The MERGE key; an integer cast of the line once made 22.5 and 23.0 collide. A NULL line is one value.",
        ),
        named(
            "no_orphaned_staging_tables",
            f"no staging table of the date's batches older than {t.staging_grace_minutes} min",
            ExpectNoFailingRows(unexpected_rows_query=_staging_sql(request, t)),
            "Staging tables are deleted after a successful MERGE and kept when it fails: an old one is "
            "a failed MERGE. Younger ones are batches in flight; an unknown age counts as orphaned.",
        ),
        named(
            "predicted_points_range",
            f"predicted_points between {t.predicted_points_min} and {t.predicted_points_max}",
            gxe.ExpectColumnValuesToBeBetween(
                column=P.predicted_points,
                min_value=t.predicted_points_min,
                max_value=t.predicted_points_max,
                row_condition=ACTIVE,
            ),
        ),
        named(
            "confidence_score_range",
            f"confidence_score between {t.confidence_score_min} and {t.confidence_score_max}",
            gxe.ExpectColumnValuesToBeBetween(
                column=P.confidence_score,
                min_value=t.confidence_score_min,
                max_value=t.confidence_score_max,
                row_condition=ACTIVE,
            ),
        ),
        named(
            "recommendation_values",
            f"recommendation in {{{', '.join(t.recommendations)}}}",
            gxe.ExpectColumnValuesToBeInSet(
                column=P.recommendation, value_set=list(t.recommendations), row_condition=ACTIVE
            ),
        ),
    ]
    checks += [
        named(f"{column}_not_null", f"{column} is never NULL", gxe.ExpectColumnValuesToNotBeNull(column=column))
        for column in (P.prediction_id, P.player_lookup, P.game_id, P.system_id)
    ]
    return [CheckedBatch("player_prop_predictions", request.partition(PREDICTIONS), tuple(checks))]


def _player_coverage_sql(request: PhaseRequest, t: Phase5Thresholds) -> str:
    context = request.partition(UPCOMING_CONTEXT, CONTEXT_COLUMNS)
    statuses = t.coverage_excluded_statuses
    return f"""
WITH predicted AS (
  SELECT DISTINCT {P.player_lookup} AS player_lookup FROM {{batch}} WHERE {ACTIVE_SQL}
),
expected AS ({coverage_players(context, statuses)}),
excluded AS ({coverage_players(context, statuses, excluded=True)}),
missing AS (
  SELECT e.player_lookup FROM expected e
  LEFT JOIN predicted p ON p.player_lookup = e.player_lookup
  WHERE p.player_lookup IS NULL
), counts AS (
  SELECT (SELECT COUNT(*) FROM expected) AS expected_players,
         (SELECT COUNT(*) FROM missing) AS missing_players,
         (SELECT COUNT(*) FROM excluded) AS excluded_players
)
SELECT
  CASE WHEN expected_players = 0 THEN NULL
       ELSE ROUND((expected_players - missing_players) / expected_players, 4) END AS coverage,
  expected_players - missing_players AS covered_players,
  expected_players,
  excluded_players,
  missing_players,
  {first_values_sql("player_lookup", "missing", 50)} AS first_50_missing,
  (expected_players = 0 OR expected_players - missing_players < {t.min_player_coverage} * expected_players) AS failed
FROM counts
"""


def _system_coverage_sql(era: Era, t: Phase5Thresholds) -> str:
    return f"""
WITH active AS (
  SELECT {P.player_lookup} AS player_lookup, {P.system_id} AS system_id FROM {{batch}} WHERE {ACTIVE_SQL}
), predicted AS (
  SELECT COUNT(DISTINCT player_lookup) AS players FROM active
), per_system AS (
  SELECT system_id, COUNT(DISTINCT player_lookup) AS players FROM active GROUP BY system_id
), expected_systems AS ({sql_values_table("system_id", era.system_ids)})
SELECT
  e.system_id,
  COALESCE(s.players, 0) AS system_players,
  p.players AS predicted_players,
  CASE WHEN p.players = 0 THEN NULL ELSE ROUND(COALESCE(s.players, 0) / p.players, 4) END AS coverage,
  (p.players = 0 OR COALESCE(s.players, 0) < {t.min_system_coverage} * p.players) AS failed
FROM expected_systems e
CROSS JOIN predicted p
LEFT JOIN per_system s ON s.system_id = e.system_id
ORDER BY e.system_id
"""


def _staging_sql(request: PhaseRequest, t: Phase5Thresholds) -> str:
    staging = staging_tables_query(
        request.engine, request.datasets[PREDICTIONS.dataset_role], request.game_date, request.now
    )
    old = f"(age_minutes IS NULL OR age_minutes >= {t.staging_grace_minutes})"
    return f"""
SELECT table_name, batch_date, age_minutes,
  CASE WHEN age_minutes IS NULL THEN 'unknown age'
       WHEN age_minutes >= {t.staging_grace_minutes} THEN 'orphaned'
       ELSE 'in flight' END AS status,
  {old} AS failed
FROM ({staging}) AS staging
ORDER BY table_name
"""
