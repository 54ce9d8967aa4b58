"""What each claim of a phase's completion messages comes to: one row per processor and claim.

A row is decided here (a status, a batch's completion, an export's errors or files) or, for a claimed
count, by the warehouse: the row names what the count is compared with (`Landed`) and
expectations/reconcile.py reads it in the claims' one statement. A claim the message does not carry,
or carries in a shape nba-dq cannot read, is a failing row saying so ("not judged"), never a pass.
Two claims are left unjudged without failing, as the platform's own messages lack them every day: a
table nba-dq does not read, and a batch's stall_detected or failed_predictions the live message does not
carry. Those rows are `skipped`, and a check with no other row is declared skipped (SKIP, not PASS).
Free of GX and pandas, like expectations/claims.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from expectations.check_names import (
    CLAIM_BATCH_COMPLETE,
    CLAIM_BATCH_NO_FAILED_PREDICTIONS,
    CLAIM_BATCH_NOT_STALLED,
    CLAIM_EXPORT_ERRORS_EMPTY,
    CLAIM_EXPORT_PATHS_EXIST,
    CLAIM_ROWS_LANDED,
    CLAIM_STATUS_NOT_FAILED,
    CLAIM_STATUS_SUCCESS,
    CLAIM_TABLE_KNOWN,
)
from expectations.claims import PhaseClaims, ProcessorReport
from warehouse.catalog import (
    ALL_TABLES,
    FEATURE_STORE,
    PLAYER_GAME_SUMMARY,
    PREDICTION_ACCURACY,
    PREDICTIONS,
    UPCOMING_CONTEXT,
    Table,
)
from warehouse.exports import ExportStore

SUCCESS, FAILED = "success", "failed"
ROWS, PLAYERS = "rows", "players"  # what a claimed count counts
RECORD_COUNT, PATH = "record_count", "path"
MAX_COUNT = 2**63 - 1  # an INT64: a larger "count" is no count
# The tables a phase's processors say they wrote that nba-dq reads (others are reported, not reconciled).
OUTPUT_TABLES: dict[str, tuple[Table, ...]] = {
    "phase3": (UPCOMING_CONTEXT, PLAYER_GAME_SUMMARY),
    "phase4": (FEATURE_STORE,),
    "phase5": (PREDICTIONS,),
}


@dataclass(frozen=True)
class Landed:
    """What a claimed count is compared with: a count of the table's partition for the date."""

    table: Table
    unit: str  # ROWS, or PLAYERS (distinct players with an active prediction)

    @property
    def key(self) -> str:
        return f"{self.table.name}/{self.unit}"


@dataclass(frozen=True)
class ClaimRow:
    check: str
    processor: str
    field: str  # the message's field judged (status, record_count, completion_pct, a path...)
    claimed: str | None  # its value as the message gave it
    note: str | None = None  # why the row fails, or what it was compared with
    failed: bool | None = None  # None: the warehouse decides (claimed_count against `landed`)
    claimed_count: int | None = None
    landed: Landed | None = None
    skipped: bool = False  # judges nothing and fails nothing: its check is a skip when no row judges


@dataclass(frozen=True)
class ClaimContext:
    """What judging a phase's claims needs besides the claims."""

    checkpoint: str
    datasets: Mapping[str, str]
    min_batch_completion_pct: float
    exports: ExportStore | None = None  # Phase 6 only


def judge(claims: PhaseClaims, context: ClaimContext) -> list[ClaimRow]:
    """Every claim of every report as rows; claims holding no report are a failing row, not a silence."""
    if not claims.reports:
        return [ClaimRow(CLAIM_STATUS_SUCCESS, "-", "status", None, "the claims hold no report of any processor", True)]
    rows: list[ClaimRow] = []
    for report in sorted(claims.reports, key=lambda r: str(r.processor)):
        rows += status_rows(report)
        if context.checkpoint in OUTPUT_TABLES:
            table, row = table_row(report, OUTPUT_TABLES[context.checkpoint], context.datasets)
            rows.append(row)
            if table is not None:
                rows += count_rows(report, context.checkpoint, table)
        if context.checkpoint == "phase5b":
            rows += count_rows(report, context.checkpoint, PREDICTION_ACCURACY)
        if context.checkpoint == "phase5":
            rows += batch_rows(report, context.min_batch_completion_pct)
        if context.checkpoint == "phase6":
            rows.append(export_errors_row(report))
            rows += export_path_rows(report, context.exports)
    return rows


def status_rows(report: ProcessorReport) -> list[ClaimRow]:
    """A failed processor fails one check; any other status that is not success (no_data, partial,
    skipped...) the other, saying what it was."""
    status = report.status.strip() if isinstance(report.status, str) else ""
    failed = status == FAILED
    other = status not in (SUCCESS, FAILED)
    other_note = f"reported {status}" if status else "the message carries no status"
    return [
        ClaimRow(CLAIM_STATUS_NOT_FAILED, report.processor, "status", status, "reported failed" if failed else None,
                 failed),
        ClaimRow(CLAIM_STATUS_SUCCESS, report.processor, "status", status, other_note if other else None, other),
    ]  # fmt: skip


def table_row(
    report: ProcessorReport, tables: tuple[Table, ...], datasets: Mapping[str, str]
) -> tuple[Table | None, ClaimRow]:
    """The catalog table the report's output_table names ("dataset.table" or bare), if nba-dq reads it."""
    claimed = report.output_table.strip() if isinstance(report.output_table, str) else ""

    def row(note: str, failed: bool) -> ClaimRow:
        return ClaimRow(CLAIM_TABLE_KNOWN, report.processor, "output_table", claimed or None, note, failed)

    if not claimed:
        return None, row("the message names no output_table", True)
    dataset, _, name = claimed.rpartition(".")
    table = next((t for t in tables if t.name == name), None)
    if table is None:  # shown with the check's rows; failing it would alert on every run of Phases 3 and 4
        where = (
            "a table the checks of this phase read" if name in {t.name for t in ALL_TABLES} else "in the nba-dq catalog"
        )
        skipped = row(f"{claimed} is not {where}, so its count is not reconciled", False)
        return None, replace(skipped, skipped=True)
    if dataset and dataset.rpartition(".")[2] != datasets[table.dataset_role]:
        return None, row(f"{claimed} is not {table.qualified(datasets)}, the table nba-dq reads", True)
    return table, row(table.qualified(datasets), False)


def count_rows(report: ProcessorReport, checkpoint: str, table: Table) -> list[ClaimRow]:
    """A claimed count against what landed in the date's partition: fewer landed than claimed fails.

    Phase 3 and 4 count rows sent to the MERGE (0 on an intentional skip); Phase 5's record_count and
    completed_predictions count players, total_predictions predictions (one row each); grading's
    graded_count the rows written to prediction_accuracy."""
    if checkpoint == "phase5":
        claims = [(RECORD_COUNT, report.record_count, PLAYERS)]
        claims += [(field, report.details[field], unit)
                   for field, unit in (("completed_predictions", PLAYERS), ("total_predictions", ROWS))
                   if field in report.details]  # fmt: skip
    elif checkpoint == "phase5b":
        claims = [("graded_count", report.details.get("graded_count"), ROWS)]
    else:
        claims = [(RECORD_COUNT, report.record_count, ROWS)]
    rows = []
    for field, value, unit in claims:
        count = as_count(value)
        if count is None:
            note = (
                f"the message carries no {field}, not judged" if value is None else f"not a count ({value}), not judged"
            )
            rows.append(ClaimRow(CLAIM_ROWS_LANDED, report.processor, field, text(value), note, True))
        else:
            rows.append(ClaimRow(CLAIM_ROWS_LANDED, report.processor, field, str(count), None, None, count,
                                 Landed(table, unit)))  # fmt: skip
    return rows


def batch_rows(report: ProcessorReport, min_completion_pct: float) -> list[ClaimRow]:
    """A prediction batch's own figures: completion, stall, failed predictions. completion_pct is in
    every message the coordinator sends; the live one carries no stall_detected, and its failures as
    records_failed: a figure the message does not carry is shown as not judged without failing (else
    every day's run would fail on the platform's own message shape), a figure it carries that is not
    a boolean or a count fails."""
    details, processor = report.details, report.processor
    failed_field = (
        "records_failed"
        if "failed_predictions" not in details and "records_failed" in details
        else ("failed_predictions")
    )
    judged = (  # (check, field, problem, not carried: shown as not judged without failing)
        (CLAIM_BATCH_COMPLETE, "completion_pct", completion_problem(details, min_completion_pct), False),
        (
            CLAIM_BATCH_NOT_STALLED,
            "stall_detected",
            stall_problem(details.get("stall_detected")),
            details.get("stall_detected") is None,
        ),
        (
            CLAIM_BATCH_NO_FAILED_PREDICTIONS,
            failed_field,
            failures_problem(details.get(failed_field)),
            details.get(failed_field) is None,
        ),
    )
    return [
        ClaimRow(check, processor, field, text(details.get(field)), problem,
                 problem is not None and not absent, skipped=absent)
        for check, field, problem, absent in judged
    ]  # fmt: skip


def skip_reason(check: str, rows: list[ClaimRow]) -> str | None:
    """Why a claim check judges nothing (every row of it skipped, or none), or None when it judges."""
    own = [row for row in rows if row.check == check]
    if any(not row.skipped for row in own):
        return None
    if not own:
        return "the messages claim nothing this check judges"
    return "; ".join(dict.fromkeys(f"{row.processor}: {row.note}" for row in own))


NOT_CARRIED = "the message carries no"


def completion_problem(details: Mapping[str, Any], min_completion_pct: float) -> str | None:
    pct = details.get("completion_pct")
    expected = details.get("expected_predictions", details.get("expected_players"))
    if as_count(expected) == 0 and as_count(details.get("completed_predictions")) == 0:
        return "claims nothing (0 expected, 0 completed), as the legacy batch summary metadata does"
    if pct is None:
        return "the message carries no completion_pct, not judged"
    if not is_number(pct):
        return f"not a percentage ({pct}), not judged"
    return f"{pct:.1f}% completed, below {min_completion_pct:g}%" if pct < min_completion_pct else None


def stall_problem(stall: Any) -> str | None:
    if stall is None:
        return f"{NOT_CARRIED} stall_detected, not judged"
    if not isinstance(stall, bool):
        return f"not a boolean ({stall}), not judged"
    return "stall detected" if stall else None


def failures_problem(failures: Any) -> str | None:
    count = as_count(failures)
    if failures is None:
        return f"{NOT_CARRIED} failed_predictions, not judged"
    if count is None:
        return f"not a count ({failures}), not judged"
    return f"{count} predictions failed" if count else None


def export_errors_row(report: ProcessorReport) -> ClaimRow:
    errors = report.details.get("errors")
    if errors is None:
        note, failed = "the message carries no errors list, not judged", True
    elif not isinstance(errors, list):
        note, failed = f"not a list {errors!r}, not judged", True
    else:
        shown = "; ".join(str(error) for error in errors[:3]) + (
            f"; ... {len(errors) - 3} more" if len(errors) > 3 else ""
        )
        note, failed = (f"{len(errors)} errors: {shown}" if errors else None), bool(errors)
    return ClaimRow(CLAIM_EXPORT_ERRORS_EMPTY, report.processor, "errors", text(errors), note, failed)


def export_path_rows(report: ProcessorReport, store: ExportStore | None) -> list[ClaimRow]:
    """Each path the export says it wrote, looked for in the export store (a None path claims nothing)."""
    paths = report.details.get("paths")
    if not isinstance(paths, Mapping):
        what = "the message carries no paths" if paths is None else f"not a mapping of paths {paths!r}"
        return [ClaimRow(CLAIM_EXPORT_PATHS_EXIST, report.processor, PATH, text(paths), f"{what}, not judged", True)]
    rows, listed = [], ListedFolders(store) if store is not None else None
    for path in claimed_paths(paths):
        if not isinstance(path, str):
            note: str | None = f"not a path {path!r}"
        else:
            note = listed.missing(path) if listed is not None else "no export store, not judged"
        rows.append(ClaimRow(CLAIM_EXPORT_PATHS_EXIST, report.processor, PATH, text(path), note, note is not None))
    return rows


def claimed_paths(paths: Mapping[str, Any]) -> Iterator[Any]:
    """Values are paths, or lists of them (tonight_players); None is an export that wrote nothing."""
    for value in paths.values():
        if isinstance(value, list):
            yield from value
        elif value is not None:
            yield value


class ListedFolders:
    """Which claimed export paths the store holds, one listing per folder rather than a read per file."""

    def __init__(self, store: ExportStore) -> None:
        self.store, self.base = store, store.location("").rstrip("/") + "/"
        self._folders: dict[str, set[str]] = {}

    def missing(self, path: str) -> str | None:
        """Why a claimed path is not in the store (None: it is)."""
        relative = path[len(self.base) :] if path.startswith(self.base) else ""
        if not relative or ".." in relative.split("/"):
            return f"not under the export root {self.base}, not checked"
        folder, _, name = relative.rpartition("/")
        if folder not in self._folders:
            self._folders[folder] = self.store.files_in(folder)
        return None if name in self._folders[folder] else f"missing: {self.store.location(relative)}"


def as_count(value: Any) -> int | None:
    """A count as a message may carry it: a non-negative int (a bool is no count; 12.0 is 12)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if 0 <= value <= MAX_COUNT else None


def is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def text(value: Any) -> str | None:
    """A claimed value as text for the report (JSON-like: true, not True)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
