"""Slack incidents: what a verdict changes in them, and the messages that calls for. Pure functions over
the ledger's `incidents` and `threads` (reporting/alerts.py reads and writes them under the alert lock,
and owns the outbox and delivery).

An incident is one (phase, check), key incident_controls.incident_key. It opens with the first failure
and stays open across runs and game dates until the check passes on every date it failed on; a phase
that could not run is its `could_not_run` incident. Its record: severity, the route it opened on,
opened_at, each failing date's first_seen / last_seen / measure (a count that grows when it gets worse),
when it last posted, its thread (the message it opened with, or the upstream one it follows) and
`follows` (the upstream incident it was posted under).

What is posted (the rest is quiet):
- open: the full alert in the route's channel, with first seen, the owners' mentions and Acknowledge /
  Mute buttons; one message for every check a run opens. When an UPSTREAM phase (pipeline order) has an
  open incident on the same date, it is posted in that incident's thread instead, marked as following
  from it: a date's failures across phases stay in one place, root cause first.
- a reply in the incident's thread (one short section; a webhook has no threads, so it is one compact
  message to the same webhook): a new date failing, a worse measure (with the owners' mentions: an
  escalation), or a repeat once `repeat_after` has passed since its last post.
- resolved: a reply in the same place, and the opening message updated to show it (chat.update, when
  every incident that message opened is resolved; bot token only).
Acknowledged (by the service's Slack endpoint): no repeats, no mentions, and the next post says who.
Muted: nothing until muted_until but the resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from checkpoints.phases import PHASES
from checkpoints.summary import COULD_NOT_RUN, ERROR, FAIL, PASS, CheckOutcome, RunSummary, detail_rows, outcomes
from checkpoints.summary import CRITICAL as CRITICAL_SEVERITY
from reporting.alert_messages import (
    RunLinks,
    alert_message,
    compact_message,
    escape,
    message_title,
    page_link,
    resolved_opening,
)
from reporting.incident_controls import Control, incident_key
from reporting.slack import CHANNEL, CRITICAL, WARNING, WEBHOOK, Destination, Routing

OPEN, REPLY, UPDATE = "open", "reply", "update"  # what an outbox entry is to its thread
PIPELINE = [phase.checkpoint for phase in PHASES.values()]  # phase3 -> ... -> phase6: upstream first
NEW_DATE, WORSE, REPEAT = "new date", "worse", "repeat"


@dataclass(frozen=True)
class Post:
    """A message a verdict calls for, before it is written to the outbox."""

    role: str  # OPEN, REPLY or UPDATE
    incident: str  # the (first) incident it is about
    thread: str  # the thread it opens or belongs to: alerts.py fills in its channel and ts at delivery
    destination: Destination
    payload: dict[str, Any]
    key: str  # idempotency key


@dataclass(frozen=True)
class Judging:
    """What a decision needs besides the verdict and the incidents."""

    routing: Routing
    links: RunLinks
    repeat_after: timedelta
    now: datetime
    controls: Mapping[str, Control]
    owners: Mapping[str, tuple[str, ...]]  # "phase5" or "phase5.<check>" -> Slack user or group IDs


def judge(
    summary: RunSummary, incidents: dict[str, Any], threads: dict[str, Any], context: Judging
) -> tuple[list[Post], list[str]]:
    """The messages this verdict calls for, and the incidents it resolved; updates `incidents` and
    `threads` (the caller saves them with the messages, before anything is sent)."""
    day, new, lines = str(summary.game_date), [], {}
    for check in failing_checks(summary):
        key = incident_key(summary.phase, check.name)
        if key not in incidents:
            new.append(check)
            continue
        line = _still_failing(incidents[key], key, check, day, context)
        if line:
            lines.setdefault(incidents[key]["thread"], []).append((key, line))
    posts = _open(summary, new, incidents, threads, context)
    for thread, said in lines.items():
        posts.append(_reply(summary, "", thread, said, incidents[said[0][0]], context))
    resolved_posts, resolved = _resolve(summary, incidents, threads, context)
    return posts + resolved_posts, resolved


def failing_checks(summary: RunSummary) -> list[CheckOutcome]:
    """The checks that failed or could not run; a phase that could not run is one critical pseudo-check.
    A date without games has none: nothing was due to be checked, so there is no incident (the run still
    exits 2). A check that could not judge (any other status) neither opens nor resolves one."""
    if summary.no_games:
        return []
    return [check for check in outcomes(summary) if check.status in (FAIL, ERROR)]


def measure(check: CheckOutcome) -> tuple[int, str] | None:
    """How bad a failure is, as a count that grows when it gets worse, and what it counts."""
    rows = detail_rows(check)
    missing = [row["missing_players"] for row in rows if isinstance(row.get("missing_players"), int)]
    if missing:
        return sum(missing), "players missing"
    if isinstance(check.observed, dict) and isinstance(check.observed.get("unexpected"), int):
        return int(check.observed["unexpected"]), "failing rows"
    if rows:
        return len(rows), "rows"
    return None


def mentions(owners: Mapping[str, tuple[str, ...]], phase: str, checks: list[str]) -> str:
    """The owners of a phase and of its checks, as Slack mentions: <@U...> for users, <!subteam^S...> for groups."""
    ids = [owner for key in [phase, *(f"{phase}.{check}" for check in checks)] for owner in owners.get(key, ())]
    return " ".join(f"<!subteam^{i}>" if i.startswith("S") else f"<@{i}>" for i in dict.fromkeys(ids))


def _still_failing(incident: dict[str, Any], key: str, check: CheckOutcome, day: str, context: Judging) -> str:
    """Records the failure on its date; the reply line it calls for, or "" (quiet)."""
    now, found = context.now, measure(check)
    count, unit = found if found else (None, "")
    seen = incident["dates"].get(day)
    previous = None if seen is None else seen.get("measure")
    if seen is None:
        incident["dates"][day] = {"first_seen": now.isoformat(), "last_seen": now.isoformat(), "measure": count}
        kind = NEW_DATE
    else:
        seen.update(last_seen=now.isoformat(), measure=count)
        if count is not None and previous is not None and count > previous:
            kind = WORSE
        elif now - datetime.fromisoformat(incident["posted_at"]) >= context.repeat_after:
            kind = REPEAT
        else:
            return ""
    control = context.controls.get(key, Control())
    if control.muted(now) or (kind == REPEAT and control.acknowledged_by):
        return ""
    incident["posted_at"] = now.isoformat()
    name = f"*{escape(check.name)}*"
    if kind == NEW_DATE:
        line = f"{name} failing on {day} too" + (f" ({_counted(count, unit)})" if count is not None else "")
    elif kind == WORSE:
        line = f"{name} worse on {day}: now {_counted(count, unit)}, was {previous}"
    else:
        line = f"{name} still failing on {', '.join(sorted(incident['dates']))}"
    line += _age(incident, now)
    if check.page:  # this date's page: the opening message links the first date's
        line += f" · Data Docs: {page_link(check.page, context.links)}"
    line += _acknowledged(incident, key, context)
    if kind == WORSE and not control.acknowledged_by:
        line += (" " + mentions(context.owners, incident["phase"], [check.name])).rstrip()
    return line


def _acknowledged(incident: dict[str, Any], key: str, context: Judging) -> str:
    """Who acknowledged the incident, said once: on the first post after the acknowledgement."""
    control = context.controls.get(key, Control())
    if not control.acknowledged_by or incident.get("acknowledged_said") == control.acknowledged_at:
        return ""
    incident["acknowledged_said"] = control.acknowledged_at
    return f" · acknowledged by <@{escape(control.acknowledged_by)}>"


def _counted(count: int | None, unit: str) -> str:
    """ "78 players missing", "1 player missing", "1 row"."""
    return f"{count} " + (unit.replace("rows", "row").replace("players", "player") if count == 1 else unit)


def _age(incident: dict[str, Any], now: datetime) -> str:
    days = (now - datetime.fromisoformat(incident["opened_at"])).days
    return f" · failing for {days} day{'s' if days > 1 else ''}" if days >= 1 else ""


def _open(
    summary: RunSummary, new: list[CheckOutcome], incidents: dict[str, Any], threads: dict[str, Any], context: Judging
) -> list[Post]:
    """One message for every check this verdict opens an incident for: in the route's channel, or in
    the thread of an upstream incident failing on the same date."""
    if not new:
        return []
    day, stamp = str(summary.game_date), context.now.isoformat()
    keys = [incident_key(summary.phase, check.name) for check in new]
    names = ",".join(check.name for check in new)
    upstream = _upstream(summary.phase, day, incidents)
    following, first_seen = "", f"first seen {context.now:%Y-%m-%d %H:%M} UTC"
    if upstream is not None:
        thread, destination = upstream["thread"], route(upstream, context.routing)
        following = f"following from {upstream['phase']} {escape(upstream['check'])} on {day}"
    else:
        level = CRITICAL if any(is_critical(check) for check in new) else WARNING
        thread, destination = f"{summary.phase}|{day}|{level}|{names}|{context.now}", context.routing.for_level(level)
        threads[thread] = {"title": f"nba-dq {summary.phase} {day}", "checks": [check.name for check in new]}
    owners = mentions(context.owners, summary.phase, [check.name for check in new])
    lead = [line for line in (following, first_seen, owners) if line]  # the root cause first
    for key, check in zip(keys, new, strict=True):
        incidents[key] = {
            "phase": summary.phase,
            "check": check.name,
            "severity": CRITICAL if is_critical(check) else WARNING,
            "route": {"kind": destination.kind, "name": destination.name},
            "opened_at": stamp,
            "posted_at": stamp,
            "thread": thread,
            "follows": None if upstream is None else incident_key(upstream["phase"], upstream["check"]),
            "dates": {day: {"first_seen": stamp, "last_seen": stamp, "measure": (measure(check) or (None,))[0]}},
        }
    if upstream is not None and destination.kind == WEBHOOK:  # no threads: one compact line
        failing = ", ".join(f"*{escape(check.name)}*" for check in new)
        payload = compact_message(message_title(summary, new), [f"{failing} failing, {following} {owners}".rstrip()])
    else:
        payload = alert_message(summary, new, context.links, lead, buttons=keys)
    role = OPEN if upstream is None else REPLY
    return [Post(role, keys[0], thread, destination, payload, f"{summary.phase}|{day}|{role}|{names}|{context.now}")]


def _upstream(phase: str, day: str, incidents: dict[str, Any]) -> dict[str, Any] | None:
    """The open incident of the earliest phase before `phase` failing on `day`: the root cause. Within
    that phase, one that opened with this date comes first: an incident open since an earlier date (a
    coverage drop still failing) is not what broke this date, and its thread is about another date."""
    if phase not in PIPELINE:
        return None
    found = [
        (PIPELINE.index(incident["phase"]), not _opened_on(incident, day), incident["opened_at"], key)
        for key, incident in incidents.items()
        if incident["phase"] in PIPELINE[: PIPELINE.index(phase)] and day in incident["dates"]
    ]
    return incidents[min(found)[-1]] if found else None


def _opened_on(incident: dict[str, Any], day: str) -> bool:
    return bool(incident["dates"][day]["first_seen"] == incident["opened_at"])


def _reply(
    summary: RunSummary,
    title: str,
    thread: str,
    said: list[tuple[str, str]],
    incident: dict[str, Any],
    context: Judging,
) -> Post:
    """One short message for the lines an incident's thread gets from this verdict."""
    day = str(summary.game_date)
    title = title or message_title(summary, [check for check in failing_checks(summary)])
    payload = compact_message(title, [line for _key, line in said])
    names = ",".join(key.partition("|")[2] for key, _line in said)
    key = f"{summary.phase}|{day}|{REPLY}|{names}|{context.now}"
    return Post(REPLY, said[0][0], thread, route(incident, context.routing), payload, key)


def _resolve(
    summary: RunSummary, incidents: dict[str, Any], threads: dict[str, Any], context: Judging
) -> tuple[list[Post], list[str]]:
    """Dates this verdict shows passing again are closed; an incident with none left is resolved, in its
    thread, and the message that opened it is updated once every incident it opened is resolved."""
    day, stamp = str(summary.game_date), f"{context.now:%Y-%m-%d %H:%M} UTC"
    passed = {check.name for check in summary.checks if check.status == PASS}
    if summary.checks:
        passed.add(COULD_NOT_RUN)  # the phase ran: a could-not-run incident is over
    lines: dict[str, list[tuple[str, str]]] = {}
    resolved: dict[str, dict[str, Any]] = {}
    for key, incident in list(incidents.items()):
        if incident["phase"] != summary.phase or incident["check"] not in passed or day not in incident["dates"]:
            continue
        del incident["dates"][day]
        if not incident["dates"]:
            resolved[key] = incidents.pop(key)
            opened = f"{datetime.fromisoformat(incident['opened_at']):%Y-%m-%d %H:%M} UTC"
            line = f"*{escape(incident['check'])}* passing again · opened {opened}"
            lines.setdefault(incident["thread"], []).append((key, line + _acknowledged(incident, key, context)))
    title = f"nba-dq {summary.phase} {day}: resolved"
    posts = [_reply(summary, title, thread, said, resolved[said[0][0]], context) for thread, said in lines.items()]
    for thread, said in lines.items():
        incident = resolved[said[0][0]]
        opened_here = [key for key, _line in said if resolved[key]["follows"] is None]
        still_open = any(other["thread"] == thread and other["follows"] is None for other in incidents.values())
        destination = route(incident, context.routing)
        if not opened_here or still_open or destination.kind != CHANNEL or thread not in threads:
            continue
        payload = resolved_opening(threads[thread]["title"], threads[thread]["checks"], stamp)
        key = f"{summary.phase}|{day}|{UPDATE}|{thread}|{context.now}"
        posts.append(Post(UPDATE, opened_here[0], thread, destination, payload, key))
    return posts, list(resolved)


def route(incident: dict[str, Any], routing: Routing) -> Destination:
    """Where the incident opened (its replies and resolution go there too); older ledgers kept none."""
    kept = incident.get("route")
    if kept:
        return Destination(kept["kind"], kept["name"])
    return routing.for_level(incident.get("severity", CRITICAL))


def is_critical(check: CheckOutcome) -> bool:
    return check.status == ERROR or check.severity == CRITICAL_SEVERITY
