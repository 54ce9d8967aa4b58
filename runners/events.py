"""One push delivery handled, HTTP aside: parse, record, claim, run the phase, answer.

The answer is Pub/Sub's acknowledgement rule: 2xx acknowledges (the message is done with), anything
else has it delivered again later. So every outcome that redelivery cannot change is 200: a verdict
(pass, fail, or a could-not-run the data caused: a missing table, no games), a duplicate, a phase
still waiting for processors, a malformed or unknown message (recorded, so nothing is dropped
silently). What a retry can fix is 503: the state store or the warehouse unreachable, a round another
instance is running right now (the retry finds it done), a run past its deadline.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from checkpoints.phases import phase_key
from checkpoints.summary import RunSummary, to_json
from reporting.history import recorder
from reporting.reporter import Reporting
from runners.completion import (
    BUSY,
    DONE,
    RELEASED,
    RUN,
    UNPUBLISHED,
    Decision,
    document_name,
    finish_round,
    instance_id,
    kept_verdicts,
    mark_published,
    phase_claims,
    record_report,
)
from runners.messages import Malformed, Report, Unknown, parse_envelope
from state.store import StateStore, StateUnavailable, open_store
from warehouse.connection import first_line
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# One phase run at a time per process: runs share the GX context and the Data Docs site's index (GX's
# own part is locked already, the site's index is written per run), and a run takes seconds.
RUN_LOCK = threading.Lock()
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


@dataclass(frozen=True)
class EventOutcome:
    """The HTTP answer to a push: its status, and a JSON body saying which outcome it was."""

    status: int
    outcome: str  # verdict | duplicate | superseded | waiting | malformed | unknown | busy | unavailable | deadline
    # | unpublished (a verdict the topic did not take: kept, published by the redelivery)
    detail: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"outcome": self.outcome, **self.detail}


@dataclass
class PushContext:
    """What handling a push needs besides its settings: shared by every request of one process."""

    store: StateStore
    owner: str  # this process's name on the claims it makes
    clock: Clock = lambda: datetime.now(timezone.utc)

    @classmethod
    def open(cls, settings: Settings, clock: Clock | None = None) -> PushContext:
        return cls(open_store(settings), instance_id(), clock or (lambda: datetime.now(timezone.utc)))


def processor_index(settings: Settings) -> dict[str, str]:
    """Each configured processor name -> its checkpoint (config_service guarantees one each)."""
    return {name: checkpoint for checkpoint, table in settings.completion.items() for name in table.processors}


def handle_push(settings: Settings, env: Mapping[str, str], envelope: Any, context: PushContext) -> EventOutcome:
    """The outcome of one push delivery (never raises: a surprise is a 503, and Pub/Sub retries)."""
    try:
        parsed = parse_envelope(envelope, processor_index(settings))
        if isinstance(parsed, Report):
            return _handle_report(settings, env, parsed, context)
        return _record_unusable(parsed, context)
    except StateUnavailable as error:
        log.error("state store unavailable, the push will be redelivered: %s", error)
        return EventOutcome(503, "unavailable", {"error": str(error)})
    except Exception as error:  # a bug must not acknowledge (and so lose) a completion message
        log.exception("push not handled, it will be redelivered")
        return EventOutcome(503, "unavailable", {"error": f"{type(error).__name__}: {first_line(error)}"})


def _record_unusable(parsed: Malformed | Unknown, context: PushContext) -> EventOutcome:
    """Keep a malformed or unknown message where an operator finds it, then acknowledge it."""
    record: dict[str, Any] = {"outcome": parsed.kind, "message_id": parsed.message_id,
                              "received_at": context.clock().isoformat()}  # fmt: skip
    if isinstance(parsed, Malformed):
        record.update(reason=parsed.reason, data=parsed.data)
        log.warning("malformed push message %s acknowledged: %s", parsed.message_id, parsed.reason)
    else:
        record.update(processor=parsed.processor, phase=parsed.phase, game_date=parsed.game_date.isoformat())
        log.warning(
            "push message %s from processor %r (%s, %s) acknowledged: no [completion.*] table lists it",
            parsed.message_id, parsed.processor, parsed.phase, parsed.game_date,
        )  # fmt: skip
    # A messageId is the publisher's text: it names a stored document only if it is a plain name.
    safe_id = parsed.message_id if parsed.message_id and SAFE_NAME.match(parsed.message_id) else None
    context.store.create(f"messages/{safe_id or parsed.envelope_digest}.json", record)  # a replay: the first kept
    return EventOutcome(200, parsed.kind, {key: value for key, value in record.items() if key != "data"})


def _handle_report(settings: Settings, env: Mapping[str, str], report: Report, context: PushContext) -> EventOutcome:
    if report.status != "success":  # recorded and run on all the same: the run's checks judge what it left
        sent = report.details.get("reported_status", report.status)
        log.warning("%s reported %s for %s (%s)", report.processor, sent, report.game_date, report.checkpoint)
    processors = settings.completion[report.checkpoint].processors
    lease = timedelta(seconds=settings.state.lease_seconds)
    decision = record_report(context.store, report, processors, context.owner, context.clock(), lease)
    about = {"phase": phase_key(report.checkpoint), "game_date": report.game_date.isoformat(),
             "processor": report.processor, "report_status": report.status}  # fmt: skip
    if decision.kind == BUSY:
        return EventOutcome(503, BUSY, {**about, "round": decision.round, "why": "another delivery is running it"})
    if decision.kind != RUN:
        unpublished = publish_kept_verdicts(
            settings, report.checkpoint, report.game_date, context, decision.kept_verdicts
        )
        if unpublished:
            return EventOutcome(503, "unpublished", {**about, "error": "; ".join(unpublished)})
        return EventOutcome(200, decision.kind, {**about, "missing": list(decision.missing)})
    if decision.taken_over_from:
        log.warning("%s %s round %s: taking over from %s (its claim expired)", report.checkpoint,
                    report.game_date, decision.round, decision.taken_over_from)  # fmt: skip
    return run_round(settings, env, report.checkpoint, report.game_date, decision, context, about)


def run_round(
    settings: Settings, env: Mapping[str, str], checkpoint: str, game_date: date, decision: Decision,
    context: PushContext, about: Mapping[str, Any],
) -> EventOutcome:  # fmt: skip
    """Run the claimed round in a worker thread; answer within run_deadline_seconds.

    Past the deadline the answer is 503 and the claim stays: the thread finishes the run and marks the
    round done, and the redelivery finds it done (a duplicate) rather than running it again."""
    answer: list[EventOutcome] = []

    def work() -> None:
        try:
            answer.append(_run_and_finish(settings, env, checkpoint, game_date, decision, context, about))
        except StateUnavailable as error:  # the verdict is out, the round could not be marked: it stays claimed
            log.error("%s %s round %s: %s", checkpoint, game_date, decision.round, error)
            answer.append(EventOutcome(503, "unavailable", {**about, "round": decision.round, "error": str(error)}))

    worker = threading.Thread(target=work, name=f"nba-dq-{checkpoint}-{game_date}", daemon=True)
    worker.start()
    worker.join(settings.service.run_deadline_seconds)
    if worker.is_alive() or not answer:
        log.warning("%s %s round %s: past the %s s deadline, answered 503 (the run goes on)", checkpoint,
                    game_date, decision.round, settings.service.run_deadline_seconds)  # fmt: skip
        return EventOutcome(503, "deadline", {**about, "round": decision.round})
    return answer[0]


def _run_and_finish(
    settings: Settings, env: Mapping[str, str], checkpoint: str, game_date: date, decision: Decision,
    context: PushContext, about: Mapping[str, Any],
) -> EventOutcome:  # fmt: skip
    from runners.commands import build_reporting  # the CLI's: history recorder and alerter, built alike

    key = phase_key(checkpoint)
    assert decision.round is not None
    try:
        warnings = io.StringIO()
        reporting = replace(
            build_reporting(settings, env, warnings),
            record=recorder(settings, decision.run_id),  # a round run again appends its history rows once
            hold_could_not_run=True,
        )
        if warnings.getvalue().strip():
            log.warning("%s", warnings.getvalue().strip())
        now = settings.run_time(game_date, context.clock())
        summary = _run_phase(settings, key, game_date, now, reporting, {key: phase_claims(decision.reports)})
        problem = _infrastructure_problem(settings, summary)
        if problem is None:  # the data's doing: a verdict like any other (else nothing of it is reported)
            reporting.release_held()
            problem = _unrecorded(reporting)
    except Exception as error:  # the round is released: the retry runs it
        problem = f"{type(error).__name__}: {first_line(error)}"
        log.exception("%s %s round %s failed", checkpoint, game_date, decision.round)
        summary = None
    if problem is not None:
        finish_round(context.store, checkpoint, game_date, decision.round, context.owner, RELEASED,
                     {"error": problem}, context.clock())  # fmt: skip
        return EventOutcome(503, "unavailable", {**about, "round": decision.round, "error": problem})
    assert summary is not None
    verdict = verdict_json(summary, decision.round)
    stored = verdict if not reporting.unpublished else {**verdict, UNPUBLISHED: to_json(summary)}
    if not finish_round(context.store, checkpoint, game_date, decision.round, context.owner, DONE, stored,
                        context.clock()):  # fmt: skip
        log.warning("%s %s round %s was taken over while it ran: its verdict is reported, the round not marked",
                    checkpoint, game_date, decision.round)  # fmt: skip
    if reporting.unpublished:  # recorded and alerted: the redelivery publishes the stored verdict, nothing more
        return EventOutcome(503, "unpublished", {**about, **verdict, "error": "; ".join(reporting.unpublished)})
    return EventOutcome(200, "verdict", {**about, **verdict})


def publish_kept_verdicts(
    settings: Settings,
    checkpoint: str,
    game_date: date,
    context: PushContext,
    kept: tuple[Mapping[str, Any], ...] | None = None,
) -> list[str]:
    """Publish the verdicts of done rounds that could not be published when they ran (a redelivery of
    one of their messages, or the sweep, comes here); returns what still could not be. `kept` is what
    the push's own read of the document found (the sweep reads it here). The verdict keeps its
    idempotency key (verdicts.verdict_key: what it says), so a consumer that got the first attempt
    after all drops this one."""
    from reporting.verdicts import VerdictNotPublished, shared_publisher

    if kept is None:
        stored = context.store.read(document_name(checkpoint, game_date))
        kept = kept_verdicts(stored.document if stored else None)
    if not kept or not settings.service.verdict_topic:
        return []
    problems = []
    for round_ in kept:
        try:
            shared_publisher(settings.service.verdict_topic).publish_document(round_["verdict"][UNPUBLISHED])
        except VerdictNotPublished as error:
            problems.append(str(error))
            continue
        mark_published(context.store, checkpoint, game_date, round_["round"])
    return problems


def _run_phase(
    settings: Settings, key: str, game_date: date, now: datetime, reporting: Reporting, claims: Mapping[str, Any]
) -> RunSummary:
    """The phase's run, with what the messages claim for its reconciliation checks."""
    from checkpoints.run import run_phases

    with RUN_LOCK:
        return run_phases(settings, [key], game_date, now, reporting, claims=claims)[0]


def verdict_json(summary: RunSummary, round_number: int) -> dict[str, Any]:
    return {
        "round": round_number,
        "verdict": summary.status,
        "exit_code": int(summary.exit_code),
        "failed_checks": [check.name for check in summary.failed()],
        "error": summary.error,
    }


def _unrecorded(reporting: Reporting) -> str | None:
    """The verdict could not be kept (history, validation results): as `nba-dq run` exits 2 then, the push is
    answered 503 and run again rather than acknowledged with its results lost (a repeated alert is suppressed)."""
    return f"results could not be recorded: {'; '.join(reporting.unrecorded)}" if reporting.unrecorded else None


def _infrastructure_problem(settings: Settings, summary: RunSummary) -> str | None:
    """A phase that could not run is a verdict when its data caused it (a missing table, no games), but
    a retry's business when the warehouse cannot be reached: asked again after the fact with one
    trivial statement (the run's own error does not say which)."""
    if not summary.error:
        return None
    import sqlalchemy as sa

    from warehouse.connection import open_warehouse

    try:
        warehouse = open_warehouse(settings, {"command": "serve"})
        with warehouse.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except (CouldNotRun, sa.exc.SQLAlchemyError, OSError) as error:
        return f"warehouse unreachable: {first_line(error)} (the run said: {summary.error})"
    return None
