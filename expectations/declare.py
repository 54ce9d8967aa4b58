"""The vocabulary phase modules declare checks with: named checks, batches, and SQL helpers.

A check is one GX expectation whose `meta` carries its name, severity and the expectation in words,
so the summary, Data Docs and (later) alerts all say the same thing.

This module imports no GX: the phase modules' SQL (the audit's and `nba-dq health`'s figures) is
used before, or without, any validation. GX loads once a suite declares its first check
(`no_failing_rows`; expectations/no_failing_rows.py holds the GX classes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from expectations.claims import PhaseClaims
from warehouse.catalog import FAILED_COLUMN, PARTITION_COLUMN, Table
from warehouse.dialect import date_literal, holds_non_finite, non_finite, row_json

if TYPE_CHECKING:  # GX and pandas load when a suite is declared, not when the SQL helpers are imported
    import pandas as pd
    from great_expectations.expectations import Expectation

    from expectations.no_failing_rows import ExpectNoFailingRows
    from warehouse.settings import Thresholds

FINDING_KEY, FINDING_ROW = "finding_key", "finding_row"  # the columns of a findings statement
# The meta key of a check declared unable to judge (its value says why): the run shows it as SKIP, never
# as a pass, and it neither fails the run nor alerts. Decided where the check is declared, from what the
# declaration read (too little history, a claim no message carries), never from the check's wording.
SKIPPED = "skipped"


def no_failing_rows(query: str) -> ExpectNoFailingRows:
    """A check whose failing rows `query` returns (SQL over {batch}); imports GX on the first one."""
    from expectations.no_failing_rows import ExpectNoFailingRows

    return ExpectNoFailingRows(unexpected_rows_query=query)


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


@dataclass(frozen=True)
class PhaseRequest:
    """What a phase's suites are declared for: one game date on one warehouse, and what the platform's
    completion messages claim about it when the run was started by them (None: `run`, `audit`)."""

    game_date: date
    now: datetime
    engine: str
    datasets: Mapping[str, str]
    claims: PhaseClaims | None = None

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
        from expectations.no_failing_rows import ExpectNoFailingRows  # loaded already: the checks are its

        for check in self.expectations:
            if not isinstance(check, ExpectNoFailingRows):
                raise TypeError(f"{self.asset_name}: a warehouse batch declares ExpectNoFailingRows checks only")
            check.source_table = self.asset_name


def checker(thresholds: Thresholds) -> Callable[..., Expectation]:
    """`named(name, expected, expectation, why=None, skipped=None)`: a check labelled with its configured
    severity; `skipped` says why it cannot judge (it is then shown as SKIP)."""

    def named(
        name: str, expected: str, expectation: Expectation, why: str | None = None, skipped: str | None = None
    ) -> Expectation:
        return check(expectation, name, thresholds.severity_of(name), expected, why, skipped)

    return named


def check(
    expectation: Expectation,
    name: str,
    severity: str,
    expected: str,
    why: str | None = None,
    skipped: str | None = None,
) -> Expectation:
    """Label an expectation as a named check; the label is what every report (and Data Docs) shows.

    GX's own `severity` field says the same as the meta (it defaulted to critical for a warning check).
    An expectation that renders its meta itself (ExpectNoFailingRows) gets no description: GX shows a
    description instead of the expectation's renderer. `skipped`: why the check cannot judge (SKIPPED)."""
    if not getattr(expectation, "renders_its_meta", False):
        expectation.description = f"{name}: " + (f"skipped, not judged: {skipped}" if skipped else expected)
    expectation.severity = severity  # type: ignore[assignment]  # GX's FailureSeverity takes the same words
    expectation.meta = {"check": name, "severity": severity, "expected": expected}
    if why:
        expectation.meta["notes"] = why
    if skipped:
        expectation.meta[SKIPPED] = skipped
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
