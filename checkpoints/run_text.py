"""The CLI's text view of a run's verdict: a table per phase (check, status, observed, expected), the
details of every check that did not pass (a skip with why it could not judge) and the run's pages.

Every value from the data goes through `printable` (reporting/terminal.py) where it enters the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checkpoints.summary import (
    ERROR,
    FAIL,
    PASS,
    SHOWN_STATUSES,
    SKIP,
    STATUS_OF,
    WARN,
    CheckOutcome,
    RunSummary,
    detail_rows,
    shown_status,
    worst_exit_code,
)
from reporting.terminal import printable

COUNTED_AS = {PASS: "passed", WARN: "warned", FAIL: "failed", ERROR: "could not run", SKIP: "skipped"}


def render_text(summary: RunSummary, width: int = 60) -> str:
    """The readable table (check, status, observed, expected), then the details of what did not pass."""
    header = ("check", "status", "observed", "expected")
    rows = [(check.name, _status_label(check), _clip(brief(check), width), check.expected) for check in summary.checks]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    line = lambda cells: "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(cells))  # noqa: E731
    if summary.error:
        return f"{summary.phase} {summary.game_date}: ERROR: could not run: {printable(summary.error)}"
    counts = counted(summary)
    verdict = f"{summary.phase} {summary.game_date}: {summary.status.upper()}" + (f" ({counts})" if counts else "")
    out = [verdict, line(header)]
    out += [line(row) for row in rows]
    for check in summary.not_passed():
        out.append(f"\n{check.name} ({_status_label(check)}):")
        out += [f"  {detail}" for detail in _details(check)]
    out += [f"\nData Docs: {printable(page)}" for page in summary.data_docs[:1]]
    out += [f"           {printable(page)}" for page in summary.data_docs[1:]]
    return "\n".join(out)


def render_combined(summaries: list[RunSummary]) -> str:
    verdicts = ", ".join(f"{summary.phase} {summary.status.upper()}" for summary in summaries)
    total = STATUS_OF[worst_exit_code(summaries)].upper()
    body = "\n\n".join(render_text(summary) for summary in summaries)
    return f"{body}\n\nall phases {summaries[0].game_date}: {total} ({verdicts})"


def counted(summary: RunSummary) -> str:
    """The non-zero counts ("13 passed, 1 skipped"): a skip is never among the passed."""
    counts = summary.counts()
    return ", ".join(f"{counts[status]} {COUNTED_AS[status]}" for status in SHOWN_STATUSES if counts[status])


def _status_label(check: CheckOutcome) -> str:
    return shown_status(check).upper()


def brief(check: CheckOutcome) -> str:
    """The observed value in one line (control characters from the data escaped)."""
    if check.error:
        return f"error: {printable(check.error)}"
    observed = check.observed
    if isinstance(observed, list):
        if len(observed) == 1:
            return _pairs(observed[0])
        return f"{len(observed)} rows" + (f": {_pairs(observed[0])}; ..." if observed else "")
    if isinstance(observed, dict) and "unexpected" in observed:
        samples = [_pairs(item) if isinstance(item, Mapping) else printable(item) for item in observed["sample"]]
        sample = f": {'; '.join(samples)}" if samples else ""
        return f"{observed['unexpected']} of {observed['rows']} rows unexpected{sample}"
    return printable(observed)


def _details(check: CheckOutcome, limit: int = 10) -> list[str]:
    if check.error:
        return [printable(check.error)]
    if check.status == SKIP:
        return [f"not judged: {printable(check.skip_reason)}"]
    rows = detail_rows(check)
    if not rows:
        return [brief(check)]
    total = check.observed["unexpected"] if isinstance(check.observed, dict) else len(rows)
    lines = [_pairs(row) for row in rows[:limit]]
    if total > len(lines):
        lines.append(f"... and {total - len(lines)} more (see --json or Data Docs)")
    return lines


def _pairs(row: Mapping[str, Any]) -> str:
    return ", ".join(f"{printable(key)}={printable(value)}" for key, value in row.items())


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
