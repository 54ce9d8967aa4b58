"""Running one phase's checkpoint for one game date: preflight, GX, summary."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from checkpoints.actions import ReportAction
from checkpoints.context import build_context
from checkpoints.data_docs import finish_site
from checkpoints.phases import PHASES, Phase
from checkpoints.reporting import NO_REPORTING, Reporting
from checkpoints.summary import RunSummary, check_name, checkpoint_summary
from expectations.declare import CheckedBatch, PhaseRequest
from warehouse.catalog import SCHEDULE
from warehouse.connection import Warehouse, check_schema, open_warehouse, scheduled_games
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

log = logging.getLogger(__name__)
DATASOURCE = "warehouse"
FRAMES = "facts"  # Phase 6: facts read from the export files


def run_phase(
    settings: Settings, phase_key: str, game_date: date, now: datetime, reporting: Reporting = NO_REPORTING
) -> RunSummary:
    """Validate one phase for one game date. Raises CouldNotRun when no verdict is possible.

    The checkpoint's actions write Data Docs, record the verdict in the history and send it to Slack
    (what `reporting` attaches); the pages written are then made to work offline (and published).
    """
    phase = PHASES[phase_key]
    warehouse = open_warehouse(settings, {"command": "run", "phase": phase.checkpoint})
    check_schema(warehouse, phase.tables)
    if scheduled_games(warehouse, game_date) == 0:
        raise CouldNotRun(
            f"no games scheduled on {game_date} in {warehouse.table(SCHEDULE)}: nothing to check (pick a game date)"
        )
    request = PhaseRequest(game_date=game_date, now=now, engine=warehouse.engine_name, datasets=warehouse.datasets)
    context = build_context(settings.gx_root)
    started = time.time()
    # GX prints to stdout (e.g. UnexpectedRowsExpectation's {batch} notice): keep it out of our output.
    with redirect_stdout(io.StringIO()) as chatter, closing_new_connections():
        batches = phase.build(request, settings, warehouse)
        declared = [check_name(e.meta) for batch in batches for e in batch.expectations]
        report = ReportAction(name="report", phase=phase.checkpoint, game_date=str(game_date), declared_checks=declared)
        checkpoint = build_checkpoint(context, warehouse, phase.checkpoint, str(game_date), batches, [report],
                                      {"unexpected_index_column_names": list(phase.row_identity)})  # fmt: skip
        for action in checkpoint.actions:  # the stored checkpoint is a copy: attach the reporter to it
            if isinstance(action, ReportAction):
                action.attach(reporting.report)
        result = checkpoint.run(batch_parameters=frame_parameters(batches), run_id=_run_id(phase, game_date))
    if chatter.getvalue().strip():
        log.debug("GX printed: %s", chatter.getvalue().strip())
    finish_site(settings, since=started)
    return checkpoint_summary(phase.checkpoint, game_date, result, declared, docs_pages(context, result))


def run_phases(
    settings: Settings, phase_keys: list[str], game_date: date, now: datetime, reporting: Reporting = NO_REPORTING
) -> list[RunSummary]:
    """Phases in pipeline order; one that could not run is reported (recorded, alerted) and does not stop the rest."""
    summaries = []
    for key in phase_keys:
        try:
            summaries.append(run_phase(settings, key, game_date, now, reporting))
        except CouldNotRun as error:
            failed = RunSummary(PHASES[key].checkpoint, game_date, checks=(), data_docs=(), error=str(error))
            reporting.report(failed)
            summaries.append(failed)
    return summaries


def build_checkpoint(
    context: Any,
    warehouse: Warehouse,
    name: str,
    label: str,
    batches: list[CheckedBatch],
    actions: list[Any],
    result_format: dict[str, Any],
    partial_unexpected_count: int = 20,
    update_data_docs: bool = True,
) -> Any:
    """Checkpoint `name` validating each batch against its suite; Data Docs are updated before `actions`
    (unless the caller builds them itself, for several checkpoints at once).

    `label` (a date, a range) names the validation definitions; `result_format` adds to SUMMARY.
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    datasource = _datasource(context, warehouse, batches)
    definitions = []
    for batch in batches:
        suite = context.suites.add(
            gx.ExpectationSuite(name=f"{name}.{batch.asset_name}", expectations=list(batch.expectations))
        )
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=f"{name}.{batch.asset_name}.{label}",
                    data=_batch_definition(datasource, batch, label),
                    suite=suite,
                )
            )
        )
    return context.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=definitions,
            actions=[*([UpdateDataDocsAction(name="update_data_docs")] if update_data_docs else []), *actions],
            # Failing values come with the rows' identity (which player, which system) where columns name it.
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": partial_unexpected_count,
                **result_format,
            },
        )
    )


def _datasource(context: Any, warehouse: Warehouse, batches: list[CheckedBatch]) -> Any:
    """The warehouse as a SQL datasource, or a pandas one for a phase that validates a frame of facts."""
    if frame_parameters(batches):
        return context.data_sources.add_pandas(name=FRAMES)
    return context.data_sources.add_sql(
        name=DATASOURCE,
        connection_string=warehouse.url,
        create_temp_table=False,  # temp tables need write access and would clutter the checked datasets
        kwargs=warehouse.engine_kwargs,
    )


def _batch_definition(datasource: Any, batch: CheckedBatch, name: str) -> Any:
    if batch.frame is not None:
        return datasource.add_dataframe_asset(name=batch.asset_name).add_batch_definition_whole_dataframe(name=name)
    return datasource.add_query_asset(name=batch.asset_name, query=batch.query).add_batch_definition_whole_table(
        name=name
    )


def frame_parameters(batches: list[CheckedBatch]) -> dict[str, Any]:
    """GX hands one set of batch parameters to every validation: a checkpoint can carry one frame."""
    frames = [batch.frame for batch in batches if batch.frame is not None]
    if len(frames) > 1 or (frames and len(batches) > 1):
        raise ValueError("a phase validates either warehouse queries or one frame of facts, not both")
    return {"dataframe": frames[0]} if frames else {}


def _run_id(phase: Phase, game_date: date) -> Any:
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=f"{phase.checkpoint}-{game_date}")


@contextmanager
def closing_new_connections() -> Iterator[None]:
    """Close every DB-API connection opened inside the block.

    GX keeps a persisted connection per execution engine (warehouse/gx_duckdb.py) and offers no
    reliable way to reach them all; a DuckDB file stays locked against writers while any is open.
    """
    opened: list[Any] = []

    def remember(dbapi_connection: Any, connection_record: Any) -> None:
        opened.append(dbapi_connection)

    sa.event.listen(sa.pool.Pool, "connect", remember)
    try:
        yield
    finally:
        sa.event.remove(sa.pool.Pool, "connect", remember)
        for connection in opened:
            try:
                connection.close()
            except Exception:  # already closed by its pool: nothing left to release
                log.debug("connection already closed", exc_info=True)


def docs_pages(context: Any, result: Any) -> tuple[str, ...]:
    """The Data Docs pages of a checkpoint result's validations (local paths)."""
    return tuple(page for identifier in result.run_results for page in identifier_pages(context, identifier))


def identifier_pages(context: Any, identifier: Any) -> list[str]:
    sites = context.get_docs_sites_urls(resource_identifier=identifier)
    return [site["site_url"].removeprefix("file://") for site in sites if site.get("site_url")]
