"""Phase 5B (grading): prediction_accuracy for one game date.

Grading once inflated predicted_points 2-4x, wrote NaN, and was silently down for six days.
"""

from __future__ import annotations

from expectations.declare import (
    CheckedBatch,
    PhaseRequest,
    checker,
    duplicate_keys_sql,
    first_values_sql,
    no_failing_rows,
    outside_range,
    rows_outside_sql,
    sql_strings,
)
from expectations.definitions import ACTIVE_COLUMNS, active_predictions, gradable_predictions
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
from warehouse.catalog import PLAYER_GAME_SUMMARY, PREDICTION_ACCURACY, PREDICTIONS
from warehouse.connection import Warehouse
from warehouse.settings import Phase5BThresholds

G = PREDICTION_ACCURACY.c
P = PREDICTIONS.c
BOX = PLAYER_GAME_SUMMARY.c
KEY = (G.player_lookup, G.game_id, G.system_id)
NOT_VOIDED = f"COALESCE({G.is_voided}, FALSE) = FALSE"


def build_batches(request: PhaseRequest, thresholds: Phase5BThresholds) -> list[CheckedBatch]:
    t = thresholds
    named = checker(t)
    expected = _expected(t)
    checks = (
        named(
            "grading_coverage",
            expected["grading_coverage"],
            no_failing_rows(_coverage_sql(request, t)),
            "Gradable: active, final game (box score present), a line that is not the "
            f"{t.line_placeholder} placeholder, not invalidated. A six-day grading outage went unseen.",
        ),
        named(
            "grading_key_unique",
            expected["grading_key_unique"],
            no_failing_rows(duplicate_keys_sql(KEY)),
        ),
        named(
            "grading_errors_consistent",
            expected["grading_errors_consistent"],
            no_failing_rows(_errors_sql(t)),
            "Grading once inflated predicted_points 2-4x.",
        ),
        named(
            "grading_values_present",
            expected["grading_values_present"],
            no_failing_rows(_values_present_sql()),
            "NaN once reached grading; written to NUMERIC columns it lands as NULL.",
        ),
        named(
            "prediction_correct_null_when_no_bet",
            expected["prediction_correct_null_when_no_bet"],
            no_failing_rows(
                (
                    f"SELECT {', '.join(KEY)}, {G.recommendation}, {G.prediction_correct} FROM {{batch}}"
                    f" WHERE {_correct_on_no_bet(t)} ORDER BY {', '.join(KEY)}"
                )
            ),
        ),
        named(
            "grading_confidence_range",
            expected["grading_confidence_range"],
            no_failing_rows(
                rows_outside_sql(request, PREDICTION_ACCURACY, G.confidence_score, _confidence_bounds(t), KEY)
            ),
        ),
        named(
            "graded_points_match_prediction",
            expected["graded_points_match_prediction"],
            no_failing_rows(_points_match_sql(request)),
            "Grading once inflated predicted_points 2-4x.",
        ),
    )
    return [CheckedBatch(PREDICTION_ACCURACY.name, request.partition(PREDICTION_ACCURACY), checks)]


def _expected(t: Phase5BThresholds) -> dict[str, str]:
    """What the checks that a date and a range share expect, in words."""
    return {
        "grading_coverage": f"grading covers >= {t.min_grading_coverage:.0%} of gradable active predictions",
        "grading_key_unique": "one grading row per (player_lookup, game_id, system_id)",
        "grading_errors_consistent": "absolute_error = |predicted - actual| and signed_error = predicted - actual"
        f" (within {t.error_tolerance})",
        "grading_values_present": "actual_points, absolute_error, signed_error set on non-voided rows",
        "prediction_correct_null_when_no_bet": f"prediction_correct is NULL for {', '.join(t.no_bet_recommendations)}"
        " and a NULL recommendation",
        "grading_confidence_range": f"confidence_score between {t.confidence_score_min} and {t.confidence_score_max}"
        " (a 0-1 scale here); NULL fails",
        "graded_points_match_prediction": "predicted_points equals the active prediction's",
    }


def _confidence_bounds(t: Phase5BThresholds) -> tuple[float, float]:
    return t.confidence_score_min, t.confidence_score_max


def _active_predictions(request: PhaseRequest) -> str:
    return active_predictions(request.partition(PREDICTIONS, ACTIVE_COLUMNS))


def _coverage_sql(request: PhaseRequest, t: Phase5BThresholds) -> str:
    played = request.partition(PLAYER_GAME_SUMMARY, (BOX.player_lookup, BOX.game_id))
    return f"""
WITH gradable AS ({gradable_predictions(_active_predictions(request), played, t.line_placeholder)}
), graded AS (SELECT DISTINCT {", ".join(KEY)} FROM {{batch}}),
missing AS (
  SELECT g.player_lookup || '/' || g.system_id AS player_system FROM gradable g
  LEFT JOIN graded d
    ON d.{G.player_lookup} = g.player_lookup AND d.{G.game_id} = g.game_id AND d.{G.system_id} = g.system_id
  WHERE d.{G.player_lookup} IS NULL
), counts AS (
  SELECT (SELECT COUNT(*) FROM gradable) AS gradable, (SELECT COUNT(*) FROM missing) AS ungraded
)
SELECT
  CASE WHEN gradable = 0 THEN NULL ELSE ROUND((gradable - ungraded) / gradable, 4) END AS coverage,
  gradable - ungraded AS graded,
  gradable,
  ungraded,
  {first_values_sql("player_system", "missing", 20)} AS first_20_ungraded,
  (gradable = 0 OR gradable - ungraded < {t.min_grading_coverage} * gradable) AS failed
FROM counts
"""


def _errors_wrong(t: Phase5BThresholds) -> str:
    error = f"({G.predicted_points} - {G.actual_points})"
    return (
        f"{NOT_VOIDED} AND (ABS({G.absolute_error} - ABS({error})) > {t.error_tolerance}"
        f" OR ABS({G.signed_error} - {error}) > {t.error_tolerance})"
    )


VALUES_MISSING = (
    f"{NOT_VOIDED} AND ({' OR '.join(f'{c} IS NULL' for c in (G.actual_points, G.absolute_error, G.signed_error))})"
)


def _errors_sql(t: Phase5BThresholds) -> str:
    return (
        f"SELECT {', '.join(KEY)}, {G.predicted_points}, {G.actual_points}, {G.absolute_error}, {G.signed_error}"
        f" FROM {{batch}} WHERE {_errors_wrong(t)} ORDER BY {', '.join(KEY)}"
    )


def _values_present_sql() -> str:
    return (
        f"SELECT {', '.join(KEY)}, {G.actual_points}, {G.absolute_error}, {G.signed_error}"
        f" FROM {{batch}} WHERE {VALUES_MISSING} ORDER BY {', '.join(KEY)}"
    )


def _points_match_sql(request: PhaseRequest) -> str:
    return f"""
WITH graded AS (SELECT * FROM {{batch}}),
active AS ({_active_predictions(request)})
SELECT g.{G.player_lookup}, g.{G.game_id}, g.{G.system_id}, g.{G.predicted_points} AS graded_points
FROM graded g
LEFT JOIN active a
  ON a.{P.player_lookup} = g.{G.player_lookup} AND a.{P.game_id} = g.{G.game_id}
 AND a.{P.system_id} = g.{G.system_id} AND a.{P.predicted_points} = g.{G.predicted_points}
WHERE a.{P.player_lookup} IS NULL
ORDER BY g.{G.player_lookup}, g.{G.game_id}, g.{G.system_id}
"""


def _correct_on_no_bet(t: Phase5BThresholds) -> str:
    """A graded bet on a row whose recommendation says no bet was made, or says nothing (NULL)."""
    no_bet = f"({G.recommendation} IS NULL OR {G.recommendation} IN {sql_strings(t.no_bet_recommendations)})"
    return f"{no_bet} AND {G.prediction_correct} IS NOT NULL"


def audit(request: RangeRequest, thresholds: Phase5BThresholds, warehouse: Warehouse) -> RangeAudit:
    """Phase 5B over a range: one statement of per-date figures for grading."""
    t = thresholds
    named, counted = range_checkers(t)
    expected = _expected(t)
    checks = (
        named(
            "grading_rows_present",
            "grading rows on every date with final games",
            lambda f: missing_partition(f, "grading_rows", "grading", games="final_games"),
        ),
        named(
            "grading_coverage",
            expected["grading_coverage"],
            lambda f: when(
                not f["gradable"] or f["graded"] < t.min_grading_coverage * f["gradable"],
                f"graded {share(f['graded'], f['gradable'])} ({f['graded']} of {f['gradable']} gradable predictions)",
            ),
        ),
        counted("grading_key_unique", expected["grading_key_unique"], "grading_duplicate_keys", "duplicated keys"),
        counted(
            "grading_errors_consistent",
            expected["grading_errors_consistent"],
            "errors_wrong",
            "rows with inconsistent errors",
        ),
        counted(
            "grading_values_present",
            expected["grading_values_present"],
            "values_missing",
            "non-voided rows with NULL values",
        ),
        counted(
            "prediction_correct_null_when_no_bet",
            expected["prediction_correct_null_when_no_bet"],
            "correct_on_no_bet",
            "no-bet rows with prediction_correct set",
        ),
        counted("grading_confidence_range", expected["grading_confidence_range"], "confidence_outside", "rows outside"),
        counted(
            "graded_points_match_prediction",
            expected["graded_points_match_prediction"],
            "points_unmatched",
            "graded rows unlike their active prediction",
        ),
    )
    grading = request.window(PREDICTION_ACCURACY, PREDICTION_ACCURACY.columns)
    active = active_predictions(request.window(PREDICTIONS, ACTIVE_COLUMNS))
    box = request.window(PLAYER_GAME_SUMMARY, (BOX.game_date, BOX.player_lookup, BOX.game_id))
    keys = ", ".join(KEY)
    joined = " AND ".join(f"d.{column} = g.{column}" for column in KEY)
    parts = (
        rows_by_date(grading, "grading_rows"),
        Part("coverage", f"""
SELECT g.game_date, COUNT(*) AS gradable, COUNT(d.{G.player_lookup}) AS graded
FROM ({gradable_predictions(active, box, t.line_placeholder)}) AS g
LEFT JOIN (SELECT DISTINCT game_date, {keys} FROM ({grading}) AS r) AS d ON d.game_date = g.game_date AND {joined}
GROUP BY g.game_date""", ("gradable", "graded")),
        duplicate_keys_by_date(grading, KEY, "grading_duplicate_keys"),
        matching_rows_by_date(grading, {
            "errors_wrong": _errors_wrong(t),
            "values_missing": VALUES_MISSING,
            "correct_on_no_bet": _correct_on_no_bet(t),
            "confidence_outside": outside_range(request.engine, PREDICTION_ACCURACY, G.confidence_score,
                                                *_confidence_bounds(t)),
        }, "grading_values"),
        Part("points_unmatched", f"""
SELECT g.game_date, COUNT(*) AS points_unmatched FROM ({grading}) AS g
LEFT JOIN ({active}) AS a ON a.{P.game_date} = g.game_date AND a.{P.player_lookup} = g.{G.player_lookup}
 AND a.{P.game_id} = g.{G.game_id} AND a.{P.system_id} = g.{G.system_id}
 AND a.{P.predicted_points} = g.{G.predicted_points}
WHERE a.{P.player_lookup} IS NULL GROUP BY g.game_date""", ("points_unmatched",)),
    )  # fmt: skip
    return RangeAudit(read_frame(warehouse, figures_sql(request, parts)), checks)
