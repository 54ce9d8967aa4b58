"""The vocabulary phase modules declare checks with: named checks, batches, and SQL helpers.

A check is one GX expectation whose `meta` carries its name, severity and the expectation in words,
so the summary, Data Docs and (later) alerts all say the same thing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

import pandas as pd
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations import Expectation
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from warehouse.catalog import FAILED_COLUMN, PARTITION_COLUMN, Table
from warehouse.dialect import date_literal, holds_non_finite, non_finite, row_json
from warehouse.settings import Thresholds

FINDING_KEY, FINDING_ROW = "finding_key", "finding_row"  # the columns of a findings statement


class FindingRows(TableMetricProvider):
    """A check's rows, out of the frame of findings its table's one statement returned (`findings_sql`)."""

    metric_name = "nba_dq.finding_rows"
    value_keys = ("unexpected_rows_query", "source_table")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any],
    ) -> list[dict[str, Any]]:
        frame, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        return finding_rows(frame, metric_value_kwargs["source_table"], metric_value_kwargs["unexpected_rows_query"])


class ExpectNoFailingRows(BatchExpectation):
    """A SQL check whose rows are what it measured; it fails when a row is flagged failing.

    Rows with a boolean `failed` column report the measurement on a pass too (a coverage ratio, the
    per-system counts, staging tables in flight). Rows without one are all failures (duplicated keys).
    GX does not run the query: it is one part of its table's findings statement (`findings_sql`), so a
    table costs one statement whatever its number of checks, and the expectation reads its rows back.
    """

    unexpected_rows_query: str  # SQL over {batch}, the date's partition of the table
    # The batch's table: two tables' checks may share SQL (a key's duplicates). Not `table`: GX's domain key.
    source_table: str = ""

    metric_dependencies: ClassVar[tuple[str, ...]] = (FindingRows.metric_name,)
    success_keys: ClassVar[tuple[str, ...]] = ("unexpected_rows_query", "source_table")

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        rows: list[dict[str, Any]] = metrics[FindingRows.metric_name]
        if rows and FAILED_COLUMN in rows[0]:
            failing = sum(1 for row in rows if row[FAILED_COLUMN])
        else:
            failing = len(rows)
        return {
            "success": failing == 0,
            "result": {"observed_value": describe_rows(rows, failing), "details": {"unexpected_rows": rows}},
        }


def findings_sql(batch: CheckedBatch, engine: str) -> str:
    """One statement for all of a table's checks: the partition once (CTE `batch`), each check's
    query over it, and their rows as (finding_key, finding_row): the check's key and its row as JSON."""
    queries = list(dict.fromkeys(check.unexpected_rows_query for check in batch.expectations))
    ctes = "".join(f",\nfinding_{n} AS ({query.replace('{batch}', 'batch')})" for n, query in enumerate(queries))
    rows = "\nUNION ALL\n".join(
        f"SELECT '{finding_key(batch.asset_name, query)}' AS {FINDING_KEY},"
        f" {row_json(engine, f'finding_{n}')} AS {FINDING_ROW} FROM finding_{n}"
        for n, query in enumerate(queries)
    )
    return f"WITH batch AS ({batch.query}){ctes}\n{rows}"


def finding_key(table: str, query: str) -> str:
    return hashlib.sha256(f"{table}\n{query}".encode()).hexdigest()[:16]


def finding_rows(findings: pd.DataFrame, table: str, query: str) -> list[dict[str, Any]]:
    """A check's rows, sorted by their columns in order (a CTE's ORDER BY does not survive UNION ALL)."""
    found = findings.loc[findings[FINDING_KEY] == finding_key(table, query), FINDING_ROW]
    rows = [json.loads(text) for text in found]
    return sorted(rows, key=lambda row: tuple(_sort_key(value) for value in row.values()))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


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

    A warehouse batch is a partition-pruned query with ExpectNoFailingRows checks over it, all read by
    one findings statement; a batch of facts read elsewhere (Phase 6's files) is a DataFrame in
    `frame`, with `query` empty.
    """

    asset_name: str
    query: str
    expectations: tuple[Expectation, ...]
    frame: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        """A warehouse batch's checks are all ExpectNoFailingRows, and each learns its table here."""
        if self.frame is not None:
            return
        for check in self.expectations:
            if not isinstance(check, ExpectNoFailingRows):
                raise TypeError(f"{self.asset_name}: a warehouse batch declares ExpectNoFailingRows checks only")
            check.source_table = self.asset_name


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


def outside_range(
    engine: str, table: Table, column: str, low: float, high: float, null_allowed: str | None = None
) -> str:
    """The condition of a row failing a range check, shared by a date's check and the audit's count:
    a NULL (unless `null_allowed`, an SQL condition, holds for the row), NaN or +/-inf (only a FLOAT64
    column can hold them), or a value outside low..high."""
    null_fails = f"{column} IS NULL" + ("" if null_allowed is None else f" AND NOT COALESCE({null_allowed}, FALSE)")
    failing = [f"({null_fails})", f"{column} < {low}", f"{column} > {high}"]
    if holds_non_finite(table.columns[column]):
        failing.insert(1, non_finite(engine, column))
    return f"({' OR '.join(failing)})"


def not_in_values(column: str, values: Iterable[str]) -> str:
    """The condition of a row failing a value-set check: a NULL is no value of the set and fails too."""
    return f"({column} IS NULL OR {column} NOT IN {sql_strings(values)})"


def finite_non_zero(engine: str, table: Table, column: str) -> str:
    """A row with a usable non-zero value: not NULL, not NaN or +/-inf, not 0 ("not constant zero" counts these)."""
    if holds_non_finite(table.columns[column]):
        return f"({column} <> 0 AND NOT {non_finite(engine, column)})"
    return f"{column} <> 0"


def rows_outside_sql(
    request: PhaseRequest,
    table: Table,
    column: str,
    bounds: tuple[float, float],
    identity: Iterable[str],
    where: str = "TRUE",
    null_allowed: str | None = None,
) -> str:
    """Rows failing `outside_range` (NULL, NaN, +/-inf or out of bounds), named by `identity`."""
    failing = outside_range(request.engine, table, column, *bounds, null_allowed=null_allowed)
    return _failing_rows_sql(column, identity, f"{where} AND {failing}")


def rows_not_in_sql(column: str, values: Iterable[str], identity: Iterable[str], where: str = "TRUE") -> str:
    """Rows whose value is NULL or not one of `values`, named by `identity`."""
    return _failing_rows_sql(column, identity, f"{where} AND {not_in_values(column, values)}")


def null_rows_sql(column: str, identity: Iterable[str]) -> str:
    """Rows where a column is NULL, named by `identity`."""
    return _failing_rows_sql(column, identity, f"{column} IS NULL")


def _failing_rows_sql(column: str, identity: Iterable[str], where: str) -> str:
    columns = ", ".join(dict.fromkeys((*identity, column)))
    return f"SELECT {columns} FROM {{batch}} WHERE {where} ORDER BY {columns}"


def count_between_sql(name: str, counted: str, low: int, high: int | None = None, where: str = "TRUE") -> str:
    """One row: `counted` (an aggregate, e.g. COUNT(*)) as `name`, failed outside low..high (no high: at least low)."""
    outside = f"{counted} < {low}" + ("" if high is None else f" OR {counted} > {high}")
    return f"SELECT {counted} AS {name}, ({outside}) AS {FAILED_COLUMN} FROM {{batch}} WHERE {where}"


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
