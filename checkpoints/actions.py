"""The GX ValidationAction every phase checkpoint carries after Data Docs: it reports the verdict.

It turns the checkpoint result into the same summary the CLI prints and hands it to the run's
reporter (reporting/reporter.py: the history first, then Slack), the same path a phase that
could not run takes. The reporter is attached after GX has stored the checkpoint, so the action's
serialized fields hold no secret; with nothing attached it does nothing, and it never breaks a
checkpoint. GX's own SlackNotificationAction never says which checks failed and has no timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from great_expectations.checkpoint import ValidationAction
from great_expectations.compatibility.pydantic import PrivateAttr

from checkpoints.summary import RunSummary, checkpoint_summary

log = logging.getLogger(__name__)
Handler = Callable[[RunSummary], None]


class ReportAction(ValidationAction):
    """Hands the run's summary to the attached handler: history, then Slack."""

    type: Literal["nba_dq_report"] = "nba_dq_report"
    phase: str  # the checkpoint's name, e.g. phase5
    game_date: str
    declared_checks: list[str]  # the order checks are reported in
    _handler: Handler | None = PrivateAttr(default=None)

    def attach(self, handler: Handler | None) -> None:
        self._handler = handler

    def run(self, checkpoint_result: Any, action_context: Any = None) -> dict[str, Any]:
        if self._handler is None:
            return {"done": False}
        try:
            prior = self._get_data_docs_pages_from_prior_action(action_context) or {}
            pages = {
                identifier: [url.removeprefix("file://") for url in sites.values() if isinstance(url, str)]
                for identifier, sites in prior.items()
            }
            summary = checkpoint_summary(self.phase, self.game_date, checkpoint_result, self.declared_checks, pages)
            self._handler(summary)
        except Exception as error:  # never break the checkpoint or change its result
            log.warning("%s failed: %s", self.name, error)
            return {"done": False}
        return {"done": True}
