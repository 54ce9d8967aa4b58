"""Phase 4 (precompute): the ML feature store for one game date.

A feature column was all zeros for four months before anyone noticed; a player missing from the
feature store gets a prediction from defaults or none at all.
"""

from __future__ import annotations

from great_expectations import expectations as gxe

from expectations.declare import (
    CheckedBatch,
    ExpectNoFailingRows,
    PhaseRequest,
    checker,
    duplicate_keys_sql,
    first_values_sql,
)
from warehouse.catalog import FEATURE_STORE, FEATURE_VALUE_COLUMNS, UPCOMING_CONTEXT
from warehouse.settings import Phase4Thresholds

F = FEATURE_STORE.c
CTX = UPCOMING_CONTEXT.c


def build_batches(request: PhaseRequest, thresholds: Phase4Thresholds) -> list[CheckedBatch]:
    t = thresholds
    named = checker(t)
    checks = (
        named(
            "feature_store_coverage",
            f"feature rows for >= {t.min_feature_store_coverage:.0%} of production-ready context players",
            ExpectNoFailingRows(unexpected_rows_query=_coverage_sql(request, t)),
            "A player without features is predicted from defaults, or not at all.",
        ),
        named(
            "feature_key_unique",
            "one row per (player_lookup, game_id, feature_version)",
            ExpectNoFailingRows(
                unexpected_rows_query=duplicate_keys_sql((F.player_lookup, F.game_id, F.feature_version))
            ),
        ),
        named(
            "feature_quality_score_range",
            f"feature_quality_score between {t.feature_quality_score_min} and {t.feature_quality_score_max}",
            gxe.ExpectColumnValuesToBeBetween(
                column=F.feature_quality_score,
                min_value=t.feature_quality_score_min,
                max_value=t.feature_quality_score_max,
            ),
        ),
        named(
            "quality_tier_values",
            f"quality_tier in {{{', '.join(t.quality_tiers)}}}",
            gxe.ExpectColumnValuesToBeInSet(column=F.quality_tier, value_set=list(t.quality_tiers)),
        ),
        named(
            "feature_columns_not_constant_zero",
            "every feature_N_value has a non-NULL, non-zero value on the date",
            ExpectNoFailingRows(unexpected_rows_query=_constant_zero_sql()),
            "A feature column was all zeros for four months.",
        ),
    )
    return [CheckedBatch(FEATURE_STORE.name, request.partition(FEATURE_STORE), checks)]


def _coverage_sql(request: PhaseRequest, t: Phase4Thresholds) -> str:
    context = request.partition(UPCOMING_CONTEXT, (CTX.player_lookup, CTX.game_id, CTX.is_production_ready))
    return f"""
WITH expected AS (
  SELECT DISTINCT {CTX.player_lookup} AS player_lookup, {CTX.game_id} AS game_id
  FROM ({context}) AS context WHERE {CTX.is_production_ready} = TRUE
), featured AS (
  SELECT DISTINCT {F.player_lookup} AS player_lookup, {F.game_id} AS game_id FROM {{batch}}
), missing AS (
  SELECT e.player_lookup FROM expected e
  LEFT JOIN featured f ON f.player_lookup = e.player_lookup AND f.game_id = e.game_id
  WHERE f.player_lookup IS NULL
), counts AS (
  SELECT (SELECT COUNT(*) FROM expected) AS expected_players, (SELECT COUNT(*) FROM missing) AS missing_players
)
SELECT
  CASE WHEN expected_players = 0 THEN NULL
       ELSE ROUND((expected_players - missing_players) / expected_players, 4) END AS coverage,
  expected_players - missing_players AS featured_players,
  expected_players,
  missing_players,
  {first_values_sql("player_lookup", "missing", 50)} AS first_50_missing,
  (expected_players = 0 OR expected_players - missing_players < {t.min_feature_store_coverage} * expected_players)
    AS failed
FROM counts
"""


def _constant_zero_sql() -> str:
    return "\nUNION ALL\n".join(
        f"SELECT '{column}' AS feature, COUNT({column}) AS non_null_rows,"
        f" SUM(CASE WHEN {column} <> 0 THEN 1 ELSE 0 END) AS non_zero_rows,"
        f" COALESCE(SUM(CASE WHEN {column} <> 0 THEN 1 ELSE 0 END), 0) = 0 AS failed FROM {{batch}}"
        for column in FEATURE_VALUE_COLUMNS
    )
