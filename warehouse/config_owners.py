"""dq.toml's `[owners]`: who a Slack incident mentions when it opens and when it gets worse.

A key is a phase ("phase5": every check of it) or a phase and one of its checks ("phase5.player_coverage",
quoted in TOML; a dotted table `[owners.phase5]` reads the same); a value lists Slack IDs, users
(U..., W...) or user groups (S...). IDs only: a name (@alice) is not a mention Slack's API resolves.
A mistyped phase or check is an error at load, like a `[phaseN.severity]` key, never an owner never told.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictStr
from pydantic_core import PydanticCustomError

from checkpoints.summary import COULD_NOT_RUN
from expectations.check_names import CHECK_NAMES

SLACK_ID = r"^([UW][A-Z0-9]{2,}|S[A-Z0-9]{2,})$"


def owner_keys() -> list[str]:
    """Every key `[owners]` may have: what a mistyped one is compared with."""
    return [
        key
        for phase, names in CHECK_NAMES.items()
        for key in [phase, *(f"{phase}.{name}" for name in sorted({*names, COULD_NOT_RUN}))]
    ]


def _known(key: str) -> str:
    phase, _dot, check = key.partition(".")
    if phase not in CHECK_NAMES:
        raise PydanticCustomError("unknown_check", "not a phase (phase3, phase4, phase5, phase5b or phase6)")
    if check and check not in CHECK_NAMES[phase] | {COULD_NOT_RUN}:
        raise PydanticCustomError("unknown_check", "not a {phase} check", {"phase": phase})
    return key


def _flatten(value: Any) -> Any:
    """`[owners.phase5]` with `player_coverage = [...]` is TOML's reading of a dotted key: "phase5.player_coverage"."""
    if not isinstance(value, Mapping):
        return value
    flat: dict[str, Any] = {}
    for key, ids in value.items():
        if isinstance(ids, Mapping):
            flat.update({f"{key}.{check}": inner for check, inner in ids.items()})
        else:
            flat[key] = ids
    return flat


Owners = Annotated[
    dict[
        Annotated[str, AfterValidator(_known)],
        tuple[Annotated[StrictStr, Field(pattern=SLACK_ID)], ...],
    ],
    BeforeValidator(_flatten),
    Field(default_factory=dict),
]
