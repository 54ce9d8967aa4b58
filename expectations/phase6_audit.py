"""Phase 6 over a range of game dates (`nba-dq audit`): every date's export files, judged set-based.

The range's files are read concurrently (local or GCS: the store is I/O bound, GCS a round trip per
file), each date's facts become the frame `run --phase 6` validates, and the frames are stacked. Each
of Phase 6's own expectations (phase6_export.export_checks) is then evaluated once over the stack: its
row condition translated to pandas by GX's own engine, its value rule applied to the rows it selects.
So a date fails the same checks in `run` and in `audit` without a second copy of any rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations import Expectation

from expectations.phase6_export import (
    IDENTITY,
    ExportFacts,
    ExportRead,
    ScheduledGame,
    export_checks,
    facts_rows,
    frame_of_facts,
    read_export,
)
from expectations.ranges import RangeAudit, RangeCheck, RangeRequest, as_date, read_frame
from warehouse.catalog import EXPORT_FILES, PARTITION_COLUMN, PREDICTIONS, SCHEDULE
from warehouse.connection import Warehouse
from warehouse.exports import ExportStore, open_export_store
from warehouse.settings import Settings

READERS = 16  # files read at once: enough to hide GCS round trips, few enough for one process's sockets
SHOWN = 5  # failing rows named per date and check; the rest are counted
P = PREDICTIONS.c
S = SCHEDULE.c


def audit(request: RangeRequest, settings: Settings, warehouse: Warehouse) -> RangeAudit:
    """A row per scheduled date (`game_date`, then per check what failed there or None), and the checks."""
    games = _scheduled_games(request, warehouse)
    predicted = _predicted_players(request, warehouse)
    reads = read_range(open_export_store(settings.export_root), sorted(games))
    rows = []
    for day in sorted(games):
        facts = ExportFacts(reads[day], games[day], predicted.get(day, frozenset()))
        for row in facts_rows(settings.run_time(day, request.clock), facts):
            row[PARTITION_COLUMN] = day
            rows.append(row)
    facts_frame = frame_of_facts(rows, extra=(PARTITION_COLUMN,))
    figures = pd.DataFrame({PARTITION_COLUMN: sorted(games)})
    checks = []
    for expectation in export_checks(settings.phase6, "{date}"):
        meta = expectation.meta
        failing = _failures_by_date(facts_frame, expectation)
        figures[meta["check"]] = [failing.get(day) for day in figures[PARTITION_COLUMN]]
        checks.append(RangeCheck(meta["check"], meta["severity"], meta["expected"], _column_reader(meta["check"])))
    return RangeAudit(figures, tuple(checks))


def read_range(store: ExportStore, days: list[date]) -> dict[date, dict[str, ExportRead]]:
    """Every date's export files, read and parsed concurrently; a store that fails raises CouldNotRun."""
    wanted = [(day, export.folder, export.path(day)) for day in days for export in EXPORT_FILES]
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        reads = list(pool.map(lambda item: read_export(store, item[2]), wanted))
    by_date: dict[date, dict[str, ExportRead]] = {day: {} for day in days}
    for (day, folder, _), read in zip(wanted, reads, strict=True):
        by_date[day][folder] = read
    return by_date


def unexpected_rows(frame: pd.DataFrame, expectation: Expectation) -> pd.DataFrame:
    """The rows of `frame` that fail a column expectation, as GX's pandas engine judges them: the row
    condition selects rows, and NULLs are outside the domain of every rule but "be null"."""
    condition = getattr(expectation, "row_condition", None)
    if condition is not None:
        frame = frame.query(PandasExecutionEngine().condition_to_filter_clause(condition))
    values = frame[expectation.column]
    present = values.notna()
    kind = type(expectation).__name__
    if kind == "ExpectColumnValuesToBeNull":
        failing = present
    elif kind == "ExpectColumnValuesToBeInSet":
        failing = present & ~values.isin(list(expectation.value_set))
    elif kind == "ExpectColumnValuesToBeBetween":
        low, high = expectation.min_value, expectation.max_value
        failing = present & (
            (values < low if low is not None else False) | (values > high if high is not None else False)
        )
    else:  # a new kind of Phase 6 check needs its set-based form here: fail closed rather than pass
        raise TypeError(f"{expectation.meta.get('check')}: no set-based form of {kind} for the audit")
    return frame[failing.fillna(False).astype(bool)]


def _failures_by_date(facts: pd.DataFrame, expectation: Expectation) -> dict[date, str]:
    """Per failing date, its failing rows as `subject: value`, the first few named and the rest counted."""
    failing = unexpected_rows(facts, expectation)
    found = {}
    for day, rows in failing.groupby(PARTITION_COLUMN, sort=True):
        pairs = zip(rows[IDENTITY], rows[expectation.column].astype(str), strict=True)
        named = [value if subject in value else f"{subject}: {value}" for subject, value in pairs]  # no name twice
        more = f"; ... {len(named) - SHOWN} more" if len(named) > SHOWN else ""
        found[as_date(day)] = f"{len(named)} failing: {'; '.join(named[:SHOWN])}{more}"
    return found


def _column_reader(name: str) -> Any:
    """A range check reading its own column of the figures: the text of what failed, or None."""
    return lambda figures: figures[name] if isinstance(figures[name], str) else None


def _scheduled_games(request: RangeRequest, warehouse: Warehouse) -> dict[date, tuple[ScheduledGame, ...]]:
    columns = (S.game_date, S.game_id, S.home_team_tricode, S.away_team_tricode)
    frame = read_frame(warehouse, f"{request.window(SCHEDULE, columns)} ORDER BY {S.game_date}, {S.game_id}")
    games: dict[date, list[ScheduledGame]] = {}
    for day, game_id, home, away in frame.itertuples(index=False, name=None):
        games.setdefault(day, []).append(ScheduledGame(game_id, home, away))
    return {day: tuple(listed) for day, listed in games.items()}


def _predicted_players(request: RangeRequest, warehouse: Warehouse) -> Mapping[date, frozenset[str | None]]:
    """Per date, the players with an active prediction (what the exports must list), one row per date: a
    row per player would make a season's result large enough for BigQuery to page it through the Storage
    Read API, which needs a role of its own. A NULL player_lookup stays in the set, as `run` reads it
    (and cannot compare it: could not run); ARRAY_AGG takes no NULL, so they are counted apart."""
    active = request.window(PREDICTIONS, (P.game_date, P.player_lookup, P.is_active))
    named = f"{P.is_active} = TRUE AND {P.player_lookup} IS NOT NULL"
    sql = (
        f"SELECT n.game_date, a.players, n.unnamed FROM (SELECT game_date,"
        f" SUM(CASE WHEN {P.player_lookup} IS NULL THEN 1 ELSE 0 END) AS unnamed"
        f" FROM ({active}) AS p WHERE {P.is_active} = TRUE GROUP BY game_date) AS n"
        f" LEFT JOIN (SELECT game_date, ARRAY_AGG(DISTINCT {P.player_lookup}) AS players"
        f" FROM ({active}) AS p WHERE {named} GROUP BY game_date) AS a ON a.game_date = n.game_date"
    )
    with warehouse.connect() as connection:
        rows = connection.execute(sa.text(sql)).fetchall()
    return {as_date(day): frozenset([*(players or ()), *([None] if unnamed else [])]) for day, players, unnamed in rows}
