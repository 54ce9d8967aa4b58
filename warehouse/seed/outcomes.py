"""What happened after tip-off: box scores (Phase 3's player_game_summary) and grading (Phase 5B)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from warehouse.catalog import PLAYER_GAME_SUMMARY, PREDICTION_ACCURACY, PREDICTIONS, UPCOMING_CONTEXT
from warehouse.seed.faults import UNPREDICTED_STATUSES

PLACEHOLDER_LINE = 20.0  # the platform's known placeholder line: never graded
TEAM_PLAYERS = (9, 15)  # players who play, per team and game
GRADED_AT = time(8, tzinfo=timezone.utc)  # grading runs the morning after the games
_PLAYS = 0.995
_QUESTIONABLE_PLAYS = 0.75
_MAX_POINTS = 45
_NO_BET = ("PASS", "HOLD", "NO_LINE")
_C = UPCOMING_CONTEXT.c
_B = PLAYER_GAME_SUMMARY.c
_P = PREDICTIONS.c
_G = PREDICTION_ACCURACY.c
_READ_COLUMNS = (
    _P.player_lookup,
    _P.game_id,
    _P.system_id,
    _P.predicted_points,
    _P.confidence_score,
    _P.recommendation,
    _P.current_points_line,
    _P.is_active,
    _P.invalidation_reason,
    _P.updated_at,
)


def box_scores(day: date, season_year: int, context: dict[str, list], rng: random.Random) -> pd.DataFrame:
    """Who played each game and what they scored, drawn from the whole context: the games were played in full."""
    rows: dict[str, list] = {column: [] for column in PLAYER_GAME_SUMMARY.columns}
    teams: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for fields in zip(*context.values(), strict=True):
        record = dict(zip(context, fields, strict=True))
        teams.setdefault((record[_C.game_id], record[_C.team_abbr]), []).append(record)
    for (game_id, team), players in teams.items():
        for player in _who_played(players, rng):
            values = {
                _B.player_lookup: player[_C.player_lookup],
                _B.game_id: game_id,
                _B.game_date: day,
                _B.team_abbr: team,
                _B.opponent_team_abbr: player[_C.opponent_team_abbr],
                _B.season_year: season_year,
                _B.is_active: True,
                _B.is_dnp: False,
                **_stat_line(player, rng),
            }
            for column in PLAYER_GAME_SUMMARY.columns:
                rows[column].append(values[column])
    return pd.DataFrame(rows)


def _who_played(players: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Out and doubtful players sit; most others play; the rotation is capped (players with a line and minutes
    first) and, if short, filled the same way."""
    fewest, most = TEAM_PLAYERS
    eligible = [p for p in players if p[_C.player_status] not in UNPREDICTED_STATUSES]
    odds = [_QUESTIONABLE_PLAYS if p[_C.player_status] == "questionable" else _PLAYS for p in eligible]
    played = {i for i, chance in enumerate(odds) if rng.random() < chance}
    ranked = sorted(range(len(eligible)), key=lambda i: _rotation_rank(eligible[i], i))
    rotation = [i for i in ranked if i in played][:most]
    rotation += [i for i in ranked if i not in played][: max(0, fewest - len(rotation))]
    return [eligible[i] for i in sorted(rotation)]


def _rotation_rank(player: dict[str, Any], position: int) -> tuple[bool, float, int]:
    return player[_C.current_points_line] is None, -player[_C.avg_minutes_per_game_last_7], position


def _stat_line(player: dict[str, Any], rng: random.Random) -> dict[str, object]:
    """Minutes around the player's recent average, points at his line's rate, attempts that add up to them."""
    average = float(player[_C.avg_minutes_per_game_last_7])
    line = player[_C.current_points_line]
    scoring = 0.5 * average if line is None or line == PLACEHOLDER_LINE else float(line)  # a placeholder says nothing
    minutes = round(min(48.0, max(1.0, rng.gauss(average, 4.0))), 1)
    expected = scoring * minutes / average
    points = int(round(min(float(_MAX_POINTS), max(0.0, rng.gauss(expected, 2.0 + 0.2 * expected)))))
    free_throws = min(points, round(points * rng.uniform(0.05, 0.25)))
    threes = round((points - free_throws) * rng.uniform(0.0, 0.4) / 3)
    twos = (points - free_throws - 3 * threes) // 2
    free_throws = points - 3 * threes - 2 * twos  # an odd point left over is a free throw
    three_attempts = threes + round(threes * rng.uniform(1.0, 2.0)) + rng.randint(0, 2)
    return {
        _B.points: points,
        _B.minutes_played: minutes,
        _B.fg_attempts: twos + round(twos * rng.uniform(0.6, 1.2)) + three_attempts + rng.randint(0, 2),
        _B.three_pt_attempts: three_attempts,
        _B.ft_attempts: free_throws + round(free_throws * rng.uniform(0.1, 0.35)),
        _B.usage_rate: round(min(35.0, max(5.0, 12.0 + 25.0 * points / minutes + rng.gauss(0.0, 2.0))), 2),
    }


def grades(day: date, predictions: pd.DataFrame, box: pd.DataFrame) -> pd.DataFrame:
    """prediction_accuracy for a date: every gradable active prediction once, errors against the box score.

    Gradable: active, a line that is not the placeholder, not invalidated, and the player played. Grading
    MERGEs on (player_lookup, game_id, system_id), so a key with two active rows is graded once (last write).
    """
    played = zip(box[_B.player_lookup].tolist(), box[_B.game_id].tolist(), strict=True)
    scored = dict(zip(played, box[_B.points].tolist(), strict=True))
    p = {column: predictions[column].tolist() for column in _READ_COLUMNS if column != _P.updated_at}
    p[_P.updated_at] = predictions[_P.updated_at].astype("int64").tolist()  # epoch units: cheap to compare
    latest: dict[tuple[str, str, str], int] = {}
    for i, line in enumerate(p[_P.current_points_line]):
        if not p[_P.is_active][i] or _missing(line) or line == PLACEHOLDER_LINE:
            continue
        if not _missing(p[_P.invalidation_reason][i]) or (p[_P.player_lookup][i], p[_P.game_id][i]) not in scored:
            continue
        key = (p[_P.player_lookup][i], p[_P.game_id][i], p[_P.system_id][i])
        if key not in latest or p[_P.updated_at][i] >= p[_P.updated_at][latest[key]]:
            latest[key] = i
    rows = [latest[key] for key in sorted(latest)]
    actual = np.array([scored[(p[_P.player_lookup][i], p[_P.game_id][i])] for i in rows], dtype="int64")
    predicted = np.array([p[_P.predicted_points][i] for i in rows], dtype="float64")
    line_value = np.array([p[_P.current_points_line][i] for i in rows], dtype="float64")
    recommendation = np.array([p[_P.recommendation][i] for i in rows], dtype=object)
    signed = (predicted - actual).round(1)
    correct = np.where(recommendation == "OVER", actual > line_value, actual < line_value).astype(object)
    correct[np.isin(recommendation, _NO_BET) | (actual == line_value)] = None  # no bet, or a push
    n = len(rows)
    return pd.DataFrame(
        {
            _G.player_lookup: [p[_P.player_lookup][i] for i in rows],
            _G.game_id: [p[_P.game_id][i] for i in rows],
            _G.game_date: [day] * n,
            _G.system_id: [p[_P.system_id][i] for i in rows],
            _G.predicted_points: predicted,
            _G.confidence_score: (np.array([p[_P.confidence_score][i] for i in rows], dtype="float64") / 100).round(3),
            _G.recommendation: recommendation,
            _G.line_value: line_value,
            _G.actual_points: actual,
            _G.absolute_error: np.abs(signed),
            _G.signed_error: signed,
            _G.prediction_correct: correct,
            _G.is_voided: np.zeros(n, dtype=bool),
            _G.void_reason: [None] * n,
            _G.graded_at: pd.Series([pd.Timestamp(datetime.combine(day + timedelta(days=1), GRADED_AT))] * n),
        }
    )


def _missing(value: object) -> bool:
    return value is None or value != value  # None, or NaN
