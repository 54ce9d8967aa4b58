"""What the platform's completion messages claim about a phase's run, for checks to reconcile with the warehouse.

Built by `nba-dq serve` (runners/completion.py) from the latest message of each processor for a
(phase, game date); the CLI runs without claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProcessorReport:
    processor: str  # processor_name
    status: str  # success | partial | no_data | failed
    output_table: str | None  # as the message says (may be "dataset.table" or bare table)
    record_count: int | None
    details: Mapping[str, Any]  # Phase 5 metadata (batch_id, expected_predictions, completed_predictions,
    # failed_predictions, completion_pct, stall_detected); grading's body fields
    # (predictions_found, graded_count, ...); Phase 6's (export_type, paths, errors)
    execution_id: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class PhaseClaims:
    reports: tuple[ProcessorReport, ...]  # the latest report of each processor for (phase, date)
