"""Phase 6 (export): the JSON files the site and apps read, checked against the schedule and the predictions.

The tonight export was once published with games but no players, and Phase 6 had no validation at all.
The files are read from the export root (a folder, or gs://…/v1 in production) and turned into one
frame of facts, a row per file, per listed or scheduled game and per player; each check is a GX
expectation on those rows, so Data Docs name the file, game or player that failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pandas as pd
import sqlalchemy as sa
from great_expectations import expectations as gxe
from great_expectations.expectations import Expectation
from great_expectations.expectations.row_conditions import Column

from expectations.declare import CheckedBatch, PhaseRequest, checker
from warehouse.catalog import (
    EXPORT,
    EXPORT_FILES,
    HALT_FIELDS,
    PREDICTIONS,
    PREDICTIONS_EXPORT,
    SCHEDULE,
    TONIGHT_EXPORT,
)
from warehouse.connection import Warehouse
from warehouse.exports import ExportStore
from warehouse.settings import Phase6Thresholds

ASSET = "exports"
READABLE = "ok"
# What each row of the facts frame describes, in its `record` column.
FILE, GAME, PLAYER = "file", "game", "player"
BOTH, NOT_EXPORTED, NOT_PREDICTED = "exported and predicted", "predicted, not in export", "exported, not predicted"
# How a player missing from one side is shown, per file: the value Data Docs lists for a failing row.
MISMATCH_LABELS = {
    PREDICTIONS_EXPORT.folder: (NOT_EXPORTED, NOT_PREDICTED),
    TONIGHT_EXPORT.folder: ("predicted, not in tonight export", "in tonight export, not predicted"),
}
IDENTITY = "subject"  # the file, game or player a row is about: what Data Docs lists for a failing value

P = PREDICTIONS.c
S = SCHEDULE.c
IS_FILE = Column("record") == FILE
IS_READABLE_FILE = IS_FILE & (Column("read_status") == READABLE)
IS_GAME = Column("record") == GAME


@dataclass(frozen=True)
class ScheduledGame:
    game_id: str
    home_team: str
    away_team: str


@dataclass(frozen=True)
class ExportRead:
    """One export file as read: its document when it parsed, else why not."""

    relative: str
    status: str  # READABLE, or what is wrong in one line
    document: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ExportFacts:
    """Everything Phase 6 compares: the date's files, its scheduled games and its predicted players."""

    files: Mapping[str, ExportRead]  # export folder -> read
    games: tuple[ScheduledGame, ...]
    predicted_players: frozenset[str]


def build_batches(request: PhaseRequest, thresholds: Phase6Thresholds, facts: ExportFacts) -> list[CheckedBatch]:
    checks = export_checks(thresholds, request.game_date, unjudged(facts))
    return [CheckedBatch(ASSET, "", checks, frame=facts_frame(request.now, facts))]


def unjudged(facts: ExportFacts) -> dict[str, str]:
    """The checks a date's files leave nothing to judge, and why: they are declared skipped (SKIP, not a
    pass). No readable file: no halt fields, games or generation time to check (export_files_readable
    fails). The tonight file unreadable or halted: no game of it is held to the players-per-game floor."""
    readable = [read for read in facts.files.values() if read.document is not None]
    skipped = {}
    if not readable:
        why = "no export file could be read (export_files_readable fails)"
        skipped.update(dict.fromkeys(("export_halt_fields", "export_no_empty_games", "export_fresh"), why))
    tonight = facts.files.get(TONIGHT_EXPORT.folder)
    if tonight is None or tonight.document is None:
        skipped["export_players_per_game"] = "the tonight file could not be read (export_files_readable fails)"
    elif tonight.document.get(EXPORT.halt_active) is True:
        skipped["export_players_per_game"] = "a halt is active in the tonight file (halt_active is true)"
    return skipped


def export_checks(
    thresholds: Phase6Thresholds, game_date: object, skipped: Mapping[str, str] | None = None
) -> tuple[Expectation, ...]:
    """Phase 6's checks over a facts frame: a date's (`run`) or a range's (`audit`, which evaluates these
    same expectations' conditions set-based: expectations/phase6_audit.py). `game_date` only names files;
    `skipped`: the checks the date's files leave nothing to judge, and why (`unjudged`)."""
    t = thresholds
    checker_of = checker(t)

    def named(name: str, expected: str, expectation: Expectation, why: str | None = None) -> Expectation:
        return checker_of(name, expected, expectation, why, (skipped or {}).get(name))

    predictions_file = PREDICTIONS_EXPORT.path(game_date)
    return (
        named(
            "export_files_readable",
            f"{predictions_file} and {TONIGHT_EXPORT.path(game_date)} exist and are JSON objects with"
            " games, players and generated_at",
            gxe.ExpectColumnValuesToBeInSet(column="read_status", value_set=[READABLE], row_condition=IS_FILE),
        ),
        named(
            "export_halt_fields",
            f"every file carries {', '.join(HALT_FIELDS)}",
            gxe.ExpectColumnValuesToBeNull(column="missing_halt_fields", row_condition=IS_READABLE_FILE),
            "Readers decide from the halt fields whether to show picks at all.",
        ),
        named(
            "export_no_empty_games",
            "every scheduled or listed game has at least 1 player, in every file",
            gxe.ExpectColumnValuesToBeBetween(column="players", min_value=1, row_condition=IS_GAME),
            "The tonight export was once published with games but no players.",
        ),
        named(
            "export_players_per_game",
            f">= {t.min_players_per_game} players per game in the tonight file unless a halt is active",
            gxe.ExpectColumnValuesToBeBetween(
                column="players",
                min_value=t.min_players_per_game,
                row_condition=IS_GAME & (Column("export") == TONIGHT_EXPORT.folder) & (Column("halted") == False),  # noqa: E712
            ),
        ),
        named(
            "export_players_match_predictions",
            f"the players in {predictions_file}, and in {TONIGHT_EXPORT.path(game_date)} unless a halt is"
            " active, are exactly the players with an active prediction",
            gxe.ExpectColumnValuesToBeInSet(
                column="presence", value_set=[BOTH], row_condition=Column("record") == PLAYER
            ),
            "A player predicted but not exported is a lost pick; one exported but not predicted is stale.",
        ),
        named(
            "export_fresh",
            f"generated at most {t.max_export_age_hours:g} h before the run time",
            gxe.ExpectColumnValuesToBeBetween(
                column="hours_since_generated",
                min_value=0,
                max_value=t.max_export_age_hours,
                row_condition=IS_READABLE_FILE,
            ),
        ),
    )


def gather_facts(request: PhaseRequest, store: ExportStore, warehouse: Warehouse) -> ExportFacts:
    """Read the date's export files and what they must agree with: two partition-filtered queries."""
    games_sql = request.partition(SCHEDULE, (S.game_id, S.home_team_tricode, S.away_team_tricode))
    players_sql = (
        f"SELECT DISTINCT {P.player_lookup} FROM ({request.partition(PREDICTIONS, (P.player_lookup, P.is_active))})"
        f" AS predictions WHERE {P.is_active} = TRUE"
    )
    with warehouse.connect() as connection:
        games = tuple(ScheduledGame(*row) for row in connection.execute(sa.text(f"{games_sql} ORDER BY {S.game_id}")))
        predicted = frozenset(row[0] for row in connection.execute(sa.text(players_sql)))
    files = {export.folder: read_export(store, export.path(request.game_date)) for export in EXPORT_FILES}
    return ExportFacts(files=files, games=games, predicted_players=predicted)


def read_export(store: ExportStore, relative: str) -> ExportRead:
    """Read and parse one file; anything short of the expected shape is a one-line status, never a raise."""
    data = store.read(relative)
    if data is None:
        return ExportRead(relative, f"missing: {store.location(relative)} does not exist")
    try:
        document = json.loads(data.decode("utf-8"))
    except ValueError as error:  # not UTF-8, not JSON, or a number too long to convert
        return ExportRead(relative, f"not JSON: {error}")
    except RecursionError:  # json.loads recurses once per level: "[" * 100000 would end the run
        return ExportRead(relative, "not JSON: nested too deeply to parse")
    problem = _shape_problem(document)
    return ExportRead(relative, problem, None) if problem else ExportRead(relative, READABLE, document)


def _shape_problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return "not a JSON object"
    if _generated_at(document) is None:
        return f"{EXPORT.generated_at} is missing or not an ISO 8601 time with a UTC offset"
    games = document.get(EXPORT.games)
    if not isinstance(games, list) or not all(isinstance(game, dict) for game in games):
        return f"{EXPORT.games} is missing or not a list of objects"
    game_ids: set[str] = set()
    player_lookups: set[str] = set()
    for number, game in enumerate(games, start=1):
        players = game.get(EXPORT.players)
        if not isinstance(game.get(EXPORT.game_id), str) or not isinstance(players, list):
            return f"game #{number} has no {EXPORT.game_id} (a string) or no {EXPORT.players} list"
        game_id = game[EXPORT.game_id]
        if game_id in game_ids:  # a reader would show the game twice; facts keyed by game_id would hide one
            return f"game {game_id} is listed twice"
        game_ids.add(game_id)
        if not all(isinstance(p, dict) and isinstance(p.get(EXPORT.player_lookup), str) for p in players):
            return f"game {game_id} has a player without {EXPORT.player_lookup} (a string)"
        for player in players:
            if player[EXPORT.player_lookup] in player_lookups:
                return f"player {player[EXPORT.player_lookup]} is listed twice"
            player_lookups.add(player[EXPORT.player_lookup])
    return None


def _generated_at(document: Mapping[str, Any]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(document.get(EXPORT.generated_at)))
        return moment.astimezone(timezone.utc) if moment.tzinfo else None
    except (ValueError, OverflowError):  # 0001-01-01T00:00:00+05:00 parses, but is before the first UTC moment
        return None


FACT_COLUMNS = ("record", IDENTITY, "export", "read_status", "missing_halt_fields", "hours_since_generated",
                "players", "halted", "presence")  # fmt: skip


def facts_frame(now: datetime, facts: ExportFacts) -> pd.DataFrame:
    """One row per file, per game of each readable file, and per player of either set (`record` says which)."""
    return frame_of_facts(facts_rows(now, facts))


def frame_of_facts(rows: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The facts frame of rows (one date's, or a range's with `extra` columns such as the date)."""
    return _typed(pd.DataFrame(rows, columns=[*FACT_COLUMNS, *extra]))


def with_fact_rows(frame: pd.DataFrame, rows: list[dict[str, Any]], extra: tuple[str, ...]) -> pd.DataFrame:
    """The frame with more facts, in `extra` columns of their own (what the completion message claimed)."""
    added = pd.DataFrame(rows, columns=[*frame.columns, *extra], dtype=object)
    return _typed(pd.concat([frame.astype(object), added], ignore_index=True))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame["players"] = frame["players"].astype("Int64")
    frame["hours_since_generated"] = frame["hours_since_generated"].astype("float64")
    return frame


def facts_rows(now: datetime, facts: ExportFacts) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for folder, read in facts.files.items():
        rows.append(_file_row(folder, read, now))
        if read.document is not None:
            rows += _game_rows(folder, read.relative, read.document, facts.games)
    for folder, read in facts.files.items():
        if _compared_with_predictions(folder, read):
            rows += _player_rows(folder, _players_in(read), facts.predicted_players)
    return rows


def _file_row(folder: str, read: ExportRead, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"record": FILE, IDENTITY: read.relative, "export": folder, "read_status": read.status}
    if read.document is not None:
        missing = [field for field in HALT_FIELDS if field not in read.document]
        generated = _generated_at(read.document)
        row["missing_halt_fields"] = ", ".join(missing) or None
        row["hours_since_generated"] = round((now - generated).total_seconds() / 3600, 2) if generated else None
    return row


def _game_rows(
    folder: str, relative: str, document: Mapping[str, Any], scheduled: Iterable[ScheduledGame]
) -> list[dict[str, Any]]:
    """Every scheduled game (0 players when the file leaves it out) and any other game the file lists."""
    listed = {game[EXPORT.game_id]: game for game in document[EXPORT.games]}
    halted = document.get(EXPORT.halt_active) is True
    names = {game.game_id: f"{game.away_team} @ {game.home_team}" for game in scheduled}
    rows = []
    for game_id in [*names, *sorted(set(listed) - set(names))]:
        players = {player[EXPORT.player_lookup] for player in listed.get(game_id, {}).get(EXPORT.players, [])}
        label = names.get(game_id, "not scheduled")
        subject = f"{relative} game {game_id} ({label})" + ("" if game_id in listed else ", not listed")
        rows.append({"record": GAME, IDENTITY: subject, "export": folder, "players": len(players), "halted": halted})
    return rows


def _compared_with_predictions(folder: str, read: ExportRead) -> bool:
    """The predictions file always (unreadable: every predicted player is missing from it); the tonight
    file when it was read and no halt is active (a halt may hold players back; unreadable, its players are
    unknown, and export_files_readable fails)."""
    if folder == PREDICTIONS_EXPORT.folder:
        return True
    return folder in MISMATCH_LABELS and read.document is not None and read.document.get(EXPORT.halt_active) is not True


def _player_rows(folder: str, exported: frozenset[str], predicted: frozenset[str]) -> list[dict[str, Any]]:
    not_exported, not_predicted = MISMATCH_LABELS[folder]
    rows = []
    for player in sorted(exported | predicted):
        if player in exported and player in predicted:
            presence = BOTH
        else:  # the name is part of the value: Data Docs lists failing values, not the rows' identity
            presence = f"{not_exported if player in predicted else not_predicted}: {player}"
        rows.append({"record": PLAYER, IDENTITY: player, "export": folder, "presence": presence})
    return rows


def _players_in(read: ExportRead) -> frozenset[str]:
    if read.document is None:
        return frozenset()
    return frozenset(
        player[EXPORT.player_lookup] for game in read.document[EXPORT.games] for player in game[EXPORT.players]
    )
