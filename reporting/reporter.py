"""What becomes of a verdict besides being printed: recorded in the history, alerted, then published."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from checkpoints.phases import phase_key
from checkpoints.summary import RunSummary
from reporting.alerts import Alerter, RunLinks
from reporting.data_docs import page_address
from reporting.slack import SlackSender, routing_from_env
from state.store import open_store
from warehouse.catalog import PREDICTIONS
from warehouse.dialect import inspect_table_command
from warehouse.settings import Settings

if TYPE_CHECKING:  # actions.py subclasses a GX action: importing it here would load GX before a run's preflight
    from checkpoints.actions import Handler

log = logging.getLogger(__name__)
# A live holder of the alert lock sends for one Slack budget (total_timeout_seconds) at most: waiting
# four of them covers it and the store's round trips; a holder still there after that has died.
ALERT_LOCK_WAIT_BUDGETS = 4


@dataclass(frozen=True)
class Reporting:
    """What becomes of a verdict besides being printed: recorded in the history, alerted, then published
    to the verdict topic (reporting/verdicts.py, when `[service] verdict_topic` names one)."""

    record: Handler | None = None
    alert: Handler | None = None
    publish: Handler | None = None
    # What this run's verdicts could not be recorded in (history, validation results, Data Docs): the
    # CLI prints it in one line and a run that passed exits 2, as its results are not kept.
    unrecorded: list[str] = field(default_factory=list, compare=False)
    # (phase, game date) of every verdict reported: a phase that raises after its verdict went out is
    # not reported a second time as could-not-run.
    reported: set[tuple[str, date]] = field(default_factory=set, compare=False)
    # Verdicts that could not be published (one line each, also logged): the service's cue to answer 5xx,
    # so Pub/Sub redelivers the event and the verdict is published then.
    unpublished: list[str] = field(default_factory=list, compare=False)
    # The service holds could-not-run verdicts back until it knows their cause: one the warehouse's
    # absence caused is Pub/Sub's to retry (5xx), not a verdict to record, alert and publish.
    hold_could_not_run: bool = False
    held: list[RunSummary] = field(default_factory=list, compare=False)

    def report(self, summary: RunSummary) -> None:
        """Record, alert, then publish; never raising. The checkpoint's ReportAction calls this, and so
        does a phase that could not run (no checkpoint, so no action). A failed record still alerts and
        publishes (recorded first: a verdict consumers act on is in the history)."""
        self.reported.add((summary.phase, summary.game_date))
        if summary.error and self.hold_could_not_run:
            self.held.append(summary)
            return
        self._report_now(summary)

    def release_held(self) -> None:
        """Report the could-not-run verdicts held back: their cause is the data, not the infrastructure."""
        held, self.held[:] = list(self.held), []
        for summary in held:
            self._report_now(summary)

    def _report_now(self, summary: RunSummary) -> None:
        for handler in (self.record, self.alert, self.publish):
            try:
                if handler is not None:
                    handler(summary)
            except Exception as error:  # reporting must not turn one phase's error into a crash
                if handler is self.record:
                    self.could_not_record(f"{summary.phase} {summary.game_date}: {error}")
                elif handler is self.publish:
                    log.warning("%s", error)
                    self.unpublished.append(str(error))
                else:
                    log.warning("reporting %s %s failed: %s", summary.phase, summary.game_date, error)

    def could_not_record(self, what: str) -> None:
        """Collected for the CLI's one line; print-only reporting (no history) has no one to tell but the log."""
        if self.record is None:
            log.warning("could not record %s", what)
        else:
            self.unrecorded.append(what)


NO_REPORTING = Reporting()  # print only: nothing recorded, nothing alerted (what could not be, only logged)


def alerter_from_env(settings: Settings, env: Mapping[str, str]) -> Alerter | None:
    """The Alerter for the destinations the environment names, or None when it names none. One per
    command run: its sender's time budget and its memory of failed destinations cover the whole run."""
    routing = routing_from_env(env, settings.alerts)
    if routing is None:
        return None
    links = RunLinks(
        data_docs_url=lambda page: page_address(settings, Path(page)),
        rerun_command=lambda summary: shlex.join(
            ["nba-dq", "run", "--phase", phase_key(summary.phase), "--date", str(summary.game_date)]
        ),
        inspect_command=lambda table: inspect_table_command(
            settings.warehouse_url, settings.datasets[PREDICTIONS.dataset_role], table
        ),
    )
    return Alerter(
        routing,
        SlackSender(env, settings.alerts),
        open_store(settings),
        links,
        repeat_after=timedelta(hours=settings.alerts.repeat_after_hours),
        lock_wait_seconds=ALERT_LOCK_WAIT_BUDGETS * settings.alerts.total_timeout_seconds,
        owners=settings.owners,
    )
