"""Phase 6 faults: each breaks one date's export files (a file missing, a game emptied, players changed...)."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from warehouse.catalog import EXPORT, PREDICTIONS_EXPORT, TONIGHT_EXPORT
from warehouse.seed.exports import Document
from warehouse.seed.faults import (
    EXPORT_DROPPED_PLAYERS,
    HALTED_GAME_PLAYERS,
    STALE_EXPORT_AGE,
    Fault,
    simulated_run_time,
)

HALT_REASON = "prop line feed delayed; picks held"
_HALT_LEAD = timedelta(hours=1)


def break_exports(
    fault: Fault | None, documents: dict[str, Document], unpredicted: list[str], rng: random.Random
) -> dict[str, Document]:
    """The date's files with a Phase 6 fault applied; `unpredicted` are context players with no prediction."""
    handler = _HANDLERS.get(fault.name) if fault is not None else None
    return documents if fault is None or handler is None else handler(fault, copy.deepcopy(documents), unpredicted, rng)


def _file_missing(
    fault: Fault, documents: dict[str, Document], unpredicted: list[str], rng: random.Random
) -> dict[str, Document]:
    del documents[PREDICTIONS_EXPORT.path(fault.game_date)]
    return documents


def _game_without_players(
    fault: Fault, documents: dict[str, Document], unpredicted: list[str], rng: random.Random
) -> dict[str, Document]:
    rng.choice(documents[TONIGHT_EXPORT.path(fault.game_date)][EXPORT.games])[EXPORT.players] = []
    return documents


def _players_differ(
    fault: Fault, documents: dict[str, Document], unpredicted: list[str], rng: random.Random
) -> dict[str, Document]:
    games = documents[PREDICTIONS_EXPORT.path(fault.game_date)][EXPORT.games]
    listed = [(game, player) for game in games for player in game[EXPORT.players]]
    for game, player in rng.sample(listed, EXPORT_DROPPED_PLAYERS):
        game[EXPORT.players].remove(player)
    games[0][EXPORT.players].append({EXPORT.player_lookup: rng.choice(unpredicted), EXPORT.predictions: []})
    return documents


def _stale(
    fault: Fault, documents: dict[str, Document], unpredicted: list[str], rng: random.Random
) -> dict[str, Document]:
    generated = simulated_run_time(fault.game_date) - STALE_EXPORT_AGE
    for document in documents.values():
        document[EXPORT.generated_at] = generated.isoformat()
    return documents


def _halted_thin_game(
    fault: Fault, documents: dict[str, Document], unpredicted: list[str], rng: random.Random
) -> dict[str, Document]:
    halted_since: datetime = simulated_run_time(fault.game_date) - _HALT_LEAD
    for document in documents.values():
        document.update(
            {EXPORT.halt_active: True, EXPORT.halt_reason: HALT_REASON, EXPORT.halt_since: halted_since.isoformat()}
        )
    game = rng.choice(documents[TONIGHT_EXPORT.path(fault.game_date)][EXPORT.games])
    game[EXPORT.players] = game[EXPORT.players][:HALTED_GAME_PLAYERS]
    return documents


_Handler = Callable[[Fault, dict[str, Document], list[str], random.Random], dict[str, Document]]

_HANDLERS: dict[str, _Handler] = {
    "export_file_missing": _file_missing,
    "export_game_without_players": _game_without_players,
    "export_players_differ": _players_differ,
    "export_stale": _stale,
    "export_halted_thin_game": _halted_thin_game,
}

HANDLED: frozenset[str] = frozenset(_HANDLERS)
