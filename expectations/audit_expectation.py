"""The expectation of `nba-dq audit`: a range check passes when no date of the range failed it.

An audit validates a findings frame (a row per scheduled date, a column per check holding what failed
on the date, empty where it passed). ExpectColumnValuesToBeNull judged it the same way but resolves
some eight metrics per check, about 25 ms of CPU each time: a season's 39 checks cost more than all of
the audit's SQL. This asks GX for one metric per check, so GX stays the engine of the verdict and of
the page (which lists every failing date with what failed there) at a quarter of the cost.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider


class FailingDates(TableMetricProvider):
    """A check's column of the findings frame: every value that is not empty, in date order."""

    metric_name = "nba_dq.failing_dates"
    value_keys = ("check_column",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any],
    ) -> list[str]:
        frame, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        # Anything but an empty cell is a failure (a stray value fails closed rather than passing).
        return [str(value) for value in frame[metric_value_kwargs["check_column"]] if not pd.isna(value)]


class ExpectNoFailingDates(BatchExpectation):
    """No date of the range failed the check whose findings are in `check_column`."""

    check_column: str

    metric_dependencies: ClassVar[tuple[str, ...]] = (FailingDates.metric_name,)
    success_keys: ClassVar[tuple[str, ...]] = ("check_column",)

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        failures: list[str] = metrics[FailingDates.metric_name]
        observed = f"{len(failures)} failing dates: {'; '.join(failures)}" if failures else "no failing date"
        return {"success": not failures, "result": {"observed_value": observed}}
