"""Deterministic synthetic data for the embedded warehouse: game dates in, one DataFrame per catalog table out.

Pure on purpose: no engine here, so the DuckDB writer and a later BigQuery loader share the same rows.
Each date draws from its own random.Random(f"{seed}-{date}") (context and predictions) and its own
streams per later table and for its fault, so a date's rows never depend on the range seeded around it
and adding a table leaves the others' rows alone; rosters draw from the seed alone and stay fixed.
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

from warehouse.catalog import (
    ALL_TABLES,
    FEATURE_STORE,
    PLAYER_GAME_SUMMARY,
    PREDICTION_ACCURACY,
    PREDICTIONS,
    SCHEDULE,
    UPCOMING_CONTEXT,
    Table,
)
from warehouse.errors import CouldNotRun
from warehouse.seed.context_faults import break_context
from warehouse.seed.export_faults import break_exports
from warehouse.seed.exports import Document, export_documents
from warehouse.seed.faults import (
    EXPORT_DELAY,
    FAULT_DATES,
    FAULTS,
    UNPREDICTED_STATUSES,
    Fault,
    StagingTable,
    simulated_run_time,
)
from warehouse.seed.feature_faults import break_features
from warehouse.seed.features import feature_rows
from warehouse.seed.gaps import GAPS, WRITTEN_BY, Gap, gap_on
from warehouse.seed.grading_faults import break_grading
from warehouse.seed.outcomes import PLACEHOLDER_LINE, box_scores, grades
from warehouse.seed.prediction_faults import break_predictions
from warehouse.seed.predictions import predictions_for, with_recommendations
from warehouse.settings import Settings

DEFAULT_START = date(2025, 12, 1)
DEFAULT_END = date(2025, 12, 31)
DEFAULT_SEED = 20251201

MIN_FAULT_DATE_GAMES = 6  # enough volume that a fault trips only its own checks
FINAL = 3  # nbac_schedule.game_status of a played game
_OFF_SEASON_MONTHS = (7, 8, 9)
_GAME_COUNTS = tuple(range(1, 16))
_GAME_COUNT_WEIGHTS = (1, 2, 3, 6, 8, 10, 12, 12, 12, 10, 8, 6, 5, 2, 1)
_STATUSES = ("available", "probable", "questionable", "doubtful", "out")
_STATUS_WEIGHTS = (80, 7, 4, 4, 5)
_PLACEHOLDER_LINES = 2  # predicted players a day whose line is the 20.0 placeholder (never graded)
_S = SCHEDULE.c
_C = UPCOMING_CONTEXT.c
_CONTEXT_KEY = [_C.player_lookup, _C.game_id]


@dataclass(frozen=True, eq=False)
class SeedData:
    """Everything a warehouse needs: catalog table name -> rows (catalog column order), staging tables,
    and the Phase 6 export files (path under the export root -> JSON document)."""

    start: date
    end: date
    seed: int
    game_dates: int  # dates in the range with at least one scheduled game
    frames: Mapping[str, pd.DataFrame]
    staging: tuple[StagingTable, ...]
    exports: Mapping[str, Document]
    faults: tuple[Fault, ...]
    gaps: tuple[Gap, ...]  # those overlapping the range


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
    exports: dict[str, Document] = {}
    sequence = _games_before(seed, start)
    for day in dates:
        if day == _season_start(day):
            sequence = 0
        tables, left_behind, files = _day(day, seed, systems[day], league, sequence, faults.get(day))
        sequence += len(tables[SCHEDULE.name])
        staging.extend(left_behind)
        exports.update(files)
        for name, frame in tables.items():
            if len(frame):
                parts[name].append(frame)
    frames = {table.name: _concat(table, parts[table.name]) for table in ALL_TABLES}
    game_dates = frames[SCHEDULE.name][_S.game_date].nunique()
    in_range = tuple(fault for fault in FAULTS if start <= fault.game_date <= end)
    gaps = tuple(gap for gap in GAPS if gap.start <= end and start <= gap.end)
    return SeedData(start, end, seed, int(game_dates), frames, tuple(staging), exports, in_range, gaps)


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
    day: date, seed: int, system_ids: tuple[str, ...], league: _League, sequence: int, fault: Fault | None
) -> tuple[dict[str, pd.DataFrame], tuple[StagingTable, ...], dict[str, Document]]:
    """One date's rows of every table and its export files in pipeline order, each phase's fault applied
    before the next reads.

    Later phases read the context as Phase 3 wrote it, de-duplicated on its MERGE key; the box scores
    come from the whole clean context (the games were played in full whatever Phase 3 lost).
    """
    schedule, games = _schedule(day, seed, league, sequence)
    rng = random.Random(f"{seed}-{day}")
    fault_rng = random.Random(f"{seed}-{day}-fault")
    rows = _context(day, games, league, rng)
    _set_placeholder_lines(rows, random.Random(f"{seed}-{day}-placeholder"))
    clean_context = _frame(UPCOMING_CONTEXT, rows)
    context = break_context(fault, clean_context, fault_rng)
    read = context.drop_duplicates(_CONTEXT_KEY, ignore_index=True)
    box = box_scores(day, _season_start(day).year, rows, random.Random(f"{seed}-{day}-box-scores"))
    feature_rng = np.random.default_rng(random.Random(f"{seed}-{day}-features").getrandbits(64))
    features = break_features(fault, feature_rows(day, read, feature_rng), fault_rng)
    predictions = _frame(PREDICTIONS, predictions_for(day, _columns(read), system_ids, rng))
    predictions, left_behind = break_predictions(fault, predictions, read, system_ids, fault_rng)
    predictions = with_recommendations(predictions)
    grading = break_grading(fault, grades(day, predictions, box), fault_rng)
    exports = _exports(day, schedule, read, predictions, fault, fault_rng)
    tables = {
        SCHEDULE.name: schedule,
        UPCOMING_CONTEXT.name: context,
        PLAYER_GAME_SUMMARY.name: box,
        FEATURE_STORE.name: features,
        PREDICTIONS.name: predictions,
        PREDICTION_ACCURACY.name: grading,
    }
    gap = gap_on(day)
    if gap is not None:
        tables, exports = _lost_in_gap(gap, tables), {} if "phase6" in gap.lost_phases else exports
    return tables, tuple(StagingTable(t.name, with_recommendations(t.frame)) for t in left_behind), exports


def _lost_in_gap(gap: Gap, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The date's tables as a gap leaves them: what its phases write is empty."""
    lost = {name for phase in gap.lost_phases for name in WRITTEN_BY[phase]}
    return {name: frame.iloc[0:0] if name in lost else frame for name, frame in tables.items()}


def _exports(
    day: date,
    schedule: pd.DataFrame,
    context: pd.DataFrame,
    predictions: pd.DataFrame,
    fault: Fault | None,
    rng: random.Random,
) -> dict[str, Document]:
    """Phase 6's files for a date with games, written shortly before the run."""
    if schedule.empty:
        return {}
    documents = export_documents(day, schedule, context, predictions, simulated_run_time(day) - EXPORT_DELAY)
    predicted = set(predictions.loc[predictions[PREDICTIONS.c.is_active], PREDICTIONS.c.player_lookup])
    unpredicted = sorted(set(context[_C.player_lookup]) - predicted)
    return break_exports(fault, documents, unpredicted, rng)


def _schedule(day: date, seed: int, league: _League, sequence: int) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The date's games (all final) and their (away, home) tricodes."""
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
    return _frame(SCHEDULE, schedule), games


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


def _set_placeholder_lines(context: dict[str, list], rng: random.Random) -> None:
    """Give a few predicted players the platform's 20.0 placeholder line, so grading has some to skip."""
    lined = [
        i
        for i, line in enumerate(context[_C.current_points_line])
        if line is not None and line != PLACEHOLDER_LINE and context[_C.player_status][i] not in UNPREDICTED_STATUSES
    ]
    for i in rng.sample(lined, min(_PLACEHOLDER_LINES, len(lined))):
        context[_C.current_points_line][i] = PLACEHOLDER_LINE


def _columns(frame: pd.DataFrame) -> dict[str, list]:
    """A frame as lists of plain values, NaN as None (how the prediction rules read the context)."""
    return {column: [None if value != value else value for value in frame[column].tolist()] for column in frame}


def _frame(table: Table, columns: dict[str, list]) -> pd.DataFrame:
    return pd.DataFrame({column: columns[column] for column in table.columns})


def _concat(table: Table, parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({column: [] for column in table.columns})
    return pd.concat(parts, ignore_index=True)
