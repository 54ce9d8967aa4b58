"""The vocabulary of range audits: a phase's checks over every game date of a span at once.

A checkpoint asks "is this date right?" one date at a time (19+ statements each). An audit asks it of
a whole range set-based: each phase computes its figures for all dates in a few GROUP BY game_date
statements, and each range check reads one date's figures and says what failed there, or nothing.
Range checks carry the names of the checks they mirror, so a date fails the same checks in both, except
on a missing partition: there the phase's `*_rows_present` check says so, and checks that only make
sense on rows (a feature column all zero) do not repeat it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from warehouse.catalog import PARTITION_COLUMN, SCHEDULE, Table
from warehouse.connection import Warehouse
from warehouse.dialect import date_literal
from warehouse.settings import Thresholds

S = SCHEDULE.c
FINAL_STATUS = 3  # nbac_schedule.game_status: 1 scheduled, 2 in progress, 3 final
Figures = Mapping[str, Any]  # one date's figures by name (a row of the figures frame)
Failure = Callable[[Figures], str | None]  # what failed on the date, or None


@dataclass(frozen=True)
class RangeRequest:
    """What an audit is declared for: game dates start..end on one warehouse."""

    start: date
    end: date
    clock: datetime  # each date is judged as of its daily run (Settings.run_time) against this clock
    engine: str
    datasets: Mapping[str, str]

    def table(self, table: Table) -> str:
        return table.qualified(self.datasets)

    def window(self, table: Table, columns: Iterable[str], start: date | None = None) -> str:
        """The range's partitions of a table (from `start` when a check needs earlier dates too)."""
        first = date_literal(start or self.start)
        return (
            f"SELECT {', '.join(columns)} FROM {self.table(table)}"
            f" WHERE {PARTITION_COLUMN} BETWEEN {first} AND {date_literal(self.end)}"
        )

    def scheduled_days(self) -> str:
        """(game_date, games, final_games) for each date of the range with a scheduled game."""
        schedule = self.window(SCHEDULE, (S.game_date, S.game_status))
        return (
            f"SELECT {S.game_date} AS game_date, COUNT(*) AS games,"
            f" SUM(CASE WHEN {S.game_status} = {FINAL_STATUS} THEN 1 ELSE 0 END) AS final_games"
            f" FROM ({schedule}) AS s GROUP BY {S.game_date}"
        )


@dataclass(frozen=True)
class RangeCheck:
    """A check over a range: `failure` reads one date's figures and says what failed there, or None
    (the audit puts the date in front)."""

    name: str
    severity: str
    expected: str
    failure: Failure


@dataclass(frozen=True, eq=False)
class RangeAudit:
    """A phase's figures (a row per scheduled date of the range, `game_date` first) and its checks."""

    figures: pd.DataFrame
    checks: tuple[RangeCheck, ...]


@dataclass(frozen=True)
class Part:
    """One per-date aggregate of a figures statement: `sql` yields game_date and `columns`."""

    name: str
    sql: str
    columns: tuple[str, ...]


def range_checkers(
    thresholds: Thresholds,
) -> tuple[Callable[[str, str, Failure], RangeCheck], Callable[[str, str, str, str], RangeCheck]]:
    """`named(name, expected, failure)`: a range check with the severity configured for its name; and
    `counted(name, expected, column, what)`: one failing on a date whose count in `column` is above 0."""

    def named(name: str, expected: str, failure: Failure) -> RangeCheck:
        return RangeCheck(name, thresholds.severity_of(name), expected, failure)

    def counted(name: str, expected: str, column: str, what: str) -> RangeCheck:
        return named(name, expected, lambda f: when(f[column] > 0, f"{f[column]} {what}"))

    return named, counted


def figures_sql(request: RangeRequest, parts: Sequence[Part]) -> str:
    """One statement: every scheduled date of the range with each part's columns (0 when it has no rows)."""
    ctes = "".join(f",\n{part.name} AS ({part.sql})" for part in parts)
    columns = "".join(f", COALESCE({part.name}.{column}, 0) AS {column}" for part in parts for column in part.columns)
    joins = "".join(f"\nLEFT JOIN {part.name} ON {part.name}.game_date = d.game_date" for part in parts)
    return (
        f"WITH d AS ({request.scheduled_days()}){ctes}\n"
        f"SELECT d.game_date, d.games, d.final_games{columns}\nFROM d{joins}\nORDER BY d.game_date"
    )


def rows_by_date(source: str, column: str, where: str = "TRUE") -> Part:
    """Rows per date of a windowed source."""
    return Part(column, f"SELECT game_date, COUNT(*) AS {column} FROM ({source}) AS r WHERE {where} GROUP BY game_date",
                (column,))  # fmt: skip


def duplicate_keys_by_date(source: str, key: Iterable[str], column: str, where: str = "TRUE") -> Part:
    """Keys occurring more than once per date (GROUP BY: a NULL is one value), as the checkpoints count them."""
    keys = ", ".join(key)
    sql = (
        f"SELECT game_date, COUNT(*) AS {column} FROM (SELECT game_date FROM ({source}) AS r WHERE {where}"
        f" GROUP BY game_date, {keys} HAVING COUNT(*) > 1) AS duplicated GROUP BY game_date"
    )
    return Part(column, sql, (column,))


def matching_rows_by_date(source: str, conditions: Mapping[str, str], name: str) -> Part:
    """Per date, how many rows of a source meet each condition (column -> SQL condition)."""
    counts = ", ".join(
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS {column}" for column, condition in conditions.items()
    )
    return Part(name, f"SELECT game_date, {counts} FROM ({source}) AS r GROUP BY game_date", tuple(conditions))


def read_frame(warehouse: Warehouse, sql: str) -> pd.DataFrame:
    """A statement's rows as a frame; DATE columns as datetime.date on both engines."""
    with warehouse.connect() as connection:
        result = connection.execute(sa.text(sql))
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    if PARTITION_COLUMN in frame:
        frame[PARTITION_COLUMN] = [as_date(value) for value in frame[PARTITION_COLUMN]]
    return frame


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def missing_partition(figures: Figures, rows: str, what: str, games: str = "games") -> str | None:
    """The failure of a `*_rows_present` check: scheduled games, yet no rows (a missing partition)."""
    missing = bool(figures[games]) and not figures[rows]
    return when(missing, f"no {what} rows for {figures[games]} games (missing partition)")


def when(failing: bool, text: str) -> str | None:
    return text if failing else None


def share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"
