"""Slack alerts for a run's verdict: when to post, and never losing one.

Write-ahead outbox: every message is written to gx/uncommitted/alerts/outbox *before* it is sent and
removed only after Slack confirmed it, so a process killed mid-send (SIGKILL, SIGTERM, a container
stopped during a hung POST) leaves it for the next run, which delivers the outbox first: at least once.
Each entry carries an idempotency key (phase|date|level|checks|verdict time). The ledger records a key
as delivered right after Slack confirmed it and before the entry is removed, so an entry whose removal
was cut short is not posted again. The window that remains: killed after Slack received the message
but before its answer arrived (or before the ledger recorded it). Then the next run posts it a second
time; webhooks take no idempotency key, so nothing on our side can tell. A repeat beats a lost alert.

The ledger also holds the open alerts (phase|date|check -> when posted), which suppress a repeat within
`repeat_after_hours` and bring one "resolved" message. A corrupt ledger or outbox entry is quarantined
(state/files.py) and never blocks the other alerts. When the state cannot be written at all
(a read-only or full disk), the alert is sent anyway, without repeat suppression, and says so.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from checkpoints.summary import COULD_NOT_RUN, ERROR, PASS, CheckOutcome, RunSummary, outcomes
from checkpoints.summary import CRITICAL as CRITICAL_SEVERITY
from reporting.alert_messages import RunLinks, alert_message, resolved_message, with_note
from reporting.slack import CHANNEL, CRITICAL, RESOLVED, WARNING, WEBHOOK, Answer, Destination, Routing
from state.files import CorruptStateFile, quarantine, read_json, write_json

__all__ = ["Alerter", "RunLinks", "alert_state_folder", "failing_checks", "waiting_messages"]

log = logging.getLogger(__name__)

ALERTS_FOLDER = Path("uncommitted") / "alerts"  # under the GX root
NOT_DEDUPLICATED = "nba-dq could not write its alert ledger: this alert is sent without repeat suppression."


class Sender(Protocol):
    def send(self, destination: Destination, payload: dict[str, Any]) -> Answer: ...


class StateNotWritable(Exception):
    """The alert state (lock, ledger, outbox) cannot be read or written: send without it."""


@dataclass
class Ledger:
    open: dict[str, str] = field(default_factory=dict)  # phase|date|check -> when its alert was posted
    delivered: dict[str, str] = field(default_factory=dict)  # outbox key -> when Slack confirmed it

    def document(self) -> dict[str, Any]:
        return {"open": self.open, "delivered": self.delivered}


class Alerter:
    """One per command run: remembers the destinations that failed in this run, so their later messages
    wait in the outbox in order instead of overtaking the kept ones or spending the time budget again."""

    def __init__(
        self,
        routing: Routing | None,
        sender: Sender,
        gx_root: Path,
        links: RunLinks,
        repeat_after: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._routing, self._sender, self._gx_root = routing, sender, gx_root
        self._folder = alert_state_folder(gx_root)
        self._links, self._repeat_after, self._clock = links, repeat_after, clock
        self._unreachable: set[Destination] = set()

    def notify(self, summary: RunSummary) -> None:
        """Post what this verdict calls for (an alert, a resolution, or nothing); never raises."""
        if self._routing is None:
            return
        try:
            try:
                with self._locked():
                    ledger = self._commit(summary)
                    self._deliver_outbox(ledger)
            except StateNotWritable as error:
                self._send_without_state(summary, str(error))
        except Exception as error:  # alerts must never change a run's result
            log.warning("alerts: could not process %s %s: %s", summary.phase, summary.game_date, error)

    def _commit(self, summary: RunSummary) -> Ledger:
        """Write this verdict's messages to the outbox and the ledger, before anything is sent."""
        try:
            ledger = self._read_ledger()
        except OSError as error:
            raise StateNotWritable(f"{self._ledger_path}: {error}") from error
        messages = self._messages(summary, ledger.open)
        written: list[Path] = []
        stamp = f"{self._clock():%Y%m%dT%H%M%S%f}"
        try:
            for number, (level, payload, key) in enumerate(messages):
                destination = self._routing.for_level(level)  # type: ignore[union-attr]
                entry = {
                    "key": key,
                    "destination": {"kind": destination.kind, "name": destination.name},
                    "payload": payload,
                }
                written.append(self._outbox / f"{stamp}-{number:02d}.json")
                write_json(written[-1], entry)
            if messages:
                write_json(self._ledger_path, ledger.document())
        except OSError as error:
            for path in written:  # nothing half-committed: the caller sends these without state
                path.unlink(missing_ok=True)
            raise StateNotWritable(f"{self._folder}: {error}") from error
        return ledger

    def _deliver_outbox(self, ledger: Ledger) -> None:
        """Send every kept message, oldest first; a destination that fails keeps its later ones in order."""
        waiting: set[str] = set()
        for path in waiting_messages(self._gx_root):
            entry = read_json(path, self._gx_root, _check_entry)
            if entry is None:  # quarantined (or delivered by another run meanwhile)
                continue
            key = str(entry.get("key") or path.stem)  # entries of earlier versions had no key
            if key not in ledger.delivered:
                destination = Destination(entry["destination"]["kind"], entry["destination"]["name"])
                answer = self._send(destination, entry["payload"])
                if answer.refused:  # Slack will never take this one: set it aside, never hold the others up
                    quarantine(path, self._gx_root, f"Slack refused the message: {answer.problem}")
                    continue
                if not answer.delivered:
                    waiting.add(key)
                    log.warning(
                        "alerts: %s did not take a message (%s); kept in %s for the next run",
                        destination.describe(),
                        answer.problem,
                        path.name,
                    )
                    continue
                ledger.delivered[key] = self._clock().isoformat()
            try:
                write_json(self._ledger_path, ledger.document())  # delivered, recorded, then removed
                path.unlink(missing_ok=True)
            except OSError as error:
                waiting.add(key)
                log.warning("alerts: %s delivered but not marked so (%s): it may be posted again", path.name, error)
        # A delivered key matters only while its entry exists: forget the others.
        ledger.delivered = {key: at for key, at in ledger.delivered.items() if key in waiting}
        try:
            write_json(self._ledger_path, ledger.document())
        except OSError as error:
            log.warning("alerts: could not tidy %s: %s", self._ledger_path, error)

    def _send_without_state(self, summary: RunSummary, problem: str) -> None:
        """The state cannot be written: the verdict's alert still goes out, saying it is not deduplicated."""
        log.warning(
            "alerts: cannot use the alert state (%s): sending %s %s without repeat suppression",
            problem,
            summary.phase,
            summary.game_date,
        )
        for level, payload, _key in self._messages(summary, {}):
            destination = self._routing.for_level(level)  # type: ignore[union-attr]
            answer = self._send(destination, with_note(payload, NOT_DEDUPLICATED))
            if not answer.delivered:
                log.error(
                    "alerts: the %s %s alert is lost: %s did not take it (%s) and it cannot be kept (%s)",
                    summary.phase,
                    summary.game_date,
                    destination.describe(),
                    answer.problem,
                    problem,
                )

    def _send(self, destination: Destination, payload: dict[str, Any]) -> Answer:
        """Send unless the destination already failed in this run (its later messages must not overtake)."""
        if destination in self._unreachable:
            return Answer(False, problem="it failed earlier in this run")
        answer = self._sender.send(destination, payload)
        if not answer.delivered and not answer.refused:
            self._unreachable.add(destination)
        return answer

    def _messages(self, summary: RunSummary, ledger: dict[str, str]) -> list[tuple[str, dict[str, Any], str]]:
        """(level, payload, idempotency key) per message due; updates the open alerts in `ledger`."""
        now = self._clock()
        prefix = f"{summary.phase}|{summary.game_date}|"
        failing = failing_checks(summary)
        due = [
            check
            for check in failing
            if prefix + check.name not in ledger
            or now - datetime.fromisoformat(ledger[prefix + check.name]) >= self._repeat_after
        ]
        ran = {check.name for check in summary.checks if check.status == PASS}
        if summary.checks:
            ran.add(COULD_NOT_RUN)  # the phase ran: a could-not-run alert is over
        resolved = sorted(key[len(prefix) :] for key in ledger if key.startswith(prefix) and key[len(prefix) :] in ran)
        messages = []
        if due:
            level = CRITICAL if any(_is_critical(check) for check in failing) else WARNING
            names = ",".join(check.name for check in failing)
            messages.append((level, alert_message(summary, failing, self._links), f"{prefix}{level}|{names}|{now}"))
            ledger.update({prefix + check.name: now.isoformat() for check in failing})
        if resolved:
            names = ",".join(resolved)
            messages.append(
                (RESOLVED, resolved_message(summary, resolved, self._links), f"{prefix}resolved|{names}|{now}")
            )
            for name in resolved:
                del ledger[prefix + name]
        return messages

    @property
    def _ledger_path(self) -> Path:
        return self._folder / "ledger.json"

    @property
    def _outbox(self) -> Path:
        return self._folder / "outbox"  # see waiting_messages

    def _read_ledger(self) -> Ledger:
        document = read_json(self._ledger_path, self._gx_root, _check_ledger)
        if document is None:
            return Ledger()
        if "open" not in document:  # the flat ledger of earlier versions: open alerts only
            return Ledger(open=dict(document))
        return Ledger(open=dict(document["open"]), delivered=dict(document.get("delivered", {})))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Concurrent runs take turns, so they neither double-post nor lose state (one machine)."""
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            lock = open(self._folder / ".lock", "a")  # noqa: SIM115 (held for the with-block below)
        except OSError as error:
            raise StateNotWritable(f"{self._folder}: {error}") from error
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


def _check_ledger(document: Any) -> None:
    """What nba-dq writes: {"open": {key: time}, "delivered": {key: time}} (or the older flat {key: time})."""
    if not isinstance(document, dict):
        raise CorruptStateFile("not a JSON object")
    parts = [document.get("open"), document.get("delivered", {})] if "open" in document else [document]
    for part in parts:
        if not isinstance(part, dict):
            raise CorruptStateFile("open or delivered is not an object")
        for key, moment in part.items():
            if not isinstance(moment, str) or datetime.fromisoformat(moment).tzinfo is None:
                raise CorruptStateFile(f"{key}: not a time with a zone: {moment!r}")


def _check_entry(document: Any) -> None:
    """An outbox entry: a destination nba-dq routes to and a message with text and blocks."""
    if not isinstance(document, dict) or not isinstance(document.get("payload"), dict):
        raise CorruptStateFile("no payload object")
    destination = document["destination"]
    if not isinstance(destination, dict) or destination.get("kind") not in (WEBHOOK, CHANNEL):
        raise CorruptStateFile(f"not a destination: {destination!r}")
    if not isinstance(destination.get("name"), str):
        raise CorruptStateFile(f"not a destination: {destination!r}")
    if not isinstance(document["payload"].get("text"), str) or not isinstance(document.get("key", ""), str):
        raise CorruptStateFile("no message text or a key that is not a string")


def failing_checks(summary: RunSummary) -> list[CheckOutcome]:
    """The checks that did not pass; a phase that could not run is one critical pseudo-check."""
    return [check for check in outcomes(summary) if check.status != PASS]


def _is_critical(check: CheckOutcome) -> bool:
    return check.status == ERROR or check.severity == CRITICAL_SEVERITY


def alert_state_folder(gx_root: Path) -> Path:
    return gx_root / ALERTS_FOLDER


def waiting_messages(gx_root: Path) -> list[Path]:
    """The outbox's entries, oldest first: messages Slack has not confirmed yet (what doctor reports)."""
    outbox = alert_state_folder(gx_root) / "outbox"
    return sorted(outbox.glob("*.json")) if outbox.is_dir() else []
