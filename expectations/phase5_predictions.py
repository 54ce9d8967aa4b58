"""Phase 5 (predictions): what must hold for a game date after the coordinator's MERGE.

Each check maps to a real incident: lost predictions (volume, coverage), silent shadow models
(system coverage), concurrent consolidations (key uniqueness), failed MERGEs leaving staging
tables behind, and values the platform clamps or enumerates.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from expectations.declare import (
    CheckedBatch,
    PhaseRequest,
    checker,
    count_between_sql,
    duplicate_keys_sql,
    first_values_sql,
    no_failing_rows,
    not_in_values,
    null_rows_sql,
    outside_range,
    rows_not_in_sql,
    rows_outside_sql,
    sql_values_table,
)
from expectations.definitions import ACTIVE_COLUMNS, CONTEXT_COLUMNS, active_predictions, coverage_players
from expectations.ranges import (
    Part,
    RangeAudit,
    RangeRequest,
    as_date,
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
from warehouse.catalog import PARTITION_COLUMN, PREDICTIONS, SCHEDULE, UPCOMING_CONTEXT, Table
from warehouse.connection import Warehouse
from warehouse.dialect import date_literal, staging_tables_by_date_query, staging_tables_query
from warehouse.settings import Era, Phase5Thresholds, Settings

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

P = PREDICTIONS.c
S = SCHEDULE.c
CTX = UPCOMING_CONTEXT.c
IDENTITY = (P.player_lookup, P.system_id)  # what names a failing row
ACTIVE_SQL = f"{P.is_active} = TRUE"
# On every row, active or not; a NULL is_active row is neither, and every read (is_active = TRUE) drops it.
NEVER_NULL = (P.prediction_id, P.player_lookup, P.game_id, P.system_id, P.is_active)
STAGING_TABLES = "staging_tables"  # the asset of the predictions dataset's _staging_* tables


@dataclass(frozen=True)
class VolumeBaseline:
    """Active predictions per scheduled game on the trailing game dates (and their games), and the date's games."""

    per_game: tuple[float, ...]  # most recent first
    games: int
    trailing_games: tuple[int, ...] = ()  # games of each trailing date, as per_game

    def bounds(self, t: Phase5Thresholds) -> tuple[int, int] | None:
        """The date's allowed active-prediction count, or None without enough history to judge.

        A per-game average over fewer games varies more (its spread goes with 1/sqrt(games)), so a
        slate smaller than the trailing dates' usual one gets proportionally wider bounds.
        """
        if len(self.per_game) < t.volume_min_history:
            return None
        median = statistics.median(self.per_game)
        mad = max(statistics.median(abs(value - median) for value in self.per_game), t.volume_min_mad_share * median)
        usual_games = statistics.median(self.trailing_games) if self.trailing_games else self.games
        slack = t.volume_mad_k * mad * math.sqrt(max(1.0, usual_games / max(self.games, 1)))
        return max(0, math.floor((median - slack) * self.games)), math.ceil((median + slack) * self.games)


def volume_baseline(request: PhaseRequest, warehouse: Warehouse, t: Phase5Thresholds) -> VolumeBaseline:
    """One query over the lookback window (a game_date range): games and active rows per date."""
    first = request.game_date - timedelta(days=t.volume_lookback_days)
    daily = _daily_volume(warehouse, request.table, first, request.game_date)
    return _baseline(daily, request.game_date, t)


def _daily_volume(
    warehouse: Warehouse, table: Callable[[Table], str], first: date, last: date
) -> list[tuple[date, int, int]]:
    """(game_date, games, active rows) of each date with games from first to last, newest first."""
    window = f"{PARTITION_COLUMN} BETWEEN {date_literal(first)} AND {date_literal(last)}"
    sql = f"""
SELECT s.game_date, s.games, COALESCE(a.active, 0) AS active
FROM (SELECT {S.game_date} AS game_date, COUNT(*) AS games FROM {table(SCHEDULE)} WHERE {window}
      GROUP BY {S.game_date}) AS s
LEFT JOIN (SELECT {P.game_date} AS game_date, COUNT(*) AS active FROM {table(PREDICTIONS)}
           WHERE {window} AND {ACTIVE_SQL} GROUP BY {P.game_date}) AS a
  ON a.game_date = s.game_date
ORDER BY s.game_date DESC"""
    with warehouse.connect() as connection:
        return [(as_date(day), int(games), int(active)) for day, games, active in connection.execute(sa.text(sql))]


def _baseline(daily: list[tuple[date, int, int]], day: date, t: Phase5Thresholds) -> VolumeBaseline:
    """The date's games, and the active rows per game of the game dates before it (within the lookback)
    that had predictions: a missing partition fails its own checks and is no measure of normal volume."""
    first = day - timedelta(days=t.volume_lookback_days)
    games = next((count for other, count, _ in daily if other == day), 0)
    trailing = [(active / count, count) for other, count, active in daily if first <= other < day and active]
    trailing = trailing[: t.volume_trailing_dates]
    return VolumeBaseline(
        per_game=tuple(rate for rate, _ in trailing), games=games, trailing_games=tuple(n for _, n in trailing)
    )


def build_batches(
    request: PhaseRequest, thresholds: Phase5Thresholds, era: Era, volume: VolumeBaseline
) -> list[CheckedBatch]:
    """The Phase 5 suite: every check runs against the date's partition of the predictions table."""
    t = thresholds
    named = checker(t)
    expected = _expected(t)
    checks = [
        named(
            "active_prediction_count",
            expected["active_prediction_count"],
            _active_rows_between(t.min_active_predictions),
            "An empty partition fails: on 2026-02-07/08 schema drift failed every write and nothing alerted.",
        ),
        _volume_check(named, t, volume),
        named(
            "predicted_player_count",
            expected["predicted_player_count"],
            no_failing_rows(
                count_between_sql(
                    "predicted_players", f"COUNT(DISTINCT {P.player_lookup})", t.min_predicted_players, where=ACTIVE_SQL
                )
            ),
        ),
        named(
            "player_coverage",
            expected["player_coverage"],
            no_failing_rows(_player_coverage_sql(request, t)),
            "On 2025-12-29 a DML concurrency limit lost 57% of predictions (68 of 158 players written).",
        ),
        named(
            "system_coverage",
            f"each of {', '.join(era.system_ids)} ({era.name} era) predicts >= "
            f"{t.min_system_coverage:.0%} of the predicted players",
            no_failing_rows(_system_coverage_sql(era, t)),
            "Shadow models once produced almost nothing for two days, unnoticed.",
        ),
        named(
            "active_key_unique",
            expected["active_key_unique"],
            no_failing_rows(duplicate_keys_sql((P.game_id, P.player_lookup, P.system_id), ACTIVE_SQL)),
            "On 2026-01-11 two concurrent consolidations wrote duplicate active predictions.",
        ),
        named(
            "consolidation_key_unique",
            expected["consolidation_key_unique"],
            no_failing_rows(
                duplicate_keys_sql((P.game_id, P.player_lookup, P.system_id, P.current_points_line), "TRUE")
            ),
            "The MERGE key; an integer cast of the line once made 22.5 and 23.0 collide. A NULL line is one value.",
        ),
        named(
            "predicted_points_range",
            expected["predicted_points_range"],
            no_failing_rows(
                rows_outside_sql(request, PREDICTIONS, P.predicted_points, _points_bounds(t), IDENTITY, ACTIVE_SQL)
            ),
        ),
        named(
            "confidence_score_range",
            expected["confidence_score_range"],
            no_failing_rows(
                rows_outside_sql(request, PREDICTIONS, P.confidence_score, _confidence_bounds(t), IDENTITY, ACTIVE_SQL)
            ),
        ),
        named(
            "recommendation_values",
            expected["recommendation_values"],
            no_failing_rows(rows_not_in_sql(P.recommendation, t.recommendations, IDENTITY, ACTIVE_SQL)),
        ),
    ]
    checks += [
        named(
            f"{column}_not_null",
            expected[f"{column}_not_null"],
            no_failing_rows(null_rows_sql(column, IDENTITY)),
        )
        for column in NEVER_NULL
    ]
    staging_check = named(
        "no_orphaned_staging_tables",
        expected["no_orphaned_staging_tables"],
        no_failing_rows(STAGING_SQL),
        "Staging tables are deleted after a successful MERGE and kept when it fails: an old one is a failed"
        " MERGE. Younger ones are batches in flight; an unknown age, or a table created after the run time"
        " (a clock problem or a wrong --now), fails.",
    )
    return [
        CheckedBatch(PREDICTIONS.name, request.partition(PREDICTIONS), tuple(checks)),
        # The dataset's table list is another source, with a statement of its own.
        CheckedBatch(STAGING_TABLES, _staging_tables(request, t), (staging_check,)),
    ]


def _expected(t: Phase5Thresholds) -> dict[str, str]:
    """What the checks that a date and a range share expect, in words."""
    return {
        "active_prediction_count": f">= {t.min_active_predictions} active predictions",
        "predicted_player_count": f">= {t.min_predicted_players} players with an active prediction",
        "player_coverage": f"coverage >= {t.min_player_coverage:.0%} of production-ready players"
        f" (status not in {', '.join(t.coverage_excluded_statuses)})",
        "active_key_unique": "one active row per (game_id, player_lookup, system_id)",
        "consolidation_key_unique": "one row per (game_id, player_lookup, system_id, current_points_line),"
        " line compared exactly",
        "no_orphaned_staging_tables": "every staging table of the date's batches (or of no batch date)"
        f" created 0 to {t.staging_grace_minutes} min before the run time",
        "predicted_points_range": f"predicted_points between {t.predicted_points_min} and {t.predicted_points_max}"
        " on active rows; NULL fails",
        "confidence_score_range": f"confidence_score between {t.confidence_score_min} and {t.confidence_score_max}"
        " on active rows; NULL fails",
        "recommendation_values": f"recommendation in {{{', '.join(t.recommendations)}}} on active rows; NULL fails",
        **{f"{column}_not_null": f"{column} is never NULL" for column in NEVER_NULL},
    }


def _points_bounds(t: Phase5Thresholds) -> tuple[float, float]:
    return t.predicted_points_min, t.predicted_points_max


def _confidence_bounds(t: Phase5Thresholds) -> tuple[float, float]:
    return t.confidence_score_min, t.confidence_score_max


def _volume_check(named: Callable[..., Expectation], t: Phase5Thresholds, volume: VolumeBaseline) -> Expectation:
    bounds = volume.bounds(t)
    history = f"the last {len(volume.per_game)} game dates with predictions"
    if bounds is None:
        too_few = f"{history}, fewer than {t.volume_min_history}"
        # No bounds to judge by: declared skipped (shown as SKIP, never a pass); the count of active rows
        # is still measured and shown.
        return named("active_prediction_volume", f"not judged: {too_few}", _active_rows_between(0), skipped=too_few)
    low, high = bounds
    expected = (
        f"{low}..{high} active predictions for {volume.games} games"
        f" (median +/- {t.volume_mad_k:g} MAD per game of {history})"
    )
    return named(
        "active_prediction_volume",
        expected,
        _active_rows_between(low, high),
        "A slow decline or a sudden spike can stay above the fixed floors.",
    )


def _active_rows_between(low: int, high: int | None = None) -> Expectation:
    return no_failing_rows(count_between_sql("active_predictions", "COUNT(*)", low, high, ACTIVE_SQL))


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


def _staging_tables(request: PhaseRequest, t: Phase5Thresholds) -> str:
    """The date's staging tables from the dataset's table list, each already judged by the one staging rule
    (warehouse.dialect), so the check only lists them."""
    dataset = request.datasets[PREDICTIONS.dataset_role]
    return staging_tables_query(request.engine, dataset, t.staging_grace_minutes, request.now, request.game_date)


STAGING_SQL = "SELECT table_name, batch_date, age_minutes, status, failed FROM {batch} AS staging ORDER BY table_name"


def audit(request: RangeRequest, settings: Settings, warehouse: Warehouse) -> RangeAudit:
    """Phase 5 over a range: the coverage figures (two statements), the daily volume with its lookback
    (one) and the staging tables (one); eras and baselines applied per date."""
    t = settings.phase5
    named, counted = range_checkers(t)
    expected = _expected(t)
    checks = (
        named(
            "prediction_rows_present",
            "prediction rows on every date with games",
            lambda f: missing_partition(f, "prediction_rows", "prediction"),
        ),
        named(
            "active_prediction_count",
            expected["active_prediction_count"],
            lambda f: when(f["active_rows"] < t.min_active_predictions, f"{f['active_rows']} active predictions"),
        ),
        named(
            "active_prediction_volume",
            f"within median +/- {t.volume_mad_k:g} MAD per game of the last"
            f" {t.volume_trailing_dates} game dates with predictions",
            lambda f: when(
                f["volume_low"] >= 0 and not f["volume_low"] <= f["active_rows"] <= f["volume_high"],
                f"{f['active_rows']} active predictions, expected {f['volume_low']}..{f['volume_high']}"
                f" for {f['games']} games",
            ),
        ),
        named(
            "predicted_player_count",
            expected["predicted_player_count"],
            lambda f: when(
                f["predicted_players"] < t.min_predicted_players, f"{f['predicted_players']} players predicted"
            ),
        ),
        named(
            "player_coverage",
            expected["player_coverage"],
            lambda f: when(
                not f["expected_players"] or f["covered_players"] < t.min_player_coverage * f["expected_players"],
                f"coverage {share(f['covered_players'], f['expected_players'])}"
                f" ({f['covered_players']} of {f['expected_players']} expected players)",
            ),
        ),
        named(
            "system_coverage",
            f"each system of the date's era predicts >= {t.min_system_coverage:.0%} of the predicted players",
            lambda f: f["systems_short"] or None,
        ),
        counted("active_key_unique", expected["active_key_unique"], "active_duplicate_keys", "duplicated active keys"),
        counted(
            "consolidation_key_unique",
            expected["consolidation_key_unique"],
            "consolidation_duplicate_keys",
            "duplicated MERGE keys",
        ),
        named(
            "no_orphaned_staging_tables",
            expected["no_orphaned_staging_tables"],
            lambda f: f["orphaned_staging"] or None,
        ),
        counted("predicted_points_range", expected["predicted_points_range"], "points_outside", "active rows outside"),
        counted(
            "confidence_score_range", expected["confidence_score_range"], "confidence_outside", "active rows outside"
        ),
        counted(
            "recommendation_values",
            expected["recommendation_values"],
            "unknown_recommendation",
            "active rows with another value",
        ),
        *(
            counted(
                f"{column}_not_null", expected[f"{column}_not_null"], f"null_{column}", f"rows with a NULL {column}"
            )
            for column in NEVER_NULL
        ),
    )
    figures = coverage_figures(request, settings, warehouse)
    daily = _daily_volume(warehouse, request.table, request.start - timedelta(days=t.volume_lookback_days), request.end)
    bounds = [_baseline(daily, day, t).bounds(t) or (-1, -1) for day in figures[PARTITION_COLUMN]]
    figures["volume_low"], figures["volume_high"] = [low for low, _ in bounds], [high for _, high in bounds]
    figures["orphaned_staging"] = _orphaned_by_date(request, warehouse, settings, figures[PARTITION_COLUMN])
    return RangeAudit(figures, checks)


def coverage_figures(request: RangeRequest, settings: Settings, warehouse: Warehouse) -> pd.DataFrame:
    """Per scheduled date of the range: rows, coverage, per-system and duplicate figures (two statements).
    What `audit` judges, and what `nba-dq health` shows, without the audit's volume and staging reads."""
    t = settings.phase5
    predictions = request.window(PREDICTIONS, (*ACTIVE_COLUMNS, P.prediction_id, P.confidence_score, P.recommendation))
    active = active_predictions(predictions)
    expected_players = coverage_players(request.window(UPCOMING_CONTEXT, CONTEXT_COLUMNS), t.coverage_excluded_statuses)
    parts = (
        rows_by_date(predictions, "prediction_rows"),
        rows_by_date(active, "active_rows"),
        Part("predicted_players", f"SELECT game_date, COUNT(DISTINCT {P.player_lookup}) AS predicted_players"
             f" FROM ({active}) AS a GROUP BY game_date", ("predicted_players",)),
        Part("coverage", f"""
SELECT e.game_date, COUNT(*) AS expected_players, COUNT(a.player_lookup) AS covered_players
FROM ({expected_players}) AS e
LEFT JOIN (SELECT DISTINCT game_date, {P.player_lookup} AS player_lookup FROM ({active}) AS a) AS a
  ON a.game_date = e.game_date AND a.player_lookup = e.player_lookup
GROUP BY e.game_date""", ("expected_players", "covered_players")),
        duplicate_keys_by_date(active, (P.game_id, P.player_lookup, P.system_id), "active_duplicate_keys"),
        duplicate_keys_by_date(predictions, (P.game_id, P.player_lookup, P.system_id, P.current_points_line),
                               "consolidation_duplicate_keys"),
        matching_rows_by_date(active, {
            "points_outside": outside_range(request.engine, PREDICTIONS, P.predicted_points, *_points_bounds(t)),
            "confidence_outside": outside_range(request.engine, PREDICTIONS, P.confidence_score,
                                                *_confidence_bounds(t)),
            "unknown_recommendation": not_in_values(P.recommendation, t.recommendations),
        }, "active_values"),
        matching_rows_by_date(predictions, {f"null_{column}": f"{column} IS NULL" for column in NEVER_NULL},
                              "null_keys"),
    )  # fmt: skip
    figures = read_frame(warehouse, figures_sql(request, parts))
    players: dict[date, dict[str, int]] = {}
    covered: dict[date, int] = {}  # expected players x era systems with an active prediction
    systems = read_frame(warehouse, system_players_sql(active, expected_players))
    for day, system, count, expected_count in systems.itertuples(index=False, name=None):
        players.setdefault(day, {})[system] = int(count)
        if system in settings.era_for(day).system_ids:
            covered[day] = covered.get(day, 0) + int(expected_count)
    figures["covered_predictions"] = [covered.get(day, 0) for day in figures[PARTITION_COLUMN]]
    figures["expected_predictions"] = [
        expected * len(settings.era_for(day).system_ids)
        for day, expected in zip(figures[PARTITION_COLUMN], figures["expected_players"], strict=True)
    ]
    figures["systems_short"] = [
        _systems_short(day, predicted, players.get(day, {}), settings)
        for day, predicted in zip(figures[PARTITION_COLUMN], figures["predicted_players"], strict=True)
    ]
    return figures


def system_players_sql(active: str, expected_players: str) -> str:
    """Per (date, system): players with an active prediction, and how many of them are expected players."""
    return f"""
SELECT a.game_date, a.{P.system_id} AS system_id, COUNT(DISTINCT a.{P.player_lookup}) AS players,
  COUNT(DISTINCT e.player_lookup) AS expected_players
FROM ({active}) AS a
LEFT JOIN ({expected_players}) AS e ON e.game_date = a.game_date AND e.player_lookup = a.{P.player_lookup}
GROUP BY a.game_date, a.{P.system_id}"""


def _systems_short(day: date, predicted: int, players: Mapping[str, int], settings: Settings) -> str:
    """The era's systems predicting fewer than the share of the date's predicted players, in words."""
    era, minimum = settings.era_for(day), settings.phase5.min_system_coverage
    short = [
        f"{system} {players.get(system, 0)}"
        for system in era.system_ids
        if not predicted or players.get(system, 0) < minimum * predicted
    ]
    if not short:
        return ""
    return f"{era.name} era systems under {minimum:.0%} of {predicted} predicted players: {', '.join(short)}"


def _orphaned_by_date(request: RangeRequest, warehouse: Warehouse, settings: Settings, days: Any) -> list[str]:
    """Per date, what `run` would fail among its staging tables, judged as of the date's daily run (one
    statement, the same rule as the check): its batches' tables and every one without a batch date."""
    run_times = {day: settings.run_time(day, request.clock) for day in days}
    if not run_times:
        return []
    dataset = request.datasets[PREDICTIONS.dataset_role]
    staging = staging_tables_by_date_query(request.engine, dataset, settings.phase5.staging_grace_minutes, run_times)
    found: dict[date, list[str]] = {}
    for row in read_frame(warehouse, f"{staging} ORDER BY game_date, table_name").itertuples(index=False):
        if row.failed:
            shown = f"{row.table_name} ({staging_state(row.status, row.age_minutes)})"
            found.setdefault(row.game_date, []).append(shown)
    return ["; ".join(found.get(day, [])) for day in days]


def staging_state(status: str, age_minutes: float | None) -> str:
    """A judged staging table's status and age, in words (what the audit and health print)."""
    return status if age_minutes is None or pd.isna(age_minutes) else f"{status}, {age_minutes:g} min"
