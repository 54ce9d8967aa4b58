"""Checks of what a phase's completion messages claim: "a pipeline that says it wrote 950 predictions
when 400 landed is an incident no anchor check can see."

The service runs a phase's checkpoint when its messages arrived and passes their claims
(expectations/claims.py); they become named checks of that checkpoint, configured like any other
([phaseN.severity]). expectations/claim_rows.py decides each claim; here they are declared:
- a warehouse phase (3, 4, 5, 5B) gets one more batch, `claims`: the claim rows as an inline table
  joined to the counts they are compared with, each count a read of one table's date partition, so
  the claims cost one statement;
- Phase 6, a frame of facts, gets the claim rows as more facts (`record` = claim) and GX column checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from great_expectations import expectations as gxe
from great_expectations.expectations import Expectation
from great_expectations.expectations.row_conditions import Column

from expectations.check_names import (
    CLAIM_BATCH_COMPLETE,
    CLAIM_BATCH_NO_FAILED_PREDICTIONS,
    CLAIM_BATCH_NOT_STALLED,
    CLAIM_CHECK_NAMES,
    CLAIM_EXPORT_ERRORS_EMPTY,
    CLAIM_EXPORT_PATHS_EXIST,
    CLAIM_ROWS_LANDED,
    CLAIM_STATUS_NOT_FAILED,
    CLAIM_STATUS_SUCCESS,
    CLAIM_TABLE_KNOWN,
)
from expectations.claim_rows import OUTPUT_TABLES, PATH, PLAYERS, ClaimContext, ClaimRow, Landed, judge, skip_reason
from expectations.declare import CheckedBatch, PhaseRequest, checker, no_failing_rows
from expectations.definitions import active_predictions
from warehouse.catalog import FAILED_COLUMN, PARTITION_COLUMN, PREDICTIONS
from warehouse.dialect import BIGQUERY, duckdb_type
from warehouse.exports import open_export_store
from warehouse.settings import Settings, Thresholds

ASSET = "claims"
CLAIM_RECORD = "claim"  # a Phase 6 fact row about a claim
P = PREDICTIONS.c
# The columns of the claims batch, with their BigQuery types.
COLUMNS = {
    "check_name": "STRING",
    "processor": "STRING",
    "field": "STRING",
    "claimed": "STRING",
    "claimed_count": "INT64",
    "unit": "STRING",
    "measure": "STRING",
    "note": "STRING",
    FAILED_COLUMN: "BOOL",
}


def with_claims(
    request: PhaseRequest, settings: Settings, checkpoint: str, batches: list[CheckedBatch]
) -> list[CheckedBatch]:
    """The phase's batches with the checks of `request.claims` added (none: the batches as they are)."""
    if request.claims is None:
        return batches
    thresholds: Thresholds = getattr(settings, checkpoint)
    frame_phase = any(batch.frame is not None for batch in batches)
    context = ClaimContext(
        checkpoint,
        request.datasets,
        settings.phase5.min_batch_completion_pct,
        open_export_store(settings.export_root) if frame_phase else None,
    )
    rows = judge(request.claims, context)
    tables = ", ".join(t.qualified(request.datasets) for t in OUTPUT_TABLES.get(checkpoint, ()))
    wording = Wording(tables, context.min_batch_completion_pct, settings.export_root)
    checks = claim_checks(thresholds, checkpoint, wording, frame_phase, rows)
    if frame_phase:
        return [with_claim_facts(batch, rows, checks) if batch.frame is not None else batch for batch in batches]
    return [*batches, CheckedBatch(ASSET, claims_query(request, rows), checks)]


@dataclass(frozen=True)
class Wording:
    """What the checks' expectations name: the tables reconciled, the completion gate, the export root."""

    tables: str
    min_completion_pct: float
    export_root: str


def claim_checks(
    thresholds: Thresholds, checkpoint: str, wording: Wording, frame_phase: bool, rows: list[ClaimRow]
) -> tuple[Expectation, ...]:
    """The phase's claim checks (CLAIM_CHECK_NAMES), each over its rows of the claims; a check none of
    whose rows judges anything is declared skipped (claim_rows.skip_reason)."""
    named = checker(thresholds)
    over = _frame_check if frame_phase else _sql_check
    expected = {
        CLAIM_STATUS_NOT_FAILED: (
            "no processor reported failed",
            "A failed processor may leave the date's partition as an earlier run wrote it: checks of the"
            " data alone can pass on it.",
        ),
        CLAIM_STATUS_SUCCESS: (
            "every processor reported success (no_data, partial, skipped or no status fails)",
            "The checkpoint runs on a date with games only: no data there is data missing.",
        ),
        CLAIM_TABLE_KNOWN: (
            f"each processor's output_table is one this phase's checks read ({wording.tables})",
            "A count claimed for a table nba-dq does not read cannot be reconciled: it is reported, not skipped.",
        ),
        CLAIM_ROWS_LANDED: (
            "the date's partition holds at least what each processor claims it wrote (record_count and"
            " completed_predictions count players with an active prediction in Phase 5, total_predictions rows)",
            "A pipeline that says it wrote 950 predictions when 400 landed is an incident no anchor check can see.",
        ),
        CLAIM_BATCH_COMPLETE: (
            f"the batch's completion_pct is at least {wording.min_completion_pct:g}, and it does not claim"
            " 0 of 0 predictions",
            "The platform's own Phase 5 to 6 gate (MIN_COMPLETION_PCT), without its override: it raises a"
            " success batch's figure to 100 when any prediction completed.",
        ),
        CLAIM_BATCH_NOT_STALLED: ("the batch's stall_detected is false", None),
        CLAIM_BATCH_NO_FAILED_PREDICTIONS: ("the batch's failed_predictions is 0", None),
        CLAIM_EXPORT_ERRORS_EMPTY: ("the export's errors list is empty", None),
        CLAIM_EXPORT_PATHS_EXIST: (
            f"every path the export claims is a file under the export root {wording.export_root}",
            "A path announced but not written is a page readers fetch and do not find.",
        ),
    }
    return tuple(
        named(name, expected[name][0], over(name), expected[name][1], skip_reason(name, rows))
        for name in CLAIM_CHECK_NAMES[checkpoint]
    )


def _sql_check(name: str) -> Expectation:
    """The check's rows of the claims batch; a count's verdict is the warehouse's (landed < claimed)."""
    if name == CLAIM_ROWS_LANDED:
        return no_failing_rows(
            "SELECT processor, field, claimed, landed, unit,"
            " COALESCE(note, CASE WHEN landed < claimed_count THEN 'fewer landed than claimed'"
            " ELSE 'landed as claimed' END) AS note,"
            f" COALESCE({FAILED_COLUMN}, landed IS NULL OR landed < claimed_count) AS {FAILED_COLUMN}"
            f" FROM {{batch}} WHERE check_name = '{name}' ORDER BY processor, field"
        )
    return no_failing_rows(
        f"SELECT processor, field, claimed, note, {FAILED_COLUMN} FROM {{batch}}"
        f" WHERE check_name = '{name}' ORDER BY processor, field"
    )


def _frame_check(name: str) -> Expectation:
    """Over Phase 6's facts: the check's claim rows carry no problem."""
    return gxe.ExpectColumnValuesToBeNull(
        column="claim_problem", row_condition=(Column("record") == CLAIM_RECORD) & (Column("claim_check") == name)
    )


def claims_query(request: PhaseRequest, rows: list[ClaimRow]) -> str:
    """The claim rows as an inline table, each count joined from one read of its table's date partition."""
    measures = {row.landed.key: row.landed for row in rows if row.landed is not None}
    counts = [
        f"SELECT '{key}' AS measure, ({landed_sql(request, landed)}) AS landed" for key, landed in measures.items()
    ]
    if not counts:  # nothing to count: an empty table of the same shape
        counts = [f"SELECT {_null(request.engine, 'STRING')} AS measure, {_null(request.engine, 'INT64')} AS landed"]
    values = " UNION ALL ".join(_row_sql(request.engine, row) for row in rows)
    selected = ", ".join(f"c.{column}" for column in COLUMNS)
    return (
        f"SELECT {selected}, m.landed FROM ({values}) AS c"
        f" LEFT JOIN ({' UNION ALL '.join(counts)}) AS m ON m.measure = c.measure"
    )


def landed_sql(request: PhaseRequest, landed: Landed) -> str:
    """Rows in the table's date partition, or distinct players with an active prediction."""
    if landed.unit == PLAYERS:
        partition = request.partition(PREDICTIONS, (P.player_lookup, P.is_active))
        return f"SELECT COUNT(DISTINCT {P.player_lookup}) FROM ({active_predictions(partition)}) AS landed_players"
    return f"SELECT COUNT(*) FROM ({request.partition(landed.table, (PARTITION_COLUMN,))}) AS landed_rows"


def _row_sql(engine: str, row: ClaimRow) -> str:
    values = {
        "check_name": row.check,
        "processor": row.processor,
        "field": row.field,
        "claimed": row.claimed,
        "claimed_count": row.claimed_count,
        "unit": row.landed.unit if row.landed else None,
        "measure": row.landed.key if row.landed else None,
        "note": row.note,
        FAILED_COLUMN: row.failed,
    }
    return "SELECT " + ", ".join(f"{_literal(engine, values[c], kind)} AS {c}" for c, kind in COLUMNS.items())


def _literal(engine: str, value: object, kind: str) -> str:
    """A typed SQL literal. Text from a message is reduced to characters that mean nothing in a string
    literal of either engine, nor to SQLAlchemy (:name) or GX (braces)."""
    if value is None:
        return _null(engine, kind)
    if kind == "BOOL":
        return "TRUE" if value else "FALSE"
    if kind == "INT64":
        return f"CAST({int(str(value))} AS {_type(engine, kind)})"
    return f"CAST('{safe_text(str(value))}' AS {_type(engine, kind)})"


def safe_text(value: str, limit: int = 300) -> str:
    kept = "".join(c if c.isalnum() and c.isascii() or c in " _.,;/()%<>=+-#@" else "?" for c in value)
    return kept[:limit] + ("..." if len(kept) > limit else "")


def _null(engine: str, kind: str) -> str:
    return f"CAST(NULL AS {_type(engine, kind)})"


def _type(engine: str, kind: str) -> str:
    return kind if engine == BIGQUERY else duckdb_type(kind)


def with_claim_facts(batch: CheckedBatch, rows: Iterable[ClaimRow], checks: tuple[Expectation, ...]) -> CheckedBatch:
    """Phase 6's batch with a fact per claim row (its problem, when it fails) and the claim checks."""
    from expectations.phase6_export import IDENTITY, with_fact_rows

    facts = [
        {
            "record": CLAIM_RECORD,
            IDENTITY: row.claimed if row.field == PATH and row.claimed else row.processor,
            "claim_check": row.check,
            "claim_problem": (row.note or "failed") if row.failed else None,
        }
        for row in rows
    ]
    frame = with_fact_rows(batch.frame, facts, ("claim_check", "claim_problem")) if batch.frame is not None else None
    return replace(batch, expectations=(*batch.expectations, *checks), frame=frame)
