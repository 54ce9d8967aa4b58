"""Phase 3 faults: each breaks one date's context as Phase 3 wrote it.

The generator builds features and predictions from the broken context de-duplicated on its key, so a
player Phase 3 lost is lost downstream too, while the box scores (the games were played) stay whole.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pandas as pd

from warehouse.catalog import UPCOMING_CONTEXT
from warehouse.seed.faults import THIN_TEAM_ROWS, Fault

_C = UPCOMING_CONTEXT.c


def break_context(fault: Fault | None, context: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """One date's context with a Phase 3 fault applied (unchanged for any other fault)."""
    handler = _HANDLERS.get(fault.name) if fault is not None else None
    return context if handler is None else handler(context.reset_index(drop=True), rng)


def _team_missing(context: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    game = rng.choice(sorted(set(context[_C.game_id])))
    team = rng.choice(sorted(set(context.loc[context[_C.game_id] == game, _C.team_abbr])))
    lost = (context[_C.game_id] == game) & (context[_C.team_abbr] == team)
    return context[~lost].reset_index(drop=True)


def _players_too_low(context: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    game = rng.choice(sorted(set(context[_C.game_id])))
    in_game = context[context[_C.game_id] == game]
    kept: list[int] = []
    for team in sorted(set(in_game[_C.team_abbr])):
        kept.extend(rng.sample(list(in_game.index[in_game[_C.team_abbr] == team]), THIN_TEAM_ROWS))
    return context.drop(index=sorted(set(in_game.index) - set(kept))).reset_index(drop=True)


def _duplicate_key(context: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    i = rng.randrange(len(context))
    return pd.concat([context.iloc[: i + 1], context.iloc[[i]], context.iloc[i + 1 :]], ignore_index=True)


_HANDLERS: dict[str, Callable[[pd.DataFrame, random.Random], pd.DataFrame]] = {
    "context_team_missing": _team_missing,
    "context_players_too_low": _players_too_low,
    "context_duplicate_key": _duplicate_key,
}

HANDLED: frozenset[str] = frozenset(_HANDLERS)
