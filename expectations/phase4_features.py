"""Phase 4 (precompute): the ML feature store for one game date.

A feature column was all zeros for four months before anyone noticed; a player missing from the
feature store gets a prediction from defaults or none at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expectations.declare import (
    CheckedBatch,
    PhaseRequest,
    checker,
    duplicate_keys_sql,
    finite_non_zero,
    first_values_sql,
    no_failing_rows,
    not_in_values,
    outside_range,
    rows_not_in_sql,
    rows_outside_sql,
)
from expectations.ranges import (
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
    share,
    when,
)
from warehouse.catalog import FEATURE_STORE, FEATURE_VALUE_COLUMNS, UPCOMING_CONTEXT
from warehouse.connection import Warehouse
from warehouse.dialect import non_finite
from warehouse.settings import Phase4Thresholds

F = FEATURE_STORE.c
CTX = UPCOMING_CONTEXT.c
KEY = (F.player_lookup, F.game_id, F.feature_version)
IDENTITY = (F.player_lookup, F.game_id)  # what names a failing row


def build_batches(request: PhaseRequest, thresholds: Phase4Thresholds) -> list[CheckedBatch]:
    t = thresholds
    named = checker(t)
    expected = _expected(t)
    checks = (
        named(
            "feature_store_coverage",
            expected["feature_store_coverage"],
            no_failing_rows(_coverage_sql(request, t)),
            "A player without features is predicted from defaults, or not at all.",
        ),
        named(
            "feature_key_unique",
            expected["feature_key_unique"],
            no_failing_rows(duplicate_keys_sql(KEY)),
        ),
        named(
            "feature_quality_score_range",
            expected["feature_quality_score_range"],
            no_failing_rows(
                rows_outside_sql(request, FEATURE_STORE, F.feature_quality_score, _quality_bounds(t), IDENTITY)
            ),
        ),
        named(
            "quality_tier_values",
            expected["quality_tier_values"],
            no_failing_rows(rows_not_in_sql(F.quality_tier, t.quality_tiers, IDENTITY)),
        ),
        named(
            "feature_columns_not_constant_zero",
            expected["feature_columns_not_constant_zero"],
            no_failing_rows(_constant_zero_sql(request.engine)),
            "A feature column was all zeros for four months. NULL means no data, so a column all NULL has none.",
        ),
        named(
            "feature_values_finite",
            expected["feature_values_finite"],
            no_failing_rows(_non_finite_sql(request.engine)),
            "NaN and infinity are no data and no number: a model fed them predicts garbage, unlike from a NULL.",
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


def _quality_bounds(t: Phase4Thresholds) -> tuple[float, float]:
    return t.feature_quality_score_min, t.feature_quality_score_max


def _constant_zero_sql(engine: str) -> str:
    """Per feature column: its non-NULL rows and its finite non-zero rows; none of the latter fails."""
    non_zero = {column: f"SUM(CASE WHEN {finite_non_zero(engine, FEATURE_STORE, column)} THEN 1 ELSE 0 END)"
                for column in FEATURE_VALUE_COLUMNS}  # fmt: skip
    return "\nUNION ALL\n".join(
        f"SELECT '{column}' AS feature, COUNT({column}) AS non_null_rows, {counted} AS non_zero_rows,"
        f" COALESCE({counted}, 0) = 0 AS failed FROM {{batch}}"
        for column, counted in non_zero.items()
    )


def _non_finite_sql(engine: str) -> str:
    """Each NaN or +/-inf feature value, named by player, game and feature (the value as text: JSON has no NaN)."""
    return "\nUNION ALL\n".join(
        f"SELECT {F.player_lookup}, {F.game_id}, '{column}' AS feature, CAST({column} AS STRING) AS feature_value"
        f" FROM {{batch}} WHERE {non_finite(engine, column)}"
        for column in FEATURE_VALUE_COLUMNS
    )


def _expected(t: Phase4Thresholds) -> dict[str, str]:
    """What the checks that a date and a range share expect, in words."""
    return {
        "feature_store_coverage": f"feature rows for >= {t.min_feature_store_coverage:.0%}"
        " of production-ready context players",
        "feature_key_unique": "one row per (player_lookup, game_id, feature_version)",
        "feature_quality_score_range": f"feature_quality_score between {t.feature_quality_score_min}"
        f" and {t.feature_quality_score_max}; NULL fails",
        "quality_tier_values": f"quality_tier in {{{', '.join(t.quality_tiers)}}}; NULL fails",
        "feature_columns_not_constant_zero": "every feature_N_value has a finite non-zero value on the date"
        " (NULL, NaN and +/-inf do not count)",
        "feature_values_finite": "no feature_N_value is NaN or +/-inf (NULL, no data, is allowed)",
    }


def audit(request: RangeRequest, thresholds: Phase4Thresholds, warehouse: Warehouse) -> RangeAudit:
    """Phase 4 over a range: one statement of per-date figures for the feature store."""
    t = thresholds
    named, counted = range_checkers(t)
    expected = _expected(t)
    e = request.engine

    def zero_columns(f: Mapping[str, Any]) -> str | None:
        zero = [column for column in FEATURE_VALUE_COLUMNS if not f[f"nonzero_{column}"]]
        return when(
            bool(zero) and bool(f["feature_rows"]),
            f"{len(zero)} feature columns without a finite non-zero value: {', '.join(zero[:5])}",
        )

    checks = (
        named(
            "feature_rows_present",
            "feature rows on every date with games",
            lambda f: missing_partition(f, "feature_rows", "feature-store"),
        ),
        named(
            "feature_store_coverage",
            expected["feature_store_coverage"],
            lambda f: when(
                not f["ready_players"] or f["featured_players"] < t.min_feature_store_coverage * f["ready_players"],
                f"coverage {share(f['featured_players'], f['ready_players'])}"
                f" ({f['featured_players']} of {f['ready_players']} production-ready players)",
            ),
        ),
        counted("feature_key_unique", expected["feature_key_unique"], "feature_duplicate_keys", "duplicated keys"),
        counted(
            "feature_quality_score_range",
            expected["feature_quality_score_range"],
            "quality_score_outside",
            "rows outside",
        ),
        counted(
            "quality_tier_values", expected["quality_tier_values"], "unknown_quality_tier", "rows with another tier"
        ),
        named("feature_columns_not_constant_zero", expected["feature_columns_not_constant_zero"], zero_columns),
        counted(
            "feature_values_finite", expected["feature_values_finite"], "non_finite_rows", "rows with NaN or +/-inf"
        ),
    )
    features = request.window(FEATURE_STORE, (F.game_date, *KEY, F.feature_quality_score, F.quality_tier,
                                              *FEATURE_VALUE_COLUMNS))  # fmt: skip
    context = request.window(UPCOMING_CONTEXT, (CTX.game_date, CTX.player_lookup, CTX.game_id, CTX.is_production_ready))
    nonzero = {f"nonzero_{column}": finite_non_zero(e, FEATURE_STORE, column) for column in FEATURE_VALUE_COLUMNS}
    any_non_finite = " OR ".join(non_finite(e, column) for column in FEATURE_VALUE_COLUMNS)
    parts = (
        rows_by_date(features, "feature_rows"),
        Part("coverage", f"""
SELECT e.game_date, COUNT(*) AS ready_players, COUNT(f.player_lookup) AS featured_players
FROM (SELECT DISTINCT game_date, {CTX.player_lookup} AS player_lookup, {CTX.game_id} AS game_id FROM ({context}) AS c
      WHERE {CTX.is_production_ready} = TRUE) AS e
LEFT JOIN (SELECT DISTINCT game_date, {F.player_lookup} AS player_lookup, {F.game_id} AS game_id
           FROM ({features}) AS r) AS f
  ON f.game_date = e.game_date AND f.player_lookup = e.player_lookup AND f.game_id = e.game_id
GROUP BY e.game_date""", ("ready_players", "featured_players")),
        duplicate_keys_by_date(features, KEY, "feature_duplicate_keys"),
        matching_rows_by_date(features, {
            "quality_score_outside": outside_range(e, FEATURE_STORE, F.feature_quality_score, *_quality_bounds(t)),
            "unknown_quality_tier": not_in_values(F.quality_tier, t.quality_tiers),
            "non_finite_rows": any_non_finite,
            **nonzero,
        }, "feature_values"),
    )  # fmt: skip
    return RangeAudit(read_frame(warehouse, figures_sql(request, parts)), checks)
