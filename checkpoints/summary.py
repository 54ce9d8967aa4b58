"""A checkpoint result turned into the run's verdict: one pure function, and its JSON (the text: run_text.py).

A check's status is pass, fail, error or skip. A skip is a check that could not judge (Phase 5's volume
without enough history, a claim no message carries): its expectation is declared with a reason
(expectations/declare.py `SKIPPED`) and GX's success stays true, so it never fails the run and never
alerts, but it is never counted or shown as a pass. A failed warning stays `fail` with severity warning
(what the history has always stored); every view shows it as WARN (`shown_status`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from expectations.declare import SKIPPED
from warehouse.catalog import FAILED_COLUMN
from warehouse.errors import ExitCode

PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"
WARN = "warn"  # shown for a failed check of severity warning; never a stored status
SHOWN_STATUSES = (PASS, WARN, FAIL, ERROR, SKIP)  # the order the counts are given in
CRITICAL = "critical"
STATUS_OF = {ExitCode.PASSED: PASS, ExitCode.CHECK_FAILED: FAIL, ExitCode.COULD_NOT_RUN: ERROR}


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    status: str  # pass | fail | error | skip (a failed warning is fail with severity warning: shown as WARN)
    severity: str
    observed: Any
    expected: str
    error: str | None = None
    notes: str = ""  # why the check exists (the expectation's meta "notes"), shown in alerts
    page: str | None = None  # the Data Docs page of the batch (table) this check validated
    skip_reason: str = ""  # why a skipped check could not judge


@dataclass(frozen=True)
class RunSummary:
    phase: str
    game_date: date
    checks: tuple[CheckOutcome, ...]
    data_docs: tuple[str, ...]  # this run's validation pages, one per batch
    error: str | None = None  # the phase could not run at all (no checks)
    no_games: bool = False  # it could not run as the date has no games: nothing to check, nothing to alert

    @property
    def exit_code(self) -> ExitCode:
        if self.error or any(check.status == ERROR for check in self.checks):
            return ExitCode.COULD_NOT_RUN
        if any(check.status == FAIL and check.severity == CRITICAL for check in self.checks):
            return ExitCode.CHECK_FAILED
        return ExitCode.PASSED

    @property
    def status(self) -> str:
        return STATUS_OF[self.exit_code]

    def failed(self) -> list[CheckOutcome]:
        """The checks that failed or could not run (failed warnings included); a skip is not failing."""
        return [check for check in self.checks if check.status not in (PASS, SKIP)]

    def not_passed(self) -> list[CheckOutcome]:
        """What the text output details: the failed checks and the skipped ones (with why)."""
        return [check for check in self.checks if check.status != PASS]

    def counts(self) -> dict[str, int]:
        """How many checks have each shown status (pass, warn, fail, error, skip)."""
        shown = [shown_status(check) for check in self.checks]
        return {status: shown.count(status) for status in SHOWN_STATUSES}


def summarize(
    phase: str,
    game_date: date,
    results: Iterable[Any],
    data_docs: tuple[str, ...],
    page_of: Callable[[Any], str | None] = lambda result: None,
) -> RunSummary:
    """One outcome per check from GX expectation results; a result carrying an exception is an error.
    `page_of`: the Data Docs page of the batch a result belongs to (a failing check links there)."""
    outcomes = []
    for result in results:
        meta: Mapping[str, Any] = result.expectation_config.meta or {}
        error = raised_exception(result.exception_info)
        skip_reason = str(meta.get(SKIPPED) or "")
        # Declared unable to judge, and GX agrees it found nothing: a skip. Failing all the same is a failure.
        status = ERROR if error else (FAIL if not result.success else (SKIP if skip_reason else PASS))
        outcomes.append(
            CheckOutcome(
                name=str(meta.get("check", result.expectation_config.type)),
                status=status,
                severity=str(meta.get("severity", CRITICAL)),
                observed=None if error else observed_value(result.result or {}),
                expected=str(meta.get("expected", "")),
                error=error,
                notes=str(meta.get("notes") or ""),
                page=page_of(result),
                skip_reason=skip_reason if status == SKIP else "",
            )
        )
    return RunSummary(phase=phase, game_date=game_date, checks=tuple(outcomes), data_docs=data_docs)


def checkpoint_summary(
    phase: str,
    game_date: date | str,
    checkpoint_result: Any,
    declared: list[str],
    pages: Mapping[Any, Sequence[str]],
) -> RunSummary:
    """The summary of a GX checkpoint result, checks in the order they were declared (GX reorders them).
    `pages`: each validation's (batch's) Data Docs pages, by its identifier in the result's run_results."""
    batch_of = {}
    results = []
    for identifier, run in checkpoint_result.run_results.items():
        for result in run.results:
            batch_of[id(result)] = identifier
            results.append(result)
    results.sort(key=lambda result: declared.index(check_name(result.expectation_config.meta)))
    day = game_date if isinstance(game_date, date) else date.fromisoformat(game_date)
    data_docs = tuple(page for identifier in checkpoint_result.run_results for page in pages.get(identifier, ()))

    def page_of(result: Any) -> str | None:
        own = pages.get(batch_of[id(result)], ())
        return own[0] if own else None

    return summarize(phase, day, results, data_docs, page_of)


COULD_NOT_RUN = "could_not_run"  # the pseudo-check of a phase that could not run at all


def outcomes(summary: RunSummary) -> list[CheckOutcome]:
    """The checks that judged the data, what alerts act on: a skip judged nothing, so it neither opens
    nor resolves an incident. A phase that could not run is one critical `could_not_run` check in error."""
    return [check for check in recorded_outcomes(summary) if check.status != SKIP]


def recorded_outcomes(summary: RunSummary) -> list[CheckOutcome]:
    """Every check of the run, skips included (the history keeps one row per check); a phase that could
    not run is one critical `could_not_run` check in error."""
    if summary.error:
        return [CheckOutcome(COULD_NOT_RUN, ERROR, CRITICAL, None, "the phase runs", error=summary.error)]
    return list(summary.checks)


def shown_status(check: CheckOutcome) -> str:
    """pass | warn | fail | error | skip: a failed check of a severity other than critical is a warning."""
    if check.status == FAIL and check.severity != CRITICAL:
        return WARN
    return check.status


def check_name(meta: Mapping[str, Any] | None) -> str:
    """The check an expectation stands for (expectations.declare.check labels every one)."""
    return str((meta or {}).get("check", ""))


def raised_exception(exception_info: Any) -> str | None:
    """GX nests exception info per metric; any raised one means the check could not run."""
    if not isinstance(exception_info, Mapping):
        return None
    if exception_info.get("raised_exception") or exception_info.get("exception_message"):
        message = str(exception_info.get("exception_message") or "raised an exception").strip()
        return message.splitlines()[0] if message else "raised an exception"
    for value in exception_info.values():
        nested = raised_exception(value)
        if nested:
            return nested
    return None


def observed_value(result: Mapping[str, Any]) -> Any:
    """What a check saw: rows for SQL checks, the observed value, or the unexpected values."""
    details = result.get("details") or {}
    if "unexpected_rows" in details:
        return [
            {key: json_safe(value) for key, value in row.items() if key != FAILED_COLUMN}
            for row in details["unexpected_rows"]
        ]
    if "observed_value" in result:
        return json_safe(result["observed_value"])
    if "unexpected_count" in result:
        return {
            "rows": result.get("element_count"),
            "unexpected": result["unexpected_count"],
            "sample": [_json_row(value) for value in _sample(result)[:10]],
        }
    return None


def _sample(result: Mapping[str, Any]) -> list[Any]:
    """Failing rows with their identity when GX could name them (identity first), else the failing values."""
    indexed = result.get("partial_unexpected_index_list")
    if indexed:
        # GX puts the checked column first and the identity columns after it; a reader wants who, then what.
        return [{**dict(list(row.items())[1:]), **dict(list(row.items())[:1])} for row in indexed]
    return list(result.get("partial_unexpected_list") or [])


def _json_row(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: json_safe(item) for key, item in value.items()}
    return json_safe(value)


def json_safe(value: Any) -> Any:
    numpy = sys.modules.get("numpy")  # no numpy loaded, no numpy scalar: the check imports nothing
    if numpy is not None and isinstance(value, numpy.generic):  # pandas-backed checks (Phase 6) report them
        value = value.item()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def worst_exit_code(summaries: Iterable[RunSummary]) -> ExitCode:
    return max((summary.exit_code for summary in summaries), default=ExitCode.COULD_NOT_RUN)


def to_json(summary: RunSummary) -> dict[str, Any]:
    """`run --json`: per check its shown status and severity; `success` is GX's (false when it failed,
    a warning's too; true for a pass and a skip), kept for the consumers that read it."""
    return {
        "status": summary.status,
        "phase": summary.phase,
        "game_date": summary.game_date.isoformat(),
        "counts": summary.counts(),
        "checks": [
            {
                "name": check.name,
                "status": shown_status(check),
                "success": check.status in (PASS, SKIP),
                "severity": check.severity,
                "observed": check.observed,
                "expected": check.expected,
                "notes": check.notes,
                "page": check.page,
                **({"skip_reason": check.skip_reason} if check.status == SKIP else {}),
                **({"error": check.error} if check.error else {}),
            }
            for check in summary.checks
        ],
        "data_docs": summary.data_docs[0] if summary.data_docs else None,
        "data_docs_pages": list(summary.data_docs),
        **({"error": summary.error} if summary.error else {}),
    }


def combined_json(summaries: list[RunSummary]) -> dict[str, Any]:
    """`--phase all`: the worst status, and each phase's own object in pipeline order."""
    return {
        "status": STATUS_OF[worst_exit_code(summaries)],
        "phase": "all",
        "game_date": summaries[0].game_date.isoformat(),
        "phases": [to_json(summary) for summary in summaries],
    }


def detail_rows(check: CheckOutcome) -> list[Mapping[str, Any]]:
    """What a check found row by row: a SQL check's rows, or the failing values with their identity."""
    observed = check.observed
    if isinstance(observed, dict) and observed.get("sample"):
        observed = observed["sample"]
    if not isinstance(observed, list):
        return []
    return [row if isinstance(row, Mapping) else {"value": row} for row in observed]


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, default=str)
