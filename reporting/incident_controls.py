"""What an on-call engineer said about an incident from Slack: acknowledged (by whom) and muted (until when).

Kept in one state-store document, "alerts/controls.json", beside the alert ledger, and changed only by
compare-and-set (state.store.update): the service's Slack endpoint writes it without taking the alert
lock (Slack wants an answer within 3 s), and the alerter only reads it. An incident is "phase|check".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from state.files import CorruptStateFile
from state.store import StateStore, read_checked, update

CONTROLS = "alerts/controls.json"
ACKNOWLEDGE = "nba_dq_acknowledge"  # the buttons' action_id; their value is the incident key
MUTE = "nba_dq_mute_24h"
MUTE_HOURS = 24


def incident_key(phase: str, check: str) -> str:
    return f"{phase}|{check}"


@dataclass(frozen=True)
class Control:
    acknowledged_by: str | None = None  # a Slack user ID
    acknowledged_at: str | None = None  # ISO time with a zone
    muted_by: str | None = None
    muted_until: str | None = None

    def muted(self, now: datetime) -> bool:
        return self.muted_until is not None and now < datetime.fromisoformat(self.muted_until)


def read_controls(store: StateStore) -> dict[str, Control]:
    """Every incident's control; a corrupt document is quarantined (read_checked) and reads as none."""
    stored = read_checked(store, CONTROLS, _check_controls)
    if stored is None:
        return {}
    return {key: Control(**value) for key, value in stored.document.items()}


def acknowledge(store: StateStore, incident: str, user: str, now: datetime) -> Control:
    return _change(store, incident, {"acknowledged_by": user, "acknowledged_at": now.isoformat()})


def mute(store: StateStore, incident: str, user: str, until: datetime) -> Control:
    return _change(store, incident, {"muted_by": user, "muted_until": until.isoformat()})


def forget(store: StateStore, incident: str) -> None:
    """A resolved incident's acknowledgement and mute end with it: the next failure opens a new one."""
    update(store, CONTROLS, lambda current: {k: v for k, v in (current or {}).items() if k != incident})


def _change(store: StateStore, incident: str, fields: dict[str, str]) -> Control:
    def change(current: Any) -> dict[str, Any]:
        controls = dict(current or {})
        controls[incident] = {**controls.get(incident, {}), **fields}
        return controls

    try:
        controls = update(store, CONTROLS, change)
    except (ValueError, KeyError, TypeError):  # a corrupt document: quarantined (saying why), then started afresh
        read_checked(store, CONTROLS, _check_controls)
        controls = update(store, CONTROLS, change)
    return Control(**controls[incident])


_FIELDS = set(asdict(Control()))


def _check_controls(document: Any) -> None:
    if not isinstance(document, dict):
        raise CorruptStateFile("not a JSON object")
    for key, value in document.items():
        if not isinstance(value, dict) or not set(value) <= _FIELDS:
            raise CorruptStateFile(f"{key}: not an incident control: {value!r}")
        for moment in ("acknowledged_at", "muted_until"):
            if value.get(moment) is not None and datetime.fromisoformat(value[moment]).tzinfo is None:
                raise CorruptStateFile(f"{key}: {moment} is not a time with a zone")
