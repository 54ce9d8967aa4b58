"""Slack alerts for a run's verdict: when to post, and never losing one.

The state lives in a StateStore (state/store.py): files under gx/uncommitted/alerts by default, or a
GCS prefix shared by every instance (`[state] url`). Names: "alerts/ledger.json", "alerts/outbox/
<stamp>.json", and the lock "alerts/.lock".

Write-ahead outbox: every message is written to the outbox *before* it is sent and removed only after
Slack confirmed it, so a process killed mid-send (SIGKILL, SIGTERM, a container stopped during a hung
POST) leaves it for the next run, on any instance, which delivers the outbox first: at least once.
Each entry carries an idempotency key (phase|date|role|checks|verdict time). The ledger records a key
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

Incidents (reporting/incidents.py decides what a verdict posts): the ledger holds each open incident
and each thread's opening message. An outbox entry says what it is ({"incident", "role": open | reply |
update, "thread"}); a reply's thread_ts and channel and an update's ts are filled in AT DELIVERY from
the ledger, so a reply whose opening message still waits in the outbox waits behind it (order per
destination is kept), and one whose opening Slack refused goes out on its own. With the bot token the
channel ID and ts chat.postMessage answered are recorded in the ledger with `delivered`, before the
entry is removed. A thread's record is dropped once no open incident and no waiting entry needs it.

A corrupt ledger or outbox entry is quarantined (to the store's quarantine/) and never blocks the other
alerts. When the state cannot be written at all (a read-only or full disk, a store that is down), the
alert is sent anyway, without repeat suppression or threads, and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from checkpoints.summary import RunSummary
from reporting.alert_ledger import LEDGER, Ledger, read_ledger
from reporting.alert_messages import RunLinks, with_note
from reporting.incident_controls import forget, read_controls
from reporting.incidents import OPEN, REPLY, UPDATE, Judging, Post, failing_checks, judge
from reporting.slack import CHANNEL, WEBHOOK, Answer, Destination, Routing
from state.files import CorruptStateFile
from state.store import StateStore, StateUnavailable, read_checked, update

__all__ = ["Alerter", "RunLinks", "failing_checks", "waiting_messages"]

log = logging.getLogger(__name__)

OUTBOX = "alerts/outbox/"
LOCK = "alerts/.lock"  # gx/uncommitted/alerts/.lock locally, where the flock always was
NOT_DEDUPLICATED = "nba-dq could not write its alert ledger: this alert is sent without repeat suppression."


class Sender(Protocol):
    def send(self, destination: Destination, payload: dict[str, Any]) -> Answer: ...

    def update(self, destination: Destination, payload: dict[str, Any]) -> Answer: ...


class StateNotWritable(Exception):
    """The alert state (lock, ledger, outbox) cannot be read or written: send without it."""


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
        owners: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._routing, self._sender, self._store = routing, sender, store
        self._lock_wait, self._owners = lock_wait_seconds, owners or {}
        self._links, self._repeat_after, self._clock = links, repeat_after, clock
        self._unreachable: set[Destination] = set()

    def notify(self, summary: RunSummary) -> None:
        """Post what this verdict calls for (an alert, a reply, a resolution, or nothing); never raises."""
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
            ledger = read_ledger(self._store)
            controls = read_controls(self._store)
        except StateUnavailable as error:
            raise StateNotWritable(str(error)) from error
        before = set(ledger.incidents)
        posts, resolved = judge(summary, ledger.incidents, ledger.threads, self._judging(controls))
        # A new incident starts without the controls of an earlier one of the same check (a click on an
        # old message's buttons after it resolved would otherwise keep the new one's repeats quiet).
        ended = [*resolved, *(key for key in ledger.incidents if key not in before and key in controls)]
        written: list[str] = []
        stamp = f"{self._clock():%Y%m%dT%H%M%S%f}"
        try:
            for number, post in enumerate(posts):
                entry = {
                    "key": post.key,
                    "destination": {"kind": post.destination.kind, "name": post.destination.name},
                    "payload": post.payload,
                    "incident": post.incident,
                    "role": post.role,
                    "thread": post.thread,
                }
                name = f"{OUTBOX}{stamp}-{number:02d}.json"
                if not self._store.create(name, entry):  # under the lock: a name taken is not ours to reuse
                    raise StateUnavailable(f"{self._store.location}/{name} exists already")
                written.append(name)
            if posts or resolved:
                self._save(ledger)
        except StateUnavailable as error:
            for name in written:  # nothing half-committed: the caller sends these without state
                try:
                    self._store.delete(name)
                except StateUnavailable:
                    log.warning("alerts: %s could not be taken back: it may be posted twice", name)
            raise StateNotWritable(str(error)) from error
        for incident in ended:  # an acknowledgement or mute ends with its incident
            try:
                forget(self._store, incident)
            except StateUnavailable as error:
                log.warning("alerts: could not clear the controls of %s: %s", incident, error)
        return ledger

    def _judging(self, controls: Mapping[str, Any]) -> Judging:
        return Judging(
            self._routing,  # type: ignore[arg-type]
            self._links,
            self._repeat_after,
            self._clock(),
            controls,
            self._owners,
        )

    def _deliver_outbox(self, ledger: Ledger) -> None:
        """Send every kept message, oldest first; a destination that fails keeps its later ones in order."""
        waiting: set[str] = set()
        threads_waiting: set[str] = set()
        for name in waiting_messages(self._store):
            stored = read_checked(self._store, name, _check_entry)
            if stored is None:  # quarantined (or delivered by another run meanwhile)
                continue
            entry, leaf = stored.document, name.rpartition("/")[2]
            key = str(entry.get("key") or leaf.removesuffix(".json"))  # entries of earlier versions had no key
            if key not in ledger.delivered:
                destination = Destination(entry["destination"]["kind"], entry["destination"]["name"])
                answer = self._deliver(destination, entry, ledger)
                if answer.refused:  # Slack will never take this one: set it aside, never hold the others up
                    self._store.quarantine(name, f"Slack refused the message: {answer.problem}")
                    continue
                if not answer.delivered:
                    waiting.add(key)
                    threads_waiting.add(str(entry.get("thread")))
                    log.warning(
                        "alerts: %s did not take a message (%s); kept in %s for the next run",
                        destination.describe(),
                        answer.problem,
                        leaf,
                    )
                    continue
                ledger.delivered[key] = self._clock().isoformat()
                if entry.get("role") == OPEN and answer.ts and entry.get("thread") in ledger.threads:
                    ledger.threads[entry["thread"]].update(channel=answer.channel, ts=answer.ts)
            try:
                self._save(ledger)  # delivered, recorded, then removed
                self._store.delete(name)
            except StateUnavailable as error:
                waiting.add(key)
                threads_waiting.add(str(entry.get("thread")))
                log.warning("alerts: %s delivered but not marked so (%s): it may be posted again", leaf, error)
        # A delivered key matters only while its entry exists, a thread while an incident or an entry needs it.
        ledger.delivered = {key: at for key, at in ledger.delivered.items() if key in waiting}
        needed = threads_waiting | {incident["thread"] for incident in ledger.incidents.values()}
        ledger.threads = {thread: where for thread, where in ledger.threads.items() if thread in needed}
        try:
            self._save(ledger)
        except StateUnavailable as error:
            log.warning("alerts: could not tidy %s/%s: %s", self._store.location, LEDGER, error)

    def _deliver(self, destination: Destination, entry: Mapping[str, Any], ledger: Ledger) -> Answer:
        """Post, reply or update: a thread's channel and ts come from the ledger now, at delivery."""
        role, payload = entry.get("role", OPEN), dict(entry["payload"])
        where = ledger.threads.get(str(entry.get("thread")), {})
        if destination.kind == CHANNEL and where.get("ts"):
            if role == UPDATE:
                return self._send(destination, {**payload, "channel": where["channel"], "ts": where["ts"]}, UPDATE)
            if role == REPLY:
                payload.update(channel=where["channel"], thread_ts=where["ts"])
        elif role == UPDATE:  # its opening message was never posted (Slack refused it): nothing to update
            log.warning("alerts: no posted message to mark resolved for %s", entry.get("incident"))
            return Answer(True)
        return self._send(destination, payload)

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
        posts: list[Post] = judge(summary, {}, {}, self._judging({}))[0]
        for post in posts:
            answer = self._send(post.destination, with_note(post.payload, NOT_DEDUPLICATED))
            if not answer.delivered:
                log.error(
                    "alerts: the %s %s alert is lost: %s did not take it (%s) and it cannot be kept (%s)",
                    summary.phase,
                    summary.game_date,
                    post.destination.describe(),
                    answer.problem,
                    problem,
                )

    def _send(self, destination: Destination, payload: dict[str, Any], role: str = OPEN) -> Answer:
        """Send unless the destination already failed in this run (its later messages must not overtake)."""
        if destination in self._unreachable:
            return Answer(False, problem="it failed earlier in this run")
        if role == UPDATE:
            answer = self._sender.update(destination, payload)
        else:
            answer = self._sender.send(destination, payload)
        if not answer.delivered and not answer.refused:
            self._unreachable.add(destination)
        return answer


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
    if document.get("role", OPEN) not in (OPEN, REPLY, UPDATE) or not isinstance(document.get("thread", ""), str):
        raise CorruptStateFile(f"not a role nba-dq writes: {document.get('role')!r}, or a thread not a string")


def waiting_messages(store: StateStore) -> list[str]:
    """The outbox's entries, oldest first: messages Slack has not confirmed yet (what doctor reports)."""
    return [name for name in store.list(OUTBOX) if name.endswith(".json")]
