"""The vocabulary phase modules declare checks with: named checks, batches, and SQL helpers.

A check is one GX expectation whose `meta` carries its name, severity and the expectation in words,
so the summary, Data Docs and (later) alerts all say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from great_expectations.expectations import Expectation, UnexpectedRowsExpectation

from warehouse.catalog import PARTITION_COLUMN, Table
from warehouse.dialect import date_literal
from warehouse.settings import Thresholds

FAILED_COLUMN = "failed"


class ExpectNoFailingRows(UnexpectedRowsExpectation):
    """A SQL check whose rows are what it measured; it fails when a row is flagged failing.

    Rows with a boolean `failed` column report the measurement on a pass too (a coverage ratio, the
    per-system counts, staging tables in flight). Rows without one are all failures, like GX's
    UnexpectedRowsExpectation (duplicated keys).
    """

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        rows: list[dict[str, Any]] = list(metrics["unexpected_rows_query.table"] or [])
        if rows and FAILED_COLUMN in rows[0]:
            failing = sum(1 for row in rows if row[FAILED_COLUMN])
        else:
            failing = int(metrics["unexpected_rows_query.row_count"])
        return {
            "success": failing == 0,
            "result": {"observed_value": describe_rows(rows, failing), "details": {"unexpected_rows": rows}},
        }


def describe_rows(rows: list[dict[str, Any]], failing: int, shown: int = 20) -> str:
    """The rows as one line of text: Data Docs shows a check's observed value, not its detail rows."""
    if not rows:
        return "no rows"
    text = "; ".join(
        ", ".join(f"{key}={value}" for key, value in row.items() if key != FAILED_COLUMN) for row in rows[:shown]
    )
    more = f"; ... {len(rows) - shown} more rows" if len(rows) > shown else ""
    return f"{failing} failing: {text}{more}"


@dataclass(frozen=True)
class PhaseRequest:
    """What a phase's suites are declared for: one game date on one warehouse."""

    game_date: date
    now: datetime
    engine: str
    datasets: Mapping[str, str]

    def table(self, table: Table) -> str:
        return table.qualified(self.datasets)

    def partition(self, table: Table, columns: Iterable[str] | None = None) -> str:
        """The date's partition of a table: the only way a suite reads a partitioned table."""
        selected = ", ".join(columns or table.columns)
        return f"SELECT {selected} FROM {self.table(table)} WHERE {PARTITION_COLUMN} = {date_literal(self.game_date)}"


@dataclass(frozen=True, eq=False)
class CheckedBatch:
    """One GX batch and the expectations validated against it.

    A warehouse batch is a partition-pruned query; a batch of facts read elsewhere (Phase 6's files)
    is a DataFrame in `frame`, with `query` empty.
    """

    asset_name: str
    query: str
    expectations: tuple[Expectation, ...]
    frame: pd.DataFrame | None = None


def checker(thresholds: Thresholds) -> Callable[..., Expectation]:
    """`named(name, expected, expectation, why=None)`: a check labelled with its configured severity."""

    def named(name: str, expected: str, expectation: Expectation, why: str | None = None) -> Expectation:
        return check(expectation, name, thresholds.severity_of(name), expected, why)

    return named


def check(expectation: Expectation, name: str, severity: str, expected: str, why: str | None = None) -> Expectation:
    """Label an expectation as a named check; the label is what every report (and Data Docs) shows."""
    expectation.description = f"{name}: {expected}"
    expectation.meta = {"check": name, "severity": severity, "expected": expected}
    if why:
        expectation.meta["notes"] = why
    return expectation


def duplicate_keys_sql(key: Iterable[str], where: str = "TRUE") -> str:
    """Keys that occur more than once in the batch (GROUP BY: a NULL is one value), with their counts."""
    columns = ", ".join(key)
    return (
        f"SELECT {columns}, COUNT(*) AS row_count FROM {{batch}} WHERE {where}"
        f" GROUP BY {columns} HAVING COUNT(*) > 1 ORDER BY {columns}"
    )


def first_values_sql(column: str, source: str, limit: int) -> str:
    """A scalar subquery: the first `limit` values of a column, sorted, as one comma-separated string."""
    return (
        f"(SELECT STRING_AGG({column}, ', ' ORDER BY {column})"
        f" FROM (SELECT {column} FROM {source} ORDER BY {column} LIMIT {limit}) AS first_values)"
    )


def sql_strings(values: Iterable[str]) -> str:
    """A SQL list of string literals, e.g. ('out', 'doubtful')."""
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"({quoted})"


def sql_values_table(column: str, values: Iterable[str]) -> str:
    """A one-column inline table both engines accept (SELECT ... UNION ALL SELECT ...)."""
    return " UNION ALL ".join(f"SELECT '{value.replace(chr(39), chr(39) * 2)}' AS {column}" for value in values)
