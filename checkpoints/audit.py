"""`nba-dq audit`: each phase's checks over a whole range of game dates, set-based.

Per phase: a few GROUP BY game_date statements (expectations/ranges.py), a failure text per check
and date, and one GX validation over the resulting frame (a row per scheduled date, a column per
check; a check passes when its column is empty), so Data Docs list every failing date with what
failed there. Never one checkpoint per date: a season would be hundreds of them.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import redirect_stdout
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any

import pandas as pd

from checkpoints.context import build_context
from checkpoints.phases import PHASES, Phase
from checkpoints.run import build_checkpoint, fresh_copies, identifier_pages
from checkpoints.summary import CRITICAL
from expectations.gx_import import load_gx
from expectations.ranges import Failure, RangeAudit, RangeRequest
from warehouse.catalog import PARTITION_COLUMN, SCHEDULE
from warehouse.connection import check_schema, one_connection_per_file, open_warehouse
from warehouse.errors import CouldNotRun, ExitCode, os_problem
from warehouse.settings import Settings

Progress = Callable[[str], None]
FIGURING_AT_ONCE = 2  # phases computing figures at once: these machines have 2 cores
# Phase 6 reads and parses every date's files (Python, the longest): started first, beside the others' SQL,
# whose validations then run while it reads.
SLOWEST_FIRST = ("6",)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckFindings:
    name: str
    severity: str
    expected: str
    failures: dict[date, str]  # failing date -> what failed there

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class PhaseFindings:
    checkpoint: str
    game_dates: tuple[date, ...]  # scheduled dates of the range
    checks: tuple[CheckFindings, ...] = ()
    figures: pd.DataFrame | None = None
    data_docs: tuple[str, ...] = ()
    seconds: float = 0.0
    error: str | None = None  # set when the phase could not be audited

    @property
    def failing_dates(self) -> list[date]:
        """Dates where a critical check failed: what `run` fails (exit 1) on the date."""
        return sorted({day for check in self.checks if check.severity == CRITICAL for day in check.failures})

    @property
    def warning_dates(self) -> list[date]:
        """Dates where only warning checks failed: `run` passes them with warnings (exit 0)."""
        failing = set(self.failing_dates)
        return sorted({day for check in self.checks for day in check.failures} - failing)

    @property
    def exit_code(self) -> ExitCode:
        if self.error:
            return ExitCode.COULD_NOT_RUN
        if self.failing_dates:
            return ExitCode.CHECK_FAILED
        return ExitCode.PASSED


@dataclass(frozen=True)
class AuditReport:
    start: date
    end: date
    phases: list[PhaseFindings] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return max((phase.exit_code for phase in self.phases), default=ExitCode.COULD_NOT_RUN)

    def phase(self, checkpoint: str) -> PhaseFindings | None:
        return next((phase for phase in self.phases if phase.checkpoint == checkpoint), None)


def audit(
    settings: Settings,
    phase_keys: Sequence[str],
    start: date,
    end: date,
    clock: datetime,
    progress: Progress | None = None,
) -> AuditReport:
    """Audit each phase over start..end; a phase that cannot be audited is reported and the rest go on."""
    if start > end:
        raise CouldNotRun(f"--start {start} is after --end {end}: give start <= end")
    warehouse = open_warehouse(settings, {"command": "audit"})
    request = RangeRequest(start, end, clock, warehouse.engine_name, warehouse.datasets)
    report = AuditReport(start, end)
    results: dict[str, list[Any]] = {}  # checkpoint -> its validation result identifiers
    started_site = time.time()
    # The phases' figures are computed side by side (DuckDB and file reads leave the GIL: one phase's SQL
    # runs while another parses export files); their GX validations and pages follow one by one.
    with ThreadPoolExecutor(max_workers=FIGURING_AT_ONCE) as pool:
        started_first = sorted(phase_keys, key=lambda key: key not in SLOWEST_FIRST)
        figuring = {key: pool.submit(_figures, settings, PHASES[key], request) for key in started_first}
        for number, key in enumerate(phase_keys, start=1):
            phase = PHASES[key]
            if progress:
                progress(f"audit {start}..{end}: {phase.checkpoint} ({number}/{len(phase_keys)}) ...")
            findings = _judged(settings, phase, request, figuring[key], results)
            report.phases.append(findings)
            if progress:
                outcome = findings.error or (
                    f"{len(findings.failing_dates)} of {len(findings.game_dates)} dates failing,"
                    f" {len(findings.warning_dates)} with warnings only"
                )
                progress(f"audit {start}..{end}: {phase.checkpoint} done in {findings.seconds:.1f} s: {outcome}")
    if not any(phase.game_dates for phase in report.phases) and not any(phase.error for phase in report.phases):
        raise CouldNotRun(f"no games scheduled from {start} to {end} in {warehouse.table(SCHEDULE)}: nothing to audit")
    pages = _build_pages(settings, results, started_site)
    report.phases[:] = [replace(phase, data_docs=pages.get(phase.checkpoint, ())) for phase in report.phases]
    return report


def _figures(settings: Settings, phase: Phase, request: RangeRequest) -> tuple[RangeAudit, float]:
    """A phase's figures over the range (after its schema check), and the seconds they took."""
    assert phase.audit is not None
    started = time.perf_counter()
    labelled = open_warehouse(settings, {"command": "audit", "phase": phase.checkpoint})
    with one_connection_per_file():  # the phase's statements share one connection (in this thread)
        check_schema(labelled, phase.tables)
        load_gx()  # the phase's module needs GX, and another worker may be importing it now
        audited = phase.audit(request, settings, labelled)
    return audited, time.perf_counter() - started


def _judged(
    settings: Settings,
    phase: Phase,
    request: RangeRequest,
    figuring: Future[tuple[RangeAudit, float]],
    results: dict[str, list[Any]],
) -> PhaseFindings:
    """The phase's findings once its figures are in, validated by GX; a phase that raised is reported."""
    spent = 0.0
    try:
        audited, spent = figuring.result()
        started = time.perf_counter()
        findings, results[phase.checkpoint] = _audit_phase(settings, phase, request, audited)
        spent += time.perf_counter() - started
    except CouldNotRun as error:
        findings = PhaseFindings(phase.checkpoint, (), error=str(error))
    except Exception as error:  # a phase that raised could not be audited: reported, never a pass
        logger.debug("audit of %s raised", phase.checkpoint, exc_info=True)
        findings = PhaseFindings(phase.checkpoint, (), error=f"{type(error).__name__}: {error}")
    return replace(findings, seconds=spent)


def _build_pages(settings: Settings, results: dict[str, list[Any]], since: float) -> dict[str, tuple[str, ...]]:
    """Every phase's validation page, then the index (from the history), built once for the audit."""
    from checkpoints.run_pages import write_validation_pages  # GX's renderers: not before the first statement
    from reporting.site_index import finish_site

    identifiers = [identifier for found in results.values() for identifier in found]
    if not identifiers:
        return {}
    context = build_context(settings.gx_root)
    store = context.validation_results_store
    try:
        written = write_validation_pages(context, [(identifier, store.get(identifier)) for identifier in identifiers])
        pages = [url.removeprefix("file://") for site in written.values() for url in site.values()]
        finish_site(settings, pages, datetime.fromtimestamp(since, timezone.utc), "audit")
    except OSError as error:  # the findings are the verdict; the pages only show them
        logger.warning("audit: Data Docs pages not written (%s)", os_problem(error))
        return {}
    return {
        checkpoint: tuple(page for identifier in found for page in identifier_pages(context, identifier))
        for checkpoint, found in results.items()
    }


def _audit_phase(
    settings: Settings, phase: Phase, request: RangeRequest, audited: RangeAudit
) -> tuple[PhaseFindings, list[Any]]:
    days = tuple(audited.figures[PARTITION_COLUMN])
    if not days:
        return PhaseFindings(phase.checkpoint, ()), []
    rows = audited.figures.to_dict("records")
    failures = {check.name: _failures(rows, check.failure) for check in audited.checks}
    frame = pd.DataFrame({PARTITION_COLUMN: [str(day) for day in days]})
    for name, failing in failures.items():
        frame[name] = [f"{day}: {failing[day]}" if day in failing else None for day in days]
    validated = _validate(settings, phase, request, frame, audited)
    checks = tuple(
        CheckFindings(check.name, check.severity, check.expected, failures[check.name]) for check in audited.checks
    )
    return PhaseFindings(phase.checkpoint, days, checks, audited.figures), validated


def _failures(rows: list[dict[str, Any]], failure: Failure) -> dict[date, str]:
    found = {}
    for figures in rows:
        text = failure(figures)
        if text:
            found[figures[PARTITION_COLUMN]] = text
    return found


def _validate(
    settings: Settings, phase: Phase, request: RangeRequest, frame: pd.DataFrame, audited: RangeAudit
) -> list[Any]:
    """One GX validation of the phase's findings: an expectation per check, its failing values the dates.
    Returns the stored result's identifiers (its Data Docs page is built with the others')."""
    from great_expectations.core.run_identifier import RunIdentifier

    from expectations.audit_expectation import ExpectNoFailingDates
    from expectations.declare import CheckedBatch, check

    expectations = tuple(
        check(ExpectNoFailingDates(check_column=c.name), c.name, c.severity, c.expected) for c in audited.checks
    )
    name = f"audit_{phase.checkpoint}"
    batches = [CheckedBatch(name, "", expectations, frame=frame)]
    label = f"{request.start}..{request.end}"

    def run_checkpoint(checked: list[CheckedBatch], in_memory: bool) -> Any:
        context = build_context(settings.gx_root, in_memory=in_memory)
        with redirect_stdout(io.StringIO()):
            checkpoint = build_checkpoint(context, name, checked, [], {}, update_data_docs=False)
            return checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(f"{name}-{label}"))

    stored = True
    try:
        result = run_checkpoint(batches, in_memory=False)
    except OSError as error:  # a read-only or full gx/ folder: the verdict stands, only its page is lost
        logger.warning("%s: no Data Docs page, the result could not be stored (%s)", name, os_problem(error))
        result, stored = run_checkpoint(fresh_copies(batches), in_memory=True), False
    _check_verdicts(name, result, frame)
    return list(result.run_results) if stored else []


def _check_verdicts(name: str, result: Any, frame: pd.DataFrame) -> None:
    """GX's verdict is the record: a check GX could not evaluate, or judged otherwise than the findings
    (a failing date GX did not see, or the reverse), means the audit could not run, never a pass."""
    for outcome in result.run_results.values():
        for expectation in outcome.results:
            config = expectation.expectation_config
            if expectation.exception_info and expectation.exception_info.get("raised_exception"):
                raise CouldNotRun(f"{name}: GX raised on {config.type}")
            column = config.kwargs["check_column"]
            if expectation.success != bool(frame[column].notna().sum() == 0):
                raise CouldNotRun(f"{name}: GX and the findings disagree on {column}")
