"""The alert ledger under concurrency, and the outbox when Slack stays down (a stand-in sender)."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from checkpoints.alerts import Alerter, RunLinks
from checkpoints.slack import Destination, Routing
from checkpoints.summary import CheckOutcome, RunSummary

DESTINATION = Destination("webhook", "SLACK_WEBHOOK_URL")
ROUTING = Routing(critical=DESTINATION, warning=DESTINATION, resolved=DESTINATION)
LINKS = RunLinks(data_docs_url=str, rerun_command=lambda summary: "nba-dq run", inspect_command=str)
FAILING = RunSummary(
    "phase5",
    date(2025, 12, 5),
    (CheckOutcome("player_coverage", "fail", "critical", [{"coverage": 0.6}], ">= 90%"),),
    data_docs=(),
)


class SlowSender:
    """Records what it was asked to send; slow, so two runs overlap while one is sending."""

    def __init__(self, delivers: bool = True) -> None:
        self.sent: list[dict[str, Any]] = []
        self.delivers = delivers

    def send(self, destination: Destination, payload: dict[str, Any]) -> bool:
        time.sleep(0.2)
        self.sent.append(payload)
        return self.delivers


def alerter(folder: Path, sender: SlowSender) -> Alerter:
    return Alerter(ROUTING, sender, folder, LINKS, repeat_after=timedelta(hours=6))  # type: ignore[arg-type]


def test_two_runs_at_once_post_the_alert_once(tmp_path: Path) -> None:
    sender = SlowSender()
    runs = [threading.Thread(target=alerter(tmp_path, sender).notify, args=(FAILING,)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(sender.sent) == 1
    assert "player_coverage" in sender.sent[0]["text"]


def test_undelivered_messages_wait_in_order_and_nothing_is_lost(tmp_path: Path) -> None:
    down = SlowSender(delivers=False)
    alerter(tmp_path, down).notify(FAILING)
    other_date = RunSummary("phase5", date(2025, 12, 6), FAILING.checks, data_docs=())
    alerter(tmp_path, down).notify(other_date)  # the first kept message still fails: the second is kept too
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 2
    up = SlowSender()
    alerter(tmp_path, up).notify(FAILING)  # already posted (kept): only the outbox goes out, oldest first
    assert [message["text"].splitlines()[0] for message in up.sent] == [
        "nba-dq phase5 2025-12-05: FAIL",
        "nba-dq phase5 2025-12-06: FAIL",
    ]
    assert list((tmp_path / "outbox").glob("*.json")) == []


def test_a_broken_state_file_never_breaks_the_run(tmp_path: Path) -> None:
    (tmp_path / "ledger.json").write_text("{not json")
    alerter(tmp_path, SlowSender()).notify(FAILING)  # logs a warning, raises nothing
