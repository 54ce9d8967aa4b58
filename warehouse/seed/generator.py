"""Deterministic synthetic data for the embedded warehouse: game dates in, one DataFrame per catalog table out.

Pure on purpose: no engine here, so the DuckDB writer and a later BigQuery loader share the same rows.
Each date draws from its own random.Random(f"{seed}-{date}"), so a date's rows never depend on the range
seeded around it; rosters draw from the seed alone and stay fixed for the whole range.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from warehouse.catalog import ALL_TABLES, PREDICTIONS, SCHEDULE, UPCOMING_CONTEXT, Table
from warehouse.errors import CouldNotRun
from warehouse.seed.faults import (
    FAULT_DATES,
    FAULTS,
    UNPREDICTED_STATUSES,
    Fault,
    StagingTable,
    apply_fault,
    new_prediction_id,
)
from warehouse.settings import Settings

DEFAULT_START = date(2025, 12, 1)
DEFAULT_END = date(2025, 12, 31)
DEFAULT_SEED = 20251201

MAX_PREDICTED_PLAYERS = 500  # the coordinator's daily cap
MIN_FAULT_DATE_GAMES = 6  # enough volume that a fault trips only its own checks
FINAL = 3  # nbac_schedule.game_status of a played game
_OFF_SEASON_MONTHS = (7, 8, 9)
_GAME_COUNTS = tuple(range(1, 16))
_GAME_COUNT_WEIGHTS = (1, 2, 3, 6, 8, 10, 12, 12, 12, 10, 8, 6, 5, 2, 1)
_STATUSES = ("available", "probable", "questionable", "doubtful", "out")
_STATUS_WEIGHTS = (80, 7, 4, 4, 5)
_SUPERSEDED_SHARE = 0.08
_LINE_MOVES = (-1.0, -0.5, 0.5, 1.0)
_S = SCHEDULE.c
_C = UPCOMING_CONTEXT.c
_P = PREDICTIONS.c


@dataclass(frozen=True, eq=False)
class SeedData:
    """Everything a warehouse needs: catalog table name -> rows (catalog column order), staging tables."""

    start: date
    end: date
    seed: int
    game_dates: int  # dates in the range with at least one scheduled game
    frames: Mapping[str, pd.DataFrame]
    staging: tuple[StagingTable, ...]
    faults: tuple[Fault, ...]


@dataclass(frozen=True)
class _League:
    rosters: Mapping[str, tuple[str, ...]]  # tricode -> player_lookups
    base_minutes: Mapping[str, float]  # player_lookup -> typical minutes, so a player looks alike daily


def generate(
    settings: Settings, start: date = DEFAULT_START, end: date = DEFAULT_END, seed: int = DEFAULT_SEED
) -> SeedData:
    """Every date's clean rows, with each catalogue fault applied on its date when it lies in range."""
    if start > end:
        raise CouldNotRun(f"seed range {start}..{end} is empty: start must not be after end")
    dates = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    systems = {day: settings.era_for(day).system_ids for day in dates}  # fails before any work
    league = _league(seed)
    faults = {fault.game_date: fault for fault in FAULTS}
    parts: dict[str, list[pd.DataFrame]] = {table.name: [] for table in ALL_TABLES}
    staging: list[StagingTable] = []
    sequence = _games_before(seed, start)
    for day in dates:
        if day == _season_start(day):
            sequence = 0
        schedule, context, predictions = _day(day, seed, systems[day], league, sequence)
        sequence += len(schedule)
        fault = faults.get(day)
        if fault is not None:
            fault_rng = random.Random(f"{seed}-{day}-fault")
            predictions, left_behind = apply_fault(fault, predictions, context, systems[day], fault_rng)
            staging.extend(StagingTable(t.name, _with_recommendations(t.frame)) for t in left_behind)
        for table, frame in ((SCHEDULE, schedule), (UPCOMING_CONTEXT, context), (PREDICTIONS, predictions)):
            if len(frame):
                parts[table.name].append(frame)
    frames = {table.name: _concat(table, parts[table.name]) for table in ALL_TABLES}
    frames[PREDICTIONS.name] = _with_recommendations(frames[PREDICTIONS.name])
    game_dates = frames[SCHEDULE.name][_S.game_date].nunique()
    in_range = tuple(fault for fault in FAULTS if start <= fault.game_date <= end)
    return SeedData(start, end, seed, int(game_dates), frames, tuple(staging), in_range)


def _league(seed: int) -> _League:
    """Fixed rosters of 13-17 distinct real players per team, drawn from the seed only."""
    rng = random.Random(f"{seed}-rosters")
    players = [row["player_lookup"] for row in _reference_rows("players.csv")]
    teams = [row["tricode"] for row in _reference_rows("teams.csv")]
    rng.shuffle(players)
    rosters: dict[str, tuple[str, ...]] = {}
    for team in teams:
        size = rng.randint(13, 17)
        rosters[team], players = tuple(players[:size]), players[size:]
    base_minutes = {player: rng.uniform(8.0, 36.0) for roster in rosters.values() for player in roster}
    return _League(rosters=rosters, base_minutes=base_minutes)


def _reference_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("warehouse.seed").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _season_start(day: date) -> date:
    """Seasons run July to June, so a season's game ids count from 1 July of its start year."""
    return date(day.year if day.month >= 7 else day.year - 1, 7, 1)


def _games_before(seed: int, day: date) -> int:
    """Games of the season before `day`: NBA game ids number the games within a season."""
    first = _season_start(day)
    earlier = (first + timedelta(days=offset) for offset in range((day - first).days))
    return sum(_game_count(random.Random(f"{seed}-{other}-schedule"), other) for other in earlier)


def _game_count(rng: random.Random, day: date) -> int:
    if day.month in _OFF_SEASON_MONTHS or (day.month, day.day) == (12, 24):
        return 0
    if (day.month, day.day) == (12, 25):
        return 5
    count = rng.choices(_GAME_COUNTS, _GAME_COUNT_WEIGHTS)[0]
    return max(count, MIN_FAULT_DATE_GAMES) if day in FAULT_DATES else count


def _day(
    day: date, seed: int, system_ids: tuple[str, ...], league: _League, sequence: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    schedule_rng = random.Random(f"{seed}-{day}-schedule")
    count = _game_count(schedule_rng, day)
    teams = schedule_rng.sample(sorted(league.rosters), 2 * count)
    games = [(teams[2 * i], teams[2 * i + 1]) for i in range(count)]  # (away, home)
    season = _season_start(day).year % 100
    schedule: dict[str, list[Any]] = {
        _S.game_id: [f"002{season:02d}{sequence + i + 1:05d}" for i in range(count)],
        _S.game_date: [day] * count,
        _S.home_team_tricode: [home for _, home in games],
        _S.away_team_tricode: [away for away, _ in games],
        _S.game_status: [FINAL] * count,
    }
    rng = random.Random(f"{seed}-{day}")
    context = _context(day, games, league, rng)
    predictions = _predictions(day, context, system_ids, rng)
    return (
        _frame(SCHEDULE, schedule),
        _frame(UPCOMING_CONTEXT, context),
        _frame(PREDICTIONS, predictions),
    )


def _context(day: date, games: list[tuple[str, str]], league: _League, rng: random.Random) -> dict[str, list]:
    """One row per rostered player per game, both teams (what Phase 3 writes)."""
    rows: dict[str, list] = {column: [] for column in UPCOMING_CONTEXT.columns}
    morning = datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc)
    for away, home in games:
        game_id = f"{day:%Y%m%d}_{away}_{home}"
        for team, opponent in ((away, home), (home, away)):
            for player in league.rosters[team]:
                status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
                minutes = round(min(38.0, max(5.0, league.base_minutes[player] + rng.gauss(0.0, 2.5))), 1)
                ready = rng.random() < 0.88
                completeness = rng.uniform(70.0, 100.0) if ready else rng.uniform(35.0, 69.9)
                line_odds = 0.95 if minutes >= 24 else 0.6 if minutes >= 15 else 0.2
                has_line = status != "out" and rng.random() < line_odds
                line = min(34.5, max(4.5, round((minutes * 0.55 + rng.gauss(0.0, 2.5)) * 2) / 2)) if has_line else None
                created = morning + timedelta(seconds=rng.randint(0, 3600))
                values = (
                    player, game_id, day, team, opponent, has_line, line, minutes, status, ready,
                    round(completeness, 1), created, created + timedelta(seconds=rng.randint(30, 900)),
                )  # fmt: skip
                for column, value in zip(UPCOMING_CONTEXT.columns, values, strict=False):
                    rows[column].append(value)
    return rows


def _predictions(
    day: date, context: dict[str, list], system_ids: tuple[str, ...], rng: random.Random
) -> dict[str, list]:
    """One active row per selected player and era system, plus superseded history for some lined pairs."""
    rows: dict[str, list] = {column: [] for column in PREDICTIONS.columns}
    selected = _selected(context)
    run = datetime(day.year, day.month, day.day, 17, 30, tzinfo=timezone.utc)
    collision_pair = next(((i, system_ids[0]) for i in selected if context[_C.has_prop_line][i]), None)
    for i in selected:
        line = context[_C.current_points_line][i]
        expected = line if line is not None else context[_C.avg_minutes_per_game_last_7][i] * 0.5
        for number, system in enumerate(system_ids):
            noise = 2.5 + 0.5 * number  # each system its own spread, so their numbers differ
            created = run + timedelta(seconds=rng.randint(0, 600))
            base = {
                _P.system_id: system,
                _P.player_lookup: context[_C.player_lookup][i],
                _P.game_date: day,
                _P.game_id: context[_C.game_id][i],
                _P.line_source: "ACTUAL_PROP" if line is not None else "NO_PROP_LINE",
                _P.has_prop_line: context[_C.has_prop_line][i],
                _P.is_production_ready: context[_C.is_production_ready][i],
                _P.invalidation_reason: None,
                _P.recommendation: None,  # derived from points and line once faults are applied
            }
            move = None
            if (i, system) == collision_pair:
                move = -0.5 if line % 1 == 0 else 0.5  # N.5 vs N+1.0: equal under an INT64 cast
            elif line is not None and rng.random() < _SUPERSEDED_SHARE:
                move = rng.choice(_LINE_MOVES)
            if move is not None:
                older = created - timedelta(seconds=rng.randint(1200, 14400))
                _append(rows, base, rng, 1, line + move, _points(line + move, noise, rng), False, older, created)
            version = 1 if move is None else 2
            _append(rows, base, rng, version, line, _points(expected, noise, rng), True, created, created)
    return rows


def _selected(context: dict[str, list]) -> list[int]:
    """The coordinator's rule: (minutes >= 15 OR a line OR production-ready), not out/doubtful, <= 500."""
    chosen = [
        i
        for i, status in enumerate(context[_C.player_status])
        if status not in UNPREDICTED_STATUSES
        and (
            context[_C.avg_minutes_per_game_last_7][i] >= 15
            or context[_C.has_prop_line][i]
            or context[_C.is_production_ready][i]
        )
    ]
    if len(chosen) > MAX_PREDICTED_PLAYERS:
        ready, minutes = context[_C.is_production_ready], context[_C.avg_minutes_per_game_last_7]
        priority = sorted(chosen, key=lambda i: (not ready[i], -minutes[i], i))
        chosen = sorted(priority[:MAX_PREDICTED_PLAYERS])
    return chosen


def _points(expected: float, noise: float, rng: random.Random) -> float:
    return round(min(60.0, max(0.0, expected + rng.gauss(0.0, noise))), 1)


def _append(
    rows: dict[str, list],
    base: dict[str, object],
    rng: random.Random,
    version: int,
    line: float | None,
    points: float,
    active: bool,
    created: datetime,
    updated: datetime,
) -> None:
    values = {
        **base,
        _P.prediction_id: new_prediction_id(rng),
        _P.prediction_version: version,
        _P.predicted_points: points,
        _P.confidence_score: round(rng.uniform(40.0, 95.0), 2),
        _P.current_points_line: line,
        _P.is_active: active,
        _P.default_feature_count: rng.choices((0, 1, 2, 3, 4), (60, 20, 10, 6, 4))[0],
        _P.created_at: created,
        _P.updated_at: updated,
    }
    for column in PREDICTIONS.columns:
        rows[column].append(values[column])


def _with_recommendations(frame: pd.DataFrame) -> pd.DataFrame:
    """NO_LINE without a line; OVER/UNDER beyond one point from it; else PASS, or HOLD at low confidence."""
    if frame.empty:
        return frame
    line = frame[_P.current_points_line].astype("float64")
    edge = (frame[_P.predicted_points].astype("float64") - line).round(1)
    quiet = np.where(frame[_P.confidence_score].astype("float64") < 50.0, "HOLD", "PASS")
    choice = np.where(line.isna(), "NO_LINE", np.where(edge > 1.0, "OVER", np.where(edge < -1.0, "UNDER", quiet)))
    return frame.assign(**{_P.recommendation: choice})


def _frame(table: Table, columns: dict[str, list]) -> pd.DataFrame:
    return pd.DataFrame({column: columns[column] for column in table.columns})


def _concat(table: Table, parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({column: [] for column in table.columns})
    return pd.concat(parts, ignore_index=True)
