"""Phase 6's files for one date, as the exporter writes them from the schedule and the active predictions.

Every scheduled game is listed, with the players who have an active prediction (none on a day whose
predictions were lost: that is how the platform once published games without players).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from warehouse.catalog import EXPORT, PREDICTIONS, PREDICTIONS_EXPORT, SCHEDULE, TONIGHT_EXPORT, UPCOMING_CONTEXT

_S = SCHEDULE.c
_C = UPCOMING_CONTEXT.c
_P = PREDICTIONS.c

Document = dict[str, Any]


def export_documents(
    day: date, schedule: pd.DataFrame, context: pd.DataFrame, predictions: pd.DataFrame, generated_at: datetime
) -> dict[str, Document]:
    """The date's export files (relative path -> JSON document), not halted."""
    players = _players_by_game(schedule, context, predictions)
    header = {
        EXPORT.game_date: day.isoformat(),
        EXPORT.generated_at: generated_at.isoformat(),
        EXPORT.halt_active: False,
        EXPORT.halt_reason: None,
        EXPORT.halt_since: None,
    }
    games = [
        {EXPORT.game_id: game[_S.game_id], EXPORT.home_team: game[_S.home_team_tricode],
         EXPORT.away_team: game[_S.away_team_tricode]}
        for game in schedule.to_dict("records")
    ]  # fmt: skip
    return {
        PREDICTIONS_EXPORT.path(day): {
            **header,
            EXPORT.games: [{**game, EXPORT.players: players.get(game[EXPORT.game_id], [])} for game in games],
        },
        TONIGHT_EXPORT.path(day): {
            **header,
            EXPORT.games: [
                {**game, EXPORT.players: [_tonight(player) for player in players.get(game[EXPORT.game_id], [])]}
                for game in games
            ],
        },
    }


def _players_by_game(
    schedule: pd.DataFrame, context: pd.DataFrame, predictions: pd.DataFrame
) -> Mapping[str, list[Document]]:
    """Schedule game_id -> its predicted players, each with every system's active prediction."""
    game_of_team = {
        team: game_id
        for game_id, home, away in schedule[[_S.game_id, _S.home_team_tricode, _S.away_team_tricode]].itertuples(
            index=False
        )
        for team in (home, away)
    }
    keys = zip(context[_C.player_lookup], context[_C.game_id], strict=True)
    team_of = dict(zip(keys, context[_C.team_abbr], strict=True))
    active = predictions[predictions[_P.is_active]].sort_values([_P.game_id, _P.player_lookup, _P.system_id])
    by_game: dict[str, list[Document]] = {}
    cards: dict[tuple[str, str], Document] = {}  # (game_id, player) -> the player's card, in sorted order
    for row in active[[_P.game_id, _P.player_lookup, _P.system_id, _P.predicted_points, _P.recommendation,
                       _P.current_points_line]].itertuples(index=False, name=None):  # fmt: skip
        game_id, player, system, points, pick, line = row
        card = cards.get((game_id, player))
        if card is None:
            team = team_of[(player, game_id)]
            card = cards[(game_id, player)] = {
                EXPORT.player_lookup: player,
                EXPORT.team: team,
                EXPORT.line: None if pd.isna(line) else float(line),
                EXPORT.predictions: [],
            }
            by_game.setdefault(game_of_team[team], []).append(card)
        card[EXPORT.predictions].append(
            {EXPORT.system_id: system, EXPORT.predicted_points: float(points), EXPORT.recommendation: pick}
        )
    return by_game


def _tonight(player: Document) -> Document:
    """A player's card on the tonight page: the systems' mean and the pick it implies."""
    points = [prediction[EXPORT.predicted_points] for prediction in player[EXPORT.predictions]]
    mean = round(sum(points) / len(points), 1)
    line = player[EXPORT.line]
    pick = "NO_LINE" if line is None else "OVER" if mean > line else "UNDER" if mean < line else "PASS"
    return {
        EXPORT.player_lookup: player[EXPORT.player_lookup],
        EXPORT.team: player[EXPORT.team],
        EXPORT.line: line,
        EXPORT.predicted_points: mean,
        EXPORT.recommendation: pick,
    }
