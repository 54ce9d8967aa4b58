"""Phase 5 (predictions): what must hold for a game date after the coordinator's MERGE.

Each check maps to a real incident: lost predictions (volume, coverage), silent shadow models
(system coverage), concurrent consolidations (key uniqueness), failed MERGEs leaving staging
tables behind, and values the platform clamps or enumerates.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from great_expectations import expectations as gxe
from great_expectations.expectations import Expectation
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
from warehouse.catalog import PARTITION_COLUMN, PREDICTIONS, SCHEDULE, UPCOMING_CONTEXT
from warehouse.connection import Warehouse
from warehouse.dialect import date_literal, staging_tables_query
from warehouse.settings import Era, Phase5Thresholds

P = PREDICTIONS.c
S = SCHEDULE.c
CTX = UPCOMING_CONTEXT.c
ACTIVE = Column(P.is_active) == True  # noqa: E712 (GX builds the condition from ==)
ACTIVE_SQL = f"{P.is_active} = TRUE"


@dataclass(frozen=True)
class VolumeBaseline:
    """Active predictions per scheduled game on the trailing game dates, and the date's games."""

    per_game: tuple[float, ...]  # most recent first
    games: int

    def bounds(self, t: Phase5Thresholds) -> tuple[int, int] | None:
        """The date's allowed active-prediction count, or None without enough history to judge."""
        if len(self.per_game) < t.volume_min_history:
            return None
        median = statistics.median(self.per_game)
        mad = max(statistics.median(abs(value - median) for value in self.per_game), 0.01 * median)
        low, high = median - t.volume_mad_k * mad, median + t.volume_mad_k * mad
        return max(0, math.floor(low * self.games)), math.ceil(high * self.games)


def volume_baseline(request: PhaseRequest, warehouse: Warehouse, t: Phase5Thresholds) -> VolumeBaseline:
    """One query over the lookback window (a game_date range): games and active rows per date."""
    first = request.game_date - timedelta(days=t.volume_lookback_days)
    window = f"{PARTITION_COLUMN} BETWEEN {date_literal(first)} AND {date_literal(request.game_date)}"
    sql = f"""
SELECT s.game_date, s.games, COALESCE(a.active, 0) AS active
FROM (SELECT {S.game_date} AS game_date, COUNT(*) AS games FROM {request.table(SCHEDULE)} WHERE {window}
      GROUP BY {S.game_date}) AS s
LEFT JOIN (SELECT {P.game_date} AS game_date, COUNT(*) AS active FROM {request.table(PREDICTIONS)}
           WHERE {window} AND {ACTIVE_SQL} GROUP BY {P.game_date}) AS a
  ON a.game_date = s.game_date
ORDER BY s.game_date DESC"""
    with warehouse.connect() as connection:
        rows = [(str(day)[:10], int(games), int(active)) for day, games, active in connection.execute(sa.text(sql))]
    today = request.game_date.isoformat()
    games = next((count for day, count, _ in rows if day == today), 0)
    trailing = [active / count for day, count, active in rows if day != today][: t.volume_trailing_dates]
    return VolumeBaseline(per_game=tuple(trailing), games=games)


def build_batches(
    request: PhaseRequest, thresholds: Phase5Thresholds, era: Era, volume: VolumeBaseline
) -> list[CheckedBatch]:
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
        _volume_check(named, t, volume),
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


def _volume_check(named: Callable[..., Expectation], t: Phase5Thresholds, volume: VolumeBaseline) -> Expectation:
    bounds = volume.bounds(t)
    history = f"the last {len(volume.per_game)} game dates"
    if bounds is None:
        expected = f"not judged: {history}, fewer than {t.volume_min_history}"
        return named(
            "active_prediction_volume", expected, gxe.ExpectTableRowCountToBeBetween(min_value=0, row_condition=ACTIVE)
        )
    low, high = bounds
    expected = (
        f"{low}..{high} active predictions for {volume.games} games"
        f" (median +/- {t.volume_mad_k:g} MAD per game of {history})"
    )
    return named(
        "active_prediction_volume",
        expected,
        gxe.ExpectTableRowCountToBeBetween(min_value=low, max_value=high, row_condition=ACTIVE),
        "A slow decline or a sudden spike can stay above the fixed floors.",
    )


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
