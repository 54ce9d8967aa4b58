"""What `nba-dq audit` prints: the table of failing dates (consecutive dates failing the same checks on one
row), or one JSON object."""

from __future__ import annotations

from datetime import date
from typing import Any

from checkpoints.audit import AuditReport, CheckFindings, PhaseFindings
from checkpoints.summary import CRITICAL
from reporting.terminal import printable
from warehouse.errors import ExitCode


def render_audit(report: AuditReport) -> str:
    """Per phase a line, then the failing dates and the dates passing with warnings (as `run` passes
    them): consecutive game dates failing the same checks are one row."""
    verdict = {ExitCode.PASSED: "PASS", ExitCode.CHECK_FAILED: "FAIL", ExitCode.COULD_NOT_RUN: "ERROR"}
    lines = [f"audit {report.start}..{report.end}: {verdict[report.exit_code]}", ""]
    for phase in report.phases:
        if phase.error:
            lines.append(f"{phase.checkpoint:<8} could not run: {printable(phase.error)}")
            continue
        lines.append(
            f"{phase.checkpoint:<8} {len(phase.checks)} checks over {len(phase.game_dates)} game dates:"
            f" {len(phase.failing_dates)} failing, {len(phase.warning_dates)} with warnings only"
            f" ({phase.seconds:.1f} s)"
        )
        lines += [f"         Data Docs: {printable(page)}" for page in phase.data_docs]
    sections = (
        ("failing game dates (consecutive dates failing the same checks share a row):", "failing_dates"),
        ("game dates passing with warnings (as run: exit 0):", "warning_dates"),
    )
    for title, which in sections:
        rows = [row for phase in report.phases for row in _date_rows(phase, getattr(phase, which))]
        lines += ["", title]
        if not rows:
            lines.append("  none")
            continue
        header = ("from", "to", "dates", "phase", "severity", "failing checks: first date's findings")
        widths = [10, 10, 5, 8, 8]
        for row in [header, *sorted(rows)]:
            cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  " + "  ".join([*cells, printable(row[-1])]))
    return "\n".join(lines)


def _date_rows(phase: PhaseFindings, dates: list[date]) -> list[tuple[str, str, str, str, str, str]]:
    """Rows of consecutive game dates (among `dates`) failing the same checks."""
    chosen = set(dates)
    runs: list[list[date]] = []
    signature_of: dict[date, tuple[str, ...]] = {}
    for day in phase.game_dates:
        signature_of[day] = tuple(check.name for check in phase.checks if day in check.failures)
    previous: date | None = None
    for day in phase.game_dates:
        if day not in chosen:
            previous = None
            continue
        if previous is not None and signature_of[day] == signature_of[previous]:
            runs[-1].append(day)
        else:
            runs.append([day])
        previous = day
    rows = []
    for run in runs:
        failing = [check for check in phase.checks if run[0] in check.failures]
        severity = CRITICAL if any(check.severity == CRITICAL for check in failing) else failing[0].severity
        findings = "; ".join(f"{check.name}: {check.failures[run[0]]}" for check in failing)
        rows.append((str(run[0]), str(run[-1]), str(len(run)), phase.checkpoint, severity, findings))
    return rows


def audit_json(report: AuditReport) -> dict[str, Any]:
    return {
        "status": {ExitCode.PASSED: "pass", ExitCode.CHECK_FAILED: "fail"}.get(report.exit_code, "error"),
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "phases": [
            {
                "phase": phase.checkpoint,
                "error": phase.error,
                "game_dates": len(phase.game_dates),
                "failing_dates": [day.isoformat() for day in phase.failing_dates],
                "warning_dates": [day.isoformat() for day in phase.warning_dates],
                "checks": [
                    {
                        "check": check.name,
                        "severity": check.severity,
                        "expected": check.expected,
                        "status": _check_status(check),
                        "failures": {day.isoformat(): text for day, text in sorted(check.failures.items())},
                    }
                    for check in phase.checks
                ],
                "data_docs": list(phase.data_docs),
                "seconds": round(phase.seconds, 3),
            }
            for phase in report.phases
        ],
    }


def _check_status(check: CheckFindings) -> str:
    """As `run` shows a check: a failed warning is "warn" (its dates still pass)."""
    if check.passed:
        return "pass"
    return "fail" if check.severity == CRITICAL else "warn"
