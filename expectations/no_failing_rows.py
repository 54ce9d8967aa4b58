"""The GX side of nba-dq's SQL checks: the expectation every warehouse check is, and the metric it reads.

A table's checks run as one findings statement (expectations/declare.py `findings_sql`); GX validates
the frame of findings, and each check reads its own rows back out of it through `FindingRows`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pandas as pd
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider
from great_expectations.render.components import LegacyDiagnosticRendererType, LegacyRendererType
from great_expectations.render.renderer.renderer import renderer

from expectations import failing_rows_render
from expectations.declare import FINDING_KEY, FINDING_ROW, finding_key
from warehouse.catalog import FAILED_COLUMN


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
    renders_its_meta: ClassVar[bool] = True  # Data Docs shows its check, severity and why (declare.check)

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

    # Data Docs (expectations/failing_rows_render.py): the check's words, and its failing rows as a table.
    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    def _prescriptive_renderer(
        cls, configuration: Any = None, result: Any = None, runtime_configuration: Any = None, **kwargs: Any
    ) -> list[Any]:
        return failing_rows_render.prescriptive(configuration or getattr(result, "expectation_config", None))

    @classmethod
    @renderer(renderer_type=LegacyDiagnosticRendererType.OBSERVED_VALUE)
    def _diagnostic_observed_value_renderer(
        cls, configuration: Any = None, result: Any = None, runtime_configuration: Any = None, **kwargs: Any
    ) -> str:
        return failing_rows_render.observed(result)

    @classmethod
    @renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_TABLE)
    def _diagnostic_unexpected_table_renderer(
        cls, configuration: Any = None, result: Any = None, runtime_configuration: Any = None, **kwargs: Any
    ) -> list[Any] | None:
        return failing_rows_render.rows_table(result)


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
