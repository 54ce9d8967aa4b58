"""`nba-dq run --dry-run`: the statements a run would issue, with their job labels and, on BigQuery,
the bytes each would process (dry-run jobs), without running a check.

Declaring a phase's checks still reads what they are declared from: the preflight (the schema, the
date's games) and the thresholds that come from data (Phase 5's volume history, Phase 6's export
files). Those statements run and are listed as run; the checks' statements, one per table, do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from checkpoints.phases import PHASES
from checkpoints.run import declare_phase, table_statements
from reporting.terminal import printable
from warehouse.bigquery import dry_run_bytes, job_labels
from warehouse.dialect import BIGQUERY
from warehouse.settings import Settings
from warehouse.statements import capturing_statements


@dataclass(frozen=True)
class PlannedStatement:
    phase: str
    sql: str
    labels: Mapping[str, str]  # as the job carries them (BigQuery only; DuckDB has no jobs)
    ran: bool  # run to declare the checks; a check's statement never runs in a dry run
    bytes_processed: int | None = None  # BigQuery's dry-run estimate for a statement not run


def plan(settings: Settings, keys: list[str], game_date: date, now: datetime) -> list[PlannedStatement]:
    planned = []
    for key in keys:
        phase = PHASES[key]
        labels = {"command": "run", "phase": phase.checkpoint}
        with capturing_statements() as ran:
            batches = declare_phase(settings, phase, game_date, now, labels)
        planned += [PlannedStatement(phase.checkpoint, sql, job_labels(labels), ran=True) for sql in ran.texts]
        for statement in table_statements(settings, labels, batches):
            on_bigquery = statement.warehouse.engine_name == BIGQUERY
            estimate = dry_run_bytes(settings, statement.labels, statement.sql) if on_bigquery else None
            planned.append(
                PlannedStatement(phase.checkpoint, statement.sql, job_labels(statement.labels), False, estimate)
            )
    return planned


def render_plan(planned: list[PlannedStatement], game_date: date) -> str:
    """A SQL script: each statement under a comment saying whose it is, its labels and its bytes."""
    ran = sum(1 for statement in planned if statement.ran)
    lines = [
        f"-- nba-dq run --dry-run, {game_date}: {len(planned)} statements. {ran} ran to declare the checks,"
        f" {len(planned) - ran} (the checks, one per table) did not run. Labels are those of the BigQuery jobs."
    ]
    for number, statement in enumerate(planned, 1):
        what = "ran (to declare the checks)" if statement.ran else "not run (the checks)"
        size = "" if statement.bytes_processed is None else f", {statement.bytes_processed:,} bytes processed"
        labels = ", ".join(f"{key}={value}" if value else key for key, value in statement.labels.items())
        sql = "\n".join(printable(line) for line in statement.sql.strip().split("\n"))  # its own newlines stay
        lines += [
            "",
            f"-- {number}. {statement.phase}: {what}{size}",
            f"-- labels: {printable(labels)}",
            f"{sql};",
        ]
    return "\n".join(lines)


def plan_json(planned: list[PlannedStatement], game_date: date) -> dict[str, Any]:
    return {
        "game_date": str(game_date),
        "statements": [
            {
                "phase": s.phase,
                "ran": s.ran,
                "labels": dict(s.labels),
                "bytes_processed": s.bytes_processed,
                "sql": s.sql.strip(),
            }
            for s in planned
        ],
    }
