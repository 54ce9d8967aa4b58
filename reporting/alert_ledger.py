"""The alert ledger, "alerts/ledger.json": open incidents, the threads their messages belong to, and the
outbox keys Slack confirmed. Read and written only under the alert lock (reporting/alerts.py).

Older versions kept only open alerts, {"open": {"phase|date|check": posted at}} (or that mapping flat):
each becomes an incident open on its dates, so an upgrade neither loses an open alert nor posts it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reporting.incident_controls import incident_key
from reporting.slack import CHANNEL, WEBHOOK
from state.files import CorruptStateFile
from state.store import StateStore, read_checked

LEDGER = "alerts/ledger.json"
_INCIDENT_FIELDS = {"phase": str, "check": str, "dates": dict, "opened_at": str, "posted_at": str, "thread": str}


@dataclass
class Ledger:
    incidents: dict[str, Any] = field(default_factory=dict)  # incident key -> its record (reporting/incidents.py)
    threads: dict[str, Any] = field(default_factory=dict)  # thread -> its opening message (title, checks, channel, ts)
    delivered: dict[str, str] = field(default_factory=dict)  # outbox key -> when Slack confirmed it

    def document(self) -> dict[str, Any]:
        return {"incidents": self.incidents, "threads": self.threads, "delivered": self.delivered}


def read_ledger(store: StateStore) -> Ledger:
    """The ledger; none yet, or a corrupt one (quarantined by read_checked), reads as empty."""
    stored = read_checked(store, LEDGER, _check_ledger)
    if stored is None:
        return Ledger()
    document = stored.document
    if "incidents" in document:
        return Ledger(dict(document["incidents"]), dict(document.get("threads", {})), dict(document["delivered"]))
    if "open" in document:
        return Ledger(_incidents_from_open(document["open"]), delivered=dict(document.get("delivered", {})))
    return Ledger(_incidents_from_open(document))  # the flat ledger of the first versions


def _incidents_from_open(open_alerts: dict[str, str]) -> dict[str, Any]:
    """{"phase|date|check": posted at} -> incidents open on those dates. The route and the opening
    message were not kept: replies and the resolution go to the route of their severity, unthreaded."""
    incidents: dict[str, Any] = {}
    for name, posted in sorted(open_alerts.items(), key=lambda item: item[1]):
        phase, day, check = name.split("|", 2)
        key = incident_key(phase, check)
        incident = incidents.setdefault(
            key,
            {"phase": phase, "check": check, "severity": "critical", "route": None, "opened_at": posted,
             "thread": f"older ledger|{key}", "follows": None, "dates": {}},
        )  # fmt: skip
        incident["posted_at"] = posted
        incident["dates"][day] = {"first_seen": posted, "last_seen": posted, "measure": None}
    return incidents


def _check_ledger(document: Any) -> None:
    """What nba-dq writes now, or the {"open": ..., "delivered": ...} / flat {key: time} of earlier versions."""
    if not isinstance(document, dict):
        raise CorruptStateFile("not a JSON object")
    if "incidents" in document:
        _check_incidents(document["incidents"])
        if not isinstance(document.get("threads", {}), dict):
            raise CorruptStateFile("threads is not an object")
        _check_times(document.get("delivered"))
        return
    if "open" in document:
        _check_times(document["open"])
        _check_times(document.get("delivered", {}))
        if any(len(key.split("|")) < 3 for key in document["open"]):
            raise CorruptStateFile("an open alert that is not phase|date|check")
        return
    _check_times(document)
    if any(len(key.split("|")) < 3 for key in document):
        raise CorruptStateFile("an open alert that is not phase|date|check")


def _check_incidents(incidents: Any) -> None:
    if not isinstance(incidents, dict):
        raise CorruptStateFile("incidents is not an object")
    for key, incident in incidents.items():
        if not isinstance(incident, dict):
            raise CorruptStateFile(f"{key}: not an incident")
        for name, kind in _INCIDENT_FIELDS.items():
            if not isinstance(incident.get(name), kind):
                raise CorruptStateFile(f"{key}: {name} missing or not a {kind.__name__}")
        _check_times({name: incident[name] for name in ("opened_at", "posted_at")})
        route, follows = incident.get("route"), incident.get("follows")
        if route is not None and not (isinstance(route, dict) and route.get("kind") in (WEBHOOK, CHANNEL)):
            raise CorruptStateFile(f"{key}: not a route: {route!r}")
        if route is not None and not isinstance(route.get("name"), str) or not isinstance(follows, str | None):
            raise CorruptStateFile(f"{key}: a route without a name, or follows not an incident key")
        for day, seen in incident["dates"].items():
            if not isinstance(seen, dict) or not isinstance(seen.get("measure"), int | None):
                raise CorruptStateFile(f"{key}: {day}: not a failing date's record")
            _check_times({name: seen.get(name) for name in ("first_seen", "last_seen")})


def _check_times(part: Any) -> None:
    if not isinstance(part, dict):
        raise CorruptStateFile("open, delivered or an incident's times is not an object")
    for key, moment in part.items():
        if not isinstance(moment, str) or datetime.fromisoformat(moment).tzinfo is None:
            raise CorruptStateFile(f"{key}: not a time with a zone: {moment!r}")
