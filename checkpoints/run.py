"""Running one phase's checkpoint for one game date: preflight, one statement per table, GX, summary.

GX and pandas are imported where they are first used, after the preflight (the phase's suite module
loads GX as it declares): `nba-dq run` issues its preflight statements (schema, games scheduled) before
paying for them (tests/test_startup_imports.py).
"""

from __future__ import annotations

import copy
import io
import logging
from collections.abc import Mapping
from contextlib import redirect_stdout
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checkpoints.context import (
    SHARED_CONTEXT_LOCK,
    build_context,
    frames_datasource,
    registered,
    registered_definition,
    registered_suite,
    shared_context,
    whole_frame,
)
from checkpoints.phases import PHASES, Phase
from checkpoints.summary import RunSummary, check_name, checkpoint_summary
from expectations.claims import PhaseClaims
from expectations.declare import CheckedBatch, PhaseRequest, findings_sql
from reporting.reporter import NO_REPORTING, Reporting
from warehouse.catalog import SCHEDULE
from warehouse.connection import (
    Warehouse,
    check_schema,
    first_line,
    one_connection_per_file,
    open_warehouse,
    scheduled_games,
)
from warehouse.errors import CouldNotRun, NoGames, os_problem
from warehouse.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
CHECK_LABEL_PREFIX = "check_"
FRAMES = "findings"  # GX validates frames: the tables' findings, Phase 6's facts, an audit's dates
WHOLE_FRAME = "frame"  # each frame asset's batch definition


def run_phase(
    settings: Settings,
    phase_key: str,
    game_date: date,
    now: datetime,
    reporting: Reporting = NO_REPORTING,
    claims: PhaseClaims | None = None,
) -> RunSummary:
    """Validate one phase for one game date. Raises CouldNotRun when no verdict is possible.

    `claims`: what the phase's completion messages say (the service); their checks join the phase's.

    The checkpoint's actions write the run's Data Docs pages (offline-safe), record the verdict in the
    history and send it to Slack (what `reporting` attaches); run_phases then writes the site's index.
    """
    phase = PHASES[phase_key]
    labels = {"command": "run", "phase": phase.checkpoint}
    # GX prints to stdout (e.g. a custom expectation's registration notice): keep it out of our output.
    with redirect_stdout(io.StringIO()) as chatter, one_connection_per_file():
        batches = declare_phase(settings, phase, game_date, now, labels, claims)
        frame = checked_frame(settings, labels, batches)
    declared = [check_name(e.meta) for batch in batches for e in batch.expectations]
    run_id = _run_id(phase, game_date)
    validate = partial(_validate, phase, str(game_date), declared, frame, reporting, run_id, chatter)
    context = None
    try:
        context = shared_context(settings.gx_root)
        with SHARED_CONTEXT_LOCK:
            result = validate(context, True, batches)
    except OSError as error:  # a read-only or full gx/ folder: the checks still give their verdict
        reporting.could_not_record(
            f"{phase.checkpoint} {game_date}: validation results and Data Docs ({os_problem(error)})"
        )
        if context is not None:
            _discard_results(context, run_id)
        context = build_context(settings.gx_root, in_memory=True)
        result = validate(context, False, fresh_copies(batches))
    if chatter.getvalue().strip():
        log.debug("GX printed: %s", chatter.getvalue().strip())
    return checkpoint_summary(phase.checkpoint, game_date, result, declared, pages_by_validation(context, result))


def _validate(
    phase: Phase,
    label: str,
    declared: list[str],
    frame: pd.DataFrame,
    reporting: Reporting,
    run_id: Any,
    chatter: io.StringIO,
    context: Any,
    data_docs: bool,
    batches: list[CheckedBatch],
) -> Any:
    """Run the phase's checkpoint on the frame in `context`; its report action hands the verdict on.

    GX stores each result before the actions run, so a store that fails raises before anything was
    reported: running again in memory reports the verdict once."""
    from checkpoints.actions import ReportAction  # a GX action

    with redirect_stdout(chatter):
        report = ReportAction(name="report", phase=phase.checkpoint, game_date=label, declared_checks=declared)
        checkpoint = build_checkpoint(context, phase.checkpoint, batches, [report],
                                      {"unexpected_index_column_names": list(phase.row_identity)},
                                      update_data_docs=data_docs)  # fmt: skip
        for action in checkpoint.actions:  # the stored checkpoint is a copy: attach the reporter to it
            if isinstance(action, ReportAction):
                action.attach(reporting.report)
        return checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id)


def fresh_copies(batches: list[CheckedBatch]) -> list[CheckedBatch]:
    """The batches with copies of their expectations: GX refuses one that already belongs to a suite."""
    return [replace(batch, expectations=tuple(copy.copy(e) for e in batch.expectations)) for batch in batches]


def _discard_results(context: Any, run_id: Any) -> None:
    """Remove what the failed attempt stored of this run: results and pages a full disk cut short."""
    try:
        store = context.validation_results_store
        for key in store.list_keys():
            if getattr(key, "run_id", None) is not None and key.run_id.to_tuple() == run_id.to_tuple():
                for page in identifier_pages(context, key):
                    Path(page).unlink(missing_ok=True)
                store.remove_key(key)
    except OSError as error:  # a read-only folder holds nothing of this run
        log.debug("could not remove this run's stored results: %s", error)


def declare_phase(
    settings: Settings,
    phase: Phase,
    game_date: date,
    now: datetime,
    labels: Mapping[str, str],
    claims: PhaseClaims | None = None,
) -> list[CheckedBatch]:
    """The phase's checks for the date, after the preflight: the schema, and a date with games.
    Declaring reads only what thresholds need (Phase 5's volume history, Phase 6's export files).
    With `claims`, the checks of what the completion messages claim join them (expectations/reconcile.py)."""
    warehouse = open_warehouse(settings, labels)
    check_schema(warehouse, phase.tables)
    if scheduled_games(warehouse, game_date) == 0:
        raise NoGames(
            f"no games scheduled on {game_date} in {warehouse.table(SCHEDULE)}: nothing to check (pick a game date)"
        )
    request = PhaseRequest(game_date, now, warehouse.engine_name, warehouse.datasets, claims)
    batches = phase.build(request, settings, warehouse)
    if claims is None:
        return batches
    from expectations.reconcile import with_claims  # GX is loaded already: the phase declared its checks

    return with_claims(request, settings, phase.checkpoint, batches)


def checked_frame(settings: Settings, labels: Mapping[str, str], batches: list[CheckedBatch]) -> pd.DataFrame:
    """What GX validates: Phase 6's frame of facts, or every table's findings (one statement each)."""
    import pandas as pd

    from expectations.ranges import read_frame

    facts = [batch.frame for batch in batches if batch.frame is not None]
    if facts:
        if len(batches) > 1:
            raise ValueError("a phase validates either warehouse tables or one frame of facts, not both")
        return facts[0]
    frames = [read_frame(s.warehouse, s.sql) for s in table_statements(settings, labels, batches)]
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class TableStatement:
    """A table's findings statement, and the warehouse whose jobs carry its labels (the table's too)."""

    labels: Mapping[str, str]
    warehouse: Warehouse
    sql: str


def table_statements(
    settings: Settings, labels: Mapping[str, str], batches: list[CheckedBatch]
) -> list[TableStatement]:
    """Each warehouse batch's statement. Its job is labelled with the table and, as one key each
    (`check_<name>`, empty value), the checks it runs: a job carries up to 64 labels, a value one name."""
    statements = []
    for batch in batches:
        if batch.frame is None:
            checks = {f"{CHECK_LABEL_PREFIX}{check_name(check.meta)}": "" for check in batch.expectations}
            table_labels = {**labels, "table": batch.asset_name, **checks}
            warehouse = open_warehouse(settings, table_labels)
            statements.append(TableStatement(table_labels, warehouse, findings_sql(batch, warehouse.engine_name)))
    return statements


def run_phases(
    settings: Settings,
    phase_keys: list[str],
    game_date: date,
    now: datetime,
    reporting: Reporting = NO_REPORTING,
    claims: Mapping[str, PhaseClaims] | None = None,
) -> list[RunSummary]:
    """Phases in pipeline order; one that could not run is reported (recorded, alerted) and does not stop the rest.
    `claims`, by phase key: what each phase's completion messages say (the service; None for the CLI).

    Whatever a phase raises counts as "could not run", never as silence: a corrupt GX project file or a
    bug is recorded and alerted like a missing table (with its type, as it is not one of our messages)."""
    started = datetime.now(timezone.utc)
    summaries = []
    for key in phase_keys:
        try:
            summaries.append(run_phase(settings, key, game_date, now, reporting, (claims or {}).get(key)))
        except Exception as error:  # reported below; the traceback under --debug
            log.debug("%s %s could not run", key, game_date, exc_info=True)
            reason = str(error) if isinstance(error, CouldNotRun) else f"{type(error).__name__}: {first_line(error)}"
            failed = RunSummary(
                PHASES[key].checkpoint, game_date, (), (), error=reason, no_games=isinstance(error, NoGames)
            )
            if (failed.phase, game_date) not in reporting.reported:
                reporting.report(failed)
            summaries.append(failed)
    from reporting.site_index import finish_site  # GX's renderers: imported when pages are written

    try:
        finish_site(settings, [page for summary in summaries for page in summary.data_docs], started, "run")
    except Exception as error:  # the verdicts are reported already: only the index is lost (and said so)
        log.debug("the Data Docs index could not be written", exc_info=True)
        if isinstance(error, OSError):
            problem = os_problem(error)
        else:
            problem = str(error) if isinstance(error, CouldNotRun) else f"{type(error).__name__}: {first_line(error)}"
        reporting.could_not_record(f"{game_date}: Data Docs index ({problem})")
    return summaries


def build_checkpoint(
    context: Any,
    name: str,
    batches: list[CheckedBatch],
    actions: list[Any],
    result_format: dict[str, Any],
    partial_unexpected_count: int = 20,
    update_data_docs: bool = True,
) -> Any:
    """Checkpoint `name` validating each batch against its suite; its validation pages are written before
    `actions` (unless the caller builds them itself, for several checkpoints at once). Every batch is the run's
    one frame (`batch_parameters={"dataframe": frame}`): GX issues no SQL.

    In a context an earlier run used (checkpoints/context.py: shared_context), what that run registered
    is reused where it is the same: the frames' datasource, assets and batch definitions (nothing in them
    depends on the run), a suite whose expectations did not change, its validation definition.
    `result_format` adds to SUMMARY.
    """
    import great_expectations as gx

    from checkpoints.run_pages import RunPagesAction

    datasource = frames_datasource(context, FRAMES)
    definitions = []
    for batch in batches:
        suite = registered_suite(context, f"{name}.{batch.asset_name}", batch.expectations)
        definitions.append(
            registered_definition(
                context, f"{name}.{batch.asset_name}", whole_frame(datasource, batch.asset_name, WHOLE_FRAME), suite
            )
        )
    checkpoint = gx.Checkpoint(
        name=name,
        validation_definitions=definitions,
        actions=[*([RunPagesAction(name="update_data_docs")] if update_data_docs else []), *actions],
        # Failing values come with the rows' identity (which player, which system) where columns name it.
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": partial_unexpected_count,
            **result_format,
        },
    )
    if registered(context.checkpoints, name) is not None:  # the last run's: its actions name that run
        context.checkpoints.delete(name)
    return context.checkpoints.add(checkpoint)


def _run_id(phase: Phase, game_date: date) -> Any:
    """Named by phase and date; its time is fixed here so a failed attempt's results can be found."""
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=f"{phase.checkpoint}-{game_date}", run_time=datetime.now(timezone.utc))


def pages_by_validation(context: Any, result: Any) -> dict[Any, list[str]]:
    """The Data Docs pages (local paths) of each of a checkpoint result's validations, i.e. of each batch."""
    return {identifier: identifier_pages(context, identifier) for identifier in result.run_results}


def identifier_pages(context: Any, identifier: Any) -> list[str]:
    sites = context.get_docs_sites_urls(resource_identifier=identifier)
    return [site["site_url"].removeprefix("file://") for site in sites if site.get("site_url")]
