"""Which processors reported for a (phase, game date), and the one run their completion calls for.

One store document per (checkpoint, date), "events/<checkpoint>/<date>.json", changed only by
compare-and-set (state.store.update): each processor's latest report, and the rounds run on them.
A round is claimed in the same write that completes (or changes) the set of reports, so however many
deliveries of a message arrive at once, on however many instances, one write wins and one run
happens; the others see the claim. A claim older than `[state] lease_seconds` belongs to an instance
that died: the next delivery (or `nba-dq sweep`) takes it over.

When is a report new? Pub/Sub redelivers a message (same body), Phase 5 re-publishes a batch summary
with the same execution_id and a new timestamp, Phase 4's PlayerDailyCacheProcessor runs twice a
date with different execution_ids. A report replaces the processor's last one unless it is the same
execution saying the same (messages.Report.fingerprint: status and counts, timings aside) or an
older execution arriving late. A complete set that differs from the last judged one is run again:
a processor re-reporting after the run is a backfill whose data must be checked again.
"""

from __future__ import annotations

import copy
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from expectations.claims import PhaseClaims, ProcessorReport
from runners.messages import Report
from state.store import JsonDocument, StateStore, update

WAITING, DUPLICATE, SUPERSEDED, BUSY, RUN = "waiting", "duplicate", "superseded", "busy", "run"
CLAIMED, DONE, RELEASED = "claimed", "done", "released"
UNPUBLISHED = "unpublished"  # in a done round's verdict: the verdict (to_json) the topic has not taken yet


def instance_id() -> str:
    """Names the claims this process makes (host, pid and a random part: a restarted pid is another owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def document_name(checkpoint: str, game_date: date) -> str:
    return f"events/{checkpoint}/{game_date.isoformat()}.json"


@dataclass(frozen=True)
class Decision:
    """What a report (or a sweep) calls for: wait, nothing (duplicate, superseded), 503 (busy), or a run."""

    kind: str
    missing: tuple[str, ...] = ()
    round: int | None = None
    taken_over_from: str | None = None  # the owner of an abandoned claim this one replaces
    reports: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # the round's reports (for claims)
    run_id: str | None = None  # the round's history run id: the same for a round taken over and run again
    kept_verdicts: tuple[Mapping[str, Any], ...] = ()  # done rounds whose verdict the topic has not taken yet


def record_report(
    store: StateStore, report: Report, processors: Sequence[str], owner: str, now: datetime, lease: timedelta
) -> Decision:
    """Add the report to its (checkpoint, date) document and, in the same write, claim a run when the
    set is complete and not judged yet. One compare-and-set: concurrent deliveries cannot both claim."""
    name = document_name(report.checkpoint, report.game_date)
    decided: list[Decision] = []

    def change(document: JsonDocument | None) -> JsonDocument:
        decided.clear()
        new = copy.deepcopy(document) if document else _new_document(report.checkpoint, report.game_date, now)
        kind = _add_report(new, report, now)
        decided.append(replace(_decide(new, kind, processors, owner, now, lease), kept_verdicts=kept_verdicts(new)))
        return new

    update(store, name, change)
    return decided[0]


def kept_verdicts(document: Mapping[str, Any] | None) -> tuple[Mapping[str, Any], ...]:
    """The done rounds whose verdict is kept for the topic (it did not take it when they ran)."""
    return tuple(r for r in (document or {}).get("rounds", []) if UNPUBLISHED in (r.get("verdict") or {}))


def claim_due_round(
    store: StateStore, checkpoint: str, game_date: date, processors: Sequence[str], owner: str, now: datetime,
    lease: timedelta,
) -> Decision:  # fmt: skip
    """Without a new report (the sweep): claim the run the document calls for, if any (an abandoned claim)."""
    decided: list[Decision] = []

    def change(document: JsonDocument | None) -> JsonDocument:
        decided.clear()
        new = copy.deepcopy(document) if document else _new_document(checkpoint, game_date, now)
        decided.append(_decide(new, DUPLICATE, processors, owner, now, lease))
        return new

    if store.read(document_name(checkpoint, game_date)) is None:
        return Decision(WAITING, missing=tuple(processors))
    update(store, document_name(checkpoint, game_date), change)
    return decided[0]


def finish_round(
    store: StateStore, checkpoint: str, game_date: date, number: int, owner: str, state: str,
    outcome: Mapping[str, Any], now: datetime,
) -> bool:  # fmt: skip
    """Mark our round done (with its verdict) or released (it could not run for an infrastructure reason:
    the next delivery claims a new one at once). False when another instance took the round over."""
    finished: list[bool] = []

    def change(document: JsonDocument | None) -> JsonDocument:
        finished.clear()
        new = copy.deepcopy(document)
        round_ = next((r for r in (new or {}).get("rounds", []) if r["round"] == number), None)
        mine = round_ is not None and round_["owner"] == owner and round_["state"] == CLAIMED
        if mine:
            round_.update(state=state, verdict=dict(outcome), finished_at=now.isoformat())
        finished.append(mine)
        return new

    update(store, document_name(checkpoint, game_date), change)
    return finished[0]


def phase_claims(reports: Mapping[str, Mapping[str, Any]]) -> PhaseClaims:
    """What the round's messages claim, for the checks that reconcile them with the warehouse."""
    return PhaseClaims(
        tuple(
            ProcessorReport(
                processor=processor,
                status=stored["status"],
                output_table=stored.get("output_table"),
                record_count=stored.get("record_count"),
                details=stored.get("details") or {},
                execution_id=stored.get("execution_id"),
                message_id=stored.get("message_id"),
            )
            for processor, stored in sorted(reports.items())
        )
    )


def missing_processors(document: Mapping[str, Any] | None, processors: Sequence[str]) -> tuple[str, ...]:
    reported = (document or {}).get("reports", {})
    return tuple(processor for processor in processors if processor not in reported)


def open_claim(document: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The round claimed and not finished, if any."""
    rounds = (document or {}).get("rounds", [])
    return rounds[-1] if rounds and rounds[-1]["state"] == CLAIMED else None


def _new_document(checkpoint: str, game_date: date, now: datetime) -> dict[str, Any]:
    return {
        "checkpoint": checkpoint,
        "game_date": game_date.isoformat(),
        "first_reported_at": now.isoformat(),
        "reports": {},
        "rounds": [],
    }


def _add_report(document: dict[str, Any], report: Report, now: datetime) -> str:
    """Keep the report as the processor's latest unless it says nothing new; which it was."""
    prior = document["reports"].get(report.processor)
    if prior is not None:
        if prior["execution"] == report.execution and prior["fingerprint"] == report.fingerprint:
            return DUPLICATE
        if prior["execution"] != report.execution and _older(report.published_at, prior.get("published_at")):
            return SUPERSEDED  # an earlier run's message delivered late: the later run's report stands
    document["reports"][report.processor] = {**report.to_json(), "received_at": now.isoformat()}
    return RUN


def _decide(
    document: dict[str, Any], kind: str, processors: Sequence[str], owner: str, now: datetime, lease: timedelta
) -> Decision:
    """Claim a round in `document` when one is due; what the caller must do."""
    missing = missing_processors(document, processors)
    if missing:
        return Decision(WAITING if kind == RUN else kind, missing=missing)
    reports = {processor: document["reports"][processor] for processor in processors}
    snapshot = {processor: f"{stored['execution']}/{stored['fingerprint']}" for processor, stored in reports.items()}
    rounds = document["rounds"]
    claimed = open_claim(document)
    if claimed is not None:
        if now - datetime.fromisoformat(claimed["claimed_at"]) < lease:
            return Decision(BUSY, round=claimed["round"])
        previous = claimed["owner"]  # it died holding the claim: run the round here, on today's reports
        claimed.update(owner=owner, claimed_at=now.isoformat(), snapshot=snapshot, taken_over_from=previous)
        return Decision(RUN, round=claimed["round"], taken_over_from=previous, reports=reports,
                        run_id=round_run_id(document, claimed["round"]))  # fmt: skip
    judged = next((r["snapshot"] for r in reversed(rounds) if r["state"] == DONE), None)
    if judged == snapshot:
        return Decision(DUPLICATE if kind == RUN else kind)
    number = max((r["round"] for r in rounds), default=0) + 1
    rounds.append(
        {"round": number, "snapshot": snapshot, "owner": owner, "claimed_at": now.isoformat(), "state": CLAIMED,
         "verdict": None}
    )  # fmt: skip
    return Decision(RUN, round=number, reports=reports, run_id=round_run_id(document, number))


def round_run_id(document: Mapping[str, Any], number: int) -> str:
    """A round's run in the history, e.g. phase5-2025-12-30-r1-20251231T120000123456: a round killed
    after its history rows were appended and run again by another instance appends nothing twice (the
    history keeps the first rows of a run id). The document's first report names it apart from the
    rounds of a state store that was wiped and began again."""
    started = datetime.fromisoformat(document["first_reported_at"])
    return f"{document['checkpoint']}-{document['game_date']}-r{number}-{started:%Y%m%dT%H%M%S%f}"


def _older(published: str | None, than: str | None) -> bool:
    """Whether a message was published before another (unknown times are not older: the newest wins)."""
    try:
        return published is not None and than is not None and _moment(published) < _moment(than)
    except ValueError:
        return False


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # the platform's naive times are UTC


def mark_published(store: StateStore, checkpoint: str, game_date: date, number: int) -> None:
    """The round's kept verdict reached the topic: drop it from the document."""

    def change(document: JsonDocument | None) -> JsonDocument:
        new = copy.deepcopy(document)
        for round_ in (new or {}).get("rounds", []):
            if round_["round"] == number:
                round_.get("verdict", {}).pop(UNPUBLISHED, None)
        return new

    update(store, document_name(checkpoint, game_date), change)
