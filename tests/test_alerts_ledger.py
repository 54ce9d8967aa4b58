"""The alert ledger and the write-ahead outbox with stand-in senders on real files: concurrency, order,
replays, corrupt state files, and state that cannot be written."""

from __future__ import annotations

import errno
import json
import logging
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import state.files
from checkpoints.summary import CheckOutcome, RunSummary
from reporting.alerts import NOT_DEDUPLICATED, Alerter, RunLinks
from reporting.slack import DELIVERED, Answer, Destination, Routing
from state.files import quarantined
from state.store import StateStore, local_store

DESTINATION = Destination("webhook", "SLACK_WEBHOOK_URL")
ROUTING = Routing(critical=DESTINATION, warning=DESTINATION, resolved=DESTINATION)
LINKS = RunLinks(data_docs_url=str, rerun_command=lambda summary: "nba-dq run", inspect_command=str)
FAILING = RunSummary(
    "phase5",
    date(2025, 12, 5),
    (CheckOutcome("player_coverage", "fail", "critical", [{"coverage": 0.6}], ">= 90%"),),
    data_docs=(),
)
OTHER_DATE = RunSummary("phase5", date(2025, 12, 6), FAILING.checks, data_docs=())


class SlowSender:
    """Records what it was asked to send; slow, so two runs overlap while one is sending."""

    def __init__(self, answer: Answer = DELIVERED, delay: float = 0.2) -> None:
        self.sent: list[dict[str, Any]] = []
        self.answer, self.delay = answer, delay

    def send(self, destination: Destination, payload: dict[str, Any]) -> Answer:
        time.sleep(self.delay)
        self.sent.append(payload)
        return self.answer


def alerter(gx_root: Path, sender: SlowSender) -> Alerter:
    return alerter_on(local_store(gx_root), sender)


def alerter_on(store: StateStore, sender: SlowSender, lock_wait_seconds: float | None = None) -> Alerter:
    return Alerter(ROUTING, sender, store, LINKS, repeat_after=timedelta(hours=6), lock_wait_seconds=lock_wait_seconds)


def outbox(gx_root: Path) -> list[Path]:
    return sorted((gx_root / "uncommitted/alerts/outbox").glob("*.json"))


def titles(sender: SlowSender) -> list[str]:
    return [message["text"].splitlines()[0] for message in sender.sent]


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
    down = SlowSender(Answer(False, retryable=True, problem="timeout"))
    alerter(tmp_path, down).notify(FAILING)
    alerter(tmp_path, down).notify(OTHER_DATE)  # the first kept message still fails: the second is kept too
    assert len(outbox(tmp_path)) == 2
    up = SlowSender()
    alerter(tmp_path, up).notify(FAILING)  # already posted (kept): only the outbox goes out, oldest first
    assert titles(up) == ["nba-dq phase5 2025-12-05: FAIL", "nba-dq phase5 2025-12-06: FAIL"]
    assert outbox(tmp_path) == []


def test_the_message_is_in_the_outbox_while_it_is_being_sent(tmp_path: Path) -> None:
    """Write-ahead: a process killed during the POST leaves the message for the next run."""
    seen_during_send: list[list[dict[str, Any]]] = []

    class Watching(SlowSender):
        def send(self, destination: Destination, payload: dict[str, Any]) -> Answer:
            seen_during_send.append([json.loads(path.read_text()) for path in outbox(tmp_path)])
            return super().send(destination, payload)

    alerter(tmp_path, Watching()).notify(FAILING)
    [[entry]] = seen_during_send
    assert entry["payload"]["text"].startswith("nba-dq phase5 2025-12-05") and entry["key"].startswith("phase5|")
    assert outbox(tmp_path) == []  # removed once Slack confirmed it


def test_an_entry_delivered_but_not_yet_removed_is_not_posted_again(tmp_path: Path) -> None:
    """Killed after the ledger recorded the delivery but before the entry was removed: no second post."""
    first = SlowSender()
    alerter(tmp_path, first).notify(FAILING)
    ledger_path = tmp_path / "uncommitted/alerts/ledger.json"
    entry = json.loads(json.dumps(first.sent[0]))
    key = "phase5|2025-12-05|critical|player_coverage|replayed"
    (tmp_path / "uncommitted/alerts/outbox/20251205T180000000000-00.json").write_text(
        json.dumps({"key": key, "destination": {"kind": "webhook", "name": "SLACK_WEBHOOK_URL"}, "payload": entry})
    )
    ledger = json.loads(ledger_path.read_text())
    ledger["delivered"][key] = "2025-12-05T18:00:01+00:00"
    ledger_path.write_text(json.dumps(ledger))
    again = SlowSender()
    alerter(tmp_path, again).notify(FAILING)
    assert again.sent == [] and outbox(tmp_path) == []
    assert json.loads(ledger_path.read_text())["delivered"] == {}  # nothing left to guard


@pytest.mark.parametrize("content", ["", '{"open": {"phase5|2025-12-05|player_cov'], ids=["empty", "truncated"])
def test_a_corrupt_ledger_is_quarantined_and_the_alert_still_goes(tmp_path: Path, content: str) -> None:
    ledger = tmp_path / "uncommitted/alerts/ledger.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_text(content)
    sender = SlowSender()
    alerter(tmp_path, sender).notify(FAILING)
    assert titles(sender) == ["nba-dq phase5 2025-12-05: FAIL"]
    [(moved, reason)] = quarantined(tmp_path)
    assert moved.read_text() == content and str(ledger) in reason
    fresh = json.loads(ledger.read_text())["incidents"]  # a fresh ledger: the incident is open on its date
    assert "2025-12-05" in fresh["phase5|player_coverage"]["dates"]


def test_an_invalid_outbox_entry_is_quarantined_and_the_others_go(tmp_path: Path) -> None:
    alerter(tmp_path, SlowSender(Answer(False, retryable=True, problem="timeout"))).notify(FAILING)
    bad = tmp_path / "uncommitted/alerts/outbox/20000101T000000000000-00.json"
    bad.write_text('{"destination": {"kind": "webhook"')  # cut short; sorts first
    sender = SlowSender()
    alerter(tmp_path, sender).notify(OTHER_DATE)
    assert titles(sender) == ["nba-dq phase5 2025-12-05: FAIL", "nba-dq phase5 2025-12-06: FAIL"]
    [(moved, reason)] = quarantined(tmp_path)
    assert moved.name.endswith(bad.name) and str(bad) in reason
    assert outbox(tmp_path) == []


def test_a_message_slack_refuses_is_set_aside_and_never_blocks_the_next(tmp_path: Path) -> None:
    refusing = SlowSender(Answer(False, problem="HTTP 400 'invalid_blocks'", refused=True))
    alerter(tmp_path, refusing).notify(FAILING)
    [(moved, reason)] = quarantined(tmp_path)
    assert "invalid_blocks" in reason and outbox(tmp_path) == []
    sender = SlowSender()
    alerter(tmp_path, sender).notify(OTHER_DATE)
    assert titles(sender) == ["nba-dq phase5 2025-12-06: FAIL"]


def test_a_destination_that_failed_is_not_tried_again_in_the_same_run(tmp_path: Path) -> None:
    down = SlowSender(Answer(False, retryable=True, problem="timeout"))
    one_run = alerter(tmp_path, down)
    one_run.notify(FAILING)
    one_run.notify(OTHER_DATE)  # --phase all: later phases' messages wait, Slack is not asked again
    assert len(down.sent) == 1 and len(outbox(tmp_path)) == 2


def test_a_gx_folder_that_cannot_be_written_still_sends_the_alert(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "uncommitted").mkdir()
    (tmp_path / "uncommitted/alerts").write_text("not a folder")  # mkdir and the lock file fail (OSError)
    sender = SlowSender()
    with caplog.at_level(logging.WARNING):
        alerter(tmp_path, sender).notify(FAILING)
        alerter(tmp_path, sender).notify(FAILING)  # no ledger: no repeat suppression either
    assert titles(sender) == ["nba-dq phase5 2025-12-05: FAIL"] * 2
    assert NOT_DEDUPLICATED in sender.sent[0]["text"] and NOT_DEDUPLICATED in json.dumps(sender.sent[0]["blocks"])
    assert "without repeat suppression" in caplog.text and "cannot use the alert state" in caplog.text


def test_a_full_disk_sends_the_alert_and_leaves_no_half_outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(path: Path, document: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(state.files, "write_json", disk_full)  # every state file is written by these two
    monkeypatch.setattr(state.files, "create_json", disk_full)
    sender = SlowSender()
    alerter(tmp_path, sender).notify(FAILING)
    assert titles(sender) == ["nba-dq phase5 2025-12-05: FAIL"] and NOT_DEDUPLICATED in sender.sent[0]["text"]
    assert outbox(tmp_path) == []


def test_one_slack_budget_for_the_whole_command_run() -> None:
    """Every send of a run shares total_timeout_seconds: a second message to another destination after
    the first spent the budget is not tried (it waits in the outbox), instead of 15 s more per phase."""
    from reporting.slack import SlackSender
    from warehouse.settings import load_settings

    class HungSlack(SlackSender):
        """Every try times out after its full timeout, on a clock that only the tries and waits move."""

        def __init__(self) -> None:
            self.now, self.tries = 0.0, 0
            super().__init__({}, load_settings({}).alerts, clock=lambda: self.now, sleep=self.wait)

        def wait(self, seconds: float) -> None:
            self.now += seconds

        def _try(self, destination: Destination, payload: Any, timeout: int) -> Answer:
            self.now += timeout
            self.tries += 1
            return Answer(False, retryable=True, problem="ReadTimeout")

    sender = HungSlack()  # 5 s a try, 3 tries, 15 s in all (dq.toml)
    assert not sender.send(DESTINATION, {"text": "phase5"}).delivered
    first_tries = sender.tries
    second = sender.send(Destination("webhook", "SLACK_WEBHOOK_URL_ERROR"), {"text": "phase5b"})
    assert first_tries == 3 and sender.tries == 3 and "spent" in second.problem
