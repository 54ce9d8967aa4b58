"""Slack alerts for a run's verdict: when to post, and never losing one.

The state lives in a StateStore (state/store.py): files under gx/uncommitted/alerts by default, or a
GCS prefix shared by every instance (`[state] url`). Names: "alerts/ledger.json", "alerts/outbox/
<stamp>.json", and the lock "alerts/.lock".

Write-ahead outbox: every message is written to the outbox *before* it is sent and removed only after
Slack confirmed it, so a process killed mid-send (SIGKILL, SIGTERM, a container stopped during a hung
POST) leaves it for the next run, on any instance, which delivers the outbox first: at least once.
Each entry carries an idempotency key (phase|date|level|checks|verdict time). The ledger records a key
as delivered right after Slack confirmed it and before the entry is removed, so an entry whose removal
was cut short is not posted again. The window that remains: killed after Slack received the message
but before its answer arrived (or before the ledger recorded it). Then the next run posts it a second
time; webhooks take no idempotency key, so nothing on our side can tell. A repeat beats a lost alert.

One lock, "alerts/.lock", covers commit and delivery, as the flock did on one machine: the store's
locked() is an flock locally and a lease document on GCS (state/lease.py). Claiming outbox entries one
by one was the alternative; it is not taken because the ledger is one document every verdict changes
(open alerts, delivered keys) and the outbox must go out in order per destination: per-entry claims
would still serialise on the ledger and would let a later message overtake a kept one. Alerts are a
few a day, so turns cost nothing. A live holder keeps the lock for one Slack time budget at most, so a
run waits a few budgets (alerter_from_env); longer means the holder died and its lease has not run out:
the verdict is then sent without the state, saying so, rather than held up for minutes, and the dead
holder's outbox goes out with the first run after its lease.

The ledger also holds the open alerts (phase|date|check -> when posted), which suppress a repeat within
`repeat_after_hours` and bring one "resolved" message. A corrupt ledger or outbox entry is quarantined
(to the store's quarantine/) and never blocks the other alerts. When the state cannot be written at
all (a read-only or full disk, a store that is down), the alert is sent anyway, without repeat
suppression, and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from checkpoints.summary import COULD_NOT_RUN, ERROR, PASS, CheckOutcome, RunSummary, outcomes
from checkpoints.summary import CRITICAL as CRITICAL_SEVERITY
from reporting.alert_messages import RunLinks, alert_message, resolved_message, with_note
from reporting.slack import CHANNEL, CRITICAL, RESOLVED, WARNING, WEBHOOK, Answer, Destination, Routing
from state.files import CorruptStateFile
from state.store import StateStore, StateUnavailable, read_checked, update

__all__ = ["Alerter", "RunLinks", "failing_checks", "waiting_messages"]

log = logging.getLogger(__name__)

LEDGER = "alerts/ledger.json"
OUTBOX = "alerts/outbox/"
LOCK = "alerts/.lock"  # gx/uncommitted/alerts/.lock locally, where the flock always was
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
        store: StateStore,
        links: RunLinks,
        repeat_after: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        lock_wait_seconds: float | None = None,
    ) -> None:
        self._routing, self._sender, self._store = routing, sender, store
        self._lock_wait = lock_wait_seconds
        self._links, self._repeat_after, self._clock = links, repeat_after, clock
        self._unreachable: set[Destination] = set()

    def notify(self, summary: RunSummary) -> None:
        """Post what this verdict calls for (an alert, a resolution, or nothing); never raises."""
        if self._routing is None:
            return
        try:
            try:
                with ExitStack() as lock:
                    try:
                        lock.enter_context(self._store.locked(LOCK, self._lock_wait))
                    except StateUnavailable as error:
                        raise StateNotWritable(str(error)) from error
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
        except StateUnavailable as error:
            raise StateNotWritable(str(error)) from error
        messages = self._messages(summary, ledger.open)
        written: list[str] = []
        stamp = f"{self._clock():%Y%m%dT%H%M%S%f}"
        try:
            for number, (level, payload, key) in enumerate(messages):
                destination = self._routing.for_level(level)  # type: ignore[union-attr]
                entry = {
                    "key": key,
                    "destination": {"kind": destination.kind, "name": destination.name},
                    "payload": payload,
                }
                name = f"{OUTBOX}{stamp}-{number:02d}.json"
                if not self._store.create(name, entry):  # under the lock: a name taken is not ours to reuse
                    raise StateUnavailable(f"{self._store.location}/{name} exists already")
                written.append(name)
            if messages:
                self._save(ledger)
        except StateUnavailable as error:
            for name in written:  # nothing half-committed: the caller sends these without state
                try:
                    self._store.delete(name)
                except StateUnavailable:
                    log.warning("alerts: %s could not be taken back: it may be posted twice", name)
            raise StateNotWritable(str(error)) from error
        return ledger

    def _deliver_outbox(self, ledger: Ledger) -> None:
        """Send every kept message, oldest first; a destination that fails keeps its later ones in order."""
        waiting: set[str] = set()
        for name in waiting_messages(self._store):
            stored = read_checked(self._store, name, _check_entry)
            if stored is None:  # quarantined (or delivered by another run meanwhile)
                continue
            entry, leaf = stored.document, name.rpartition("/")[2]
            key = str(entry.get("key") or leaf.removesuffix(".json"))  # entries of earlier versions had no key
            if key not in ledger.delivered:
                destination = Destination(entry["destination"]["kind"], entry["destination"]["name"])
                answer = self._send(destination, entry["payload"])
                if answer.refused:  # Slack will never take this one: set it aside, never hold the others up
                    self._store.quarantine(name, f"Slack refused the message: {answer.problem}")
                    continue
                if not answer.delivered:
                    waiting.add(key)
                    log.warning(
                        "alerts: %s did not take a message (%s); kept in %s for the next run",
                        destination.describe(),
                        answer.problem,
                        leaf,
                    )
                    continue
                ledger.delivered[key] = self._clock().isoformat()
            try:
                self._save(ledger)  # delivered, recorded, then removed
                self._store.delete(name)
            except StateUnavailable as error:
                waiting.add(key)
                log.warning("alerts: %s delivered but not marked so (%s): it may be posted again", leaf, error)
        # A delivered key matters only while its entry exists: forget the others.
        ledger.delivered = {key: at for key, at in ledger.delivered.items() if key in waiting}
        try:
            self._save(ledger)
        except StateUnavailable as error:
            log.warning("alerts: could not tidy %s/%s: %s", self._store.location, LEDGER, error)

    def _save(self, ledger: Ledger) -> None:
        """Under the alert lock nobody else writes the ledger: whatever is there is replaced."""
        update(self._store, LEDGER, lambda _current: ledger.document())

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

    def _read_ledger(self) -> Ledger:
        stored = read_checked(self._store, LEDGER, _check_ledger)
        if stored is None:
            return Ledger()
        document = stored.document
        if "open" not in document:  # the flat ledger of earlier versions: open alerts only
            return Ledger(open=dict(document))
        return Ledger(open=dict(document["open"]), delivered=dict(document.get("delivered", {})))


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
    """The checks that did not pass; a phase that could not run is one critical pseudo-check. A date
    without games has none: nothing was due to be checked, so there is no incident (the run still exits 2)."""
    if summary.no_games:
        return []
    return [check for check in outcomes(summary) if check.status != PASS]


def _is_critical(check: CheckOutcome) -> bool:
    return check.status == ERROR or check.severity == CRITICAL_SEVERITY


def waiting_messages(store: StateStore) -> list[str]:
    """The outbox's entries, oldest first: messages Slack has not confirmed yet (what doctor reports)."""
    return [name for name in store.list(OUTBOX) if name.endswith(".json")]
