"""`nba-dq sweep`: what the push service cannot see, because no message came.

A processor that never reports leaves its phase waiting forever, and an instance killed mid-run leaves
a claimed round nobody finishes (the next delivery would take it over, but there may be none). Run on
a schedule, the sweep reports each phase of a game date whose processors have not all reported
`[service] overdue_after_hours` after the first report (or after the date's run hour when none did)
as could-not-run, naming the missing processors: recorded in the history and alerted like any run.
An abandoned round (claimed longer ago than `[state] lease_seconds`) is taken over and run here, and a
verdict the topic could not take when its round ran is published now.
A date without games has nothing to wait for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, TextIO

from checkpoints.phases import phase_key
from checkpoints.summary import RunSummary
from runners.completion import RUN, claim_due_round, document_name, missing_processors, open_claim
from runners.events import PushContext, publish_kept_verdicts, run_round
from warehouse.errors import CouldNotRun, ExitCode
from warehouse.settings import Settings

OVERDUE, ABANDONED, WAITING, RUNNING, JUDGED, NO_GAMES, UNPUBLISHED = (
    "overdue", "abandoned", "waiting", "running", "judged", "no_games", "unpublished"
)  # fmt: skip


@dataclass(frozen=True)
class PhaseSweep:
    checkpoint: str
    state: str  # overdue | abandoned | waiting | running | judged | no_games | unpublished
    missing: tuple[str, ...]
    since: datetime | None  # the first report, or the date's run hour
    detail: Mapping[str, Any]

    @property
    def overdue(self) -> bool:
        return self.state in (OVERDUE, ABANDONED, UNPUBLISHED)

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": phase_key(self.checkpoint),
            "checkpoint": self.checkpoint,
            "state": self.state,
            "missing": list(self.missing),
            "since": self.since.isoformat() if self.since else None,
            **self.detail,
        }


def sweep(
    settings: Settings, env: Mapping[str, str], game_date: date, context: PushContext, err: TextIO
) -> list[PhaseSweep]:
    """Each configured phase's state for the date; overdue ones reported, abandoned rounds run."""
    from runners.commands import build_reporting  # the CLI's reporting: history and alerts

    reporting = build_reporting(settings, env, err)  # in production, no Slack destination is exit 2 here
    if _scheduled_games(settings, game_date) == 0:
        return [PhaseSweep(checkpoint, NO_GAMES, (), None, {}) for checkpoint in settings.completion]
    now = context.clock()
    lease = timedelta(seconds=settings.state.lease_seconds)
    overdue_after = timedelta(hours=settings.service.overdue_after_hours)
    run_hour = datetime.combine(game_date, time(settings.replay_hour_utc), tzinfo=timezone.utc)
    swept = []
    for checkpoint, table in settings.completion.items():
        stored = context.store.read(document_name(checkpoint, game_date))
        document = None if stored is None else stored.document
        missing = missing_processors(document, table.processors)
        since = datetime.fromisoformat(document["first_reported_at"]) if document else run_hour
        claim = open_claim(document)
        if claim is not None and now - datetime.fromisoformat(claim["claimed_at"]) >= lease:
            ran = _run_abandoned(settings, env, checkpoint, game_date, context, claim["owner"])
            swept.append(PhaseSweep(checkpoint, ABANDONED, missing, since, {"run": ran}))
        elif missing and now >= since + overdue_after:
            hours = settings.service.overdue_after_hours
            error = (
                f"overdue: {', '.join(missing)} not reported {hours:g} h after {since:%Y-%m-%d %H:%M} UTC"
                f" ({'the first report' if document else 'the run hour'}); check the platform's processors"
            )
            reporting.report(RunSummary(checkpoint, game_date, (), (), error=error))
            swept.append(PhaseSweep(checkpoint, OVERDUE, missing, since, {"error": error}))
        elif missing:
            swept.append(PhaseSweep(checkpoint, WAITING, missing, since, {}))
        elif claim is not None:
            swept.append(PhaseSweep(checkpoint, RUNNING, (), since, {"round": claim["round"]}))
        else:
            verdict = (document or {}).get("rounds", [{}])[-1].get("verdict") or {}
            unpublished = publish_kept_verdicts(settings, checkpoint, game_date, context)
            state, detail = (UNPUBLISHED, {"error": "; ".join(unpublished)}) if unpublished else (JUDGED, {})
            swept.append(PhaseSweep(checkpoint, state, (), since, {"verdict": verdict.get("verdict"), **detail}))
    return swept


def _run_abandoned(
    settings: Settings, env: Mapping[str, str], checkpoint: str, game_date: date, context: PushContext, owner: str
) -> dict[str, Any] | None:
    """Take the round over (compare-and-set: a delivery may take it at the same moment) and run it."""
    processors = settings.completion[checkpoint].processors
    lease = timedelta(seconds=settings.state.lease_seconds)
    decision = claim_due_round(context.store, checkpoint, game_date, processors, context.owner, context.clock(), lease)
    if decision.kind != RUN:
        return None
    about = {"phase": phase_key(checkpoint), "game_date": game_date.isoformat(), "abandoned_by": owner}
    return run_round(settings, env, checkpoint, game_date, decision, context, about).body()


def exit_code(swept: list[PhaseSweep]) -> ExitCode:
    return ExitCode.CHECK_FAILED if any(phase.overdue for phase in swept) else ExitCode.PASSED


def render_sweep(game_date: date, swept: list[PhaseSweep]) -> str:
    lines = [f"nba-dq sweep {game_date}", f"{'phase':<6} {'state':<10} missing / detail"]
    for phase in swept:
        detail = ", ".join(phase.missing) or ", ".join(f"{k}={v}" for k, v in phase.detail.items() if v is not None)
        lines.append(f"{phase_key(phase.checkpoint):<6} {phase.state:<10} {detail}")
    return "\n".join(lines)


def _scheduled_games(settings: Settings, game_date: date) -> int:
    from warehouse.connection import open_warehouse, scheduled_games

    try:
        return scheduled_games(open_warehouse(settings, {"command": "sweep"}), game_date)
    except CouldNotRun as error:
        raise CouldNotRun(f"sweep {game_date}: {error}") from error
