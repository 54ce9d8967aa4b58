"""The GX ValidationAction every phase checkpoint carries: the run's verdict goes to Slack.

GX's own SlackNotificationAction never says which checks failed and has no timeout. This action turns
the checkpoint result into the same summary the CLI prints and hands it to an Alerter (checkpoints/
alerts.py), attached after GX has stored the checkpoint: its serialized fields hold no secret, and an
action without an Alerter (alerts off) does nothing.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from great_expectations.checkpoint import ValidationAction
from great_expectations.compatibility.pydantic import PrivateAttr

from checkpoints.alerts import Alerter
from checkpoints.summary import checkpoint_summary

log = logging.getLogger(__name__)


class SlackAlertAction(ValidationAction):
    type: Literal["nba_dq_slack_alert"] = "nba_dq_slack_alert"
    phase: str  # the checkpoint's name, e.g. phase5
    game_date: str
    declared_checks: list[str]  # the order checks are reported in
    _alerter: Alerter | None = PrivateAttr(default=None)

    def attach(self, alerter: Alerter | None) -> None:
        self._alerter = alerter

    def run(self, checkpoint_result: Any, action_context: Any = None) -> dict[str, Any]:
        if self._alerter is None:
            return {"alerted": False}
        try:
            pages = [
                url.removeprefix("file://")
                for sites in (self._get_data_docs_pages_from_prior_action(action_context) or {}).values()
                for url in sites.values()
                if isinstance(url, str)
            ]
            summary = checkpoint_summary(
                self.phase, self.game_date, checkpoint_result, self.declared_checks, tuple(pages)
            )
            self._alerter.notify(summary)
        except Exception as error:  # an alert must never break the checkpoint or change its result
            log.warning("alerts: the Slack action failed: %s", error)
            return {"alerted": False}
        return {"alerted": True}
