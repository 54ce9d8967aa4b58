"""Phase 6: faults made by hand in a copy of the seeded export folder are caught, and only by their checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from expectations import phase6_export
from expectations.declare import PhaseRequest
from tests.conftest import Workspace
from tests.test_cli_errors import assert_one_line_exit_2
from warehouse import exports
from warehouse.errors import CouldNotRun
from warehouse.exports import GcsExportStore, LocalExportStore, open_export_store
from warehouse.seed import FAULTS, simulated_run_time
from warehouse.settings import load_settings

pytestmark = pytest.mark.acceptance
DAY = date(2025, 12, 3)  # a clean seeded date
RUN = simulated_run_time(DAY)
HOSTILE = "<img src=x onerror=alert(1)>"
Edit = Callable[[Path], None]


def edit(folder: str, change: Callable[[dict[str, Any]], None]) -> Edit:
    """Load the date's file of `folder`, change the document, write it back."""

    def apply(root: Path) -> None:
        path = root / folder / f"{DAY}.json"
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document))

    return apply


def replace_file(folder: str, data: bytes | None) -> Edit:
    def apply(root: Path) -> None:
        path = root / folder / f"{DAY}.json"
        path.unlink()
        if data is not None:
            path.write_bytes(data)

    return apply


def generated(moment: datetime) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.update(generated_at=moment.isoformat())


def halt(document: dict[str, Any]) -> None:
    document.update(halt_active=True, halt_reason="feed delayed", halt_since=(RUN - timedelta(hours=1)).isoformat())


def keep_players(count: int) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["games"][0]["players"] = document["games"][0]["players"][:count]

    return change


def both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for each in changes:
            each(document)

    return change


def drop_first_player(document: dict[str, Any]) -> None:
    document["games"][0]["players"].pop(0)


def add_player(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["games"][-1]["players"].append({"player_lookup": name, "predictions": []})


HAND_FAULTS: dict[str, tuple[Edit, set[str]]] = {
    "predictions file deleted": (
        replace_file("predictions", None),
        {"export_files_readable", "export_players_match_predictions"},
    ),
    "tonight file deleted": (replace_file("tonight", None), {"export_files_readable"}),
    "tonight file cut short": (replace_file("tonight", b'{"games": ['), {"export_files_readable"}),
    "tonight file not UTF-8": (replace_file("tonight", b'{"games": "\xff"}'), {"export_files_readable"}),
    "predictions file a JSON list": (
        replace_file("predictions", b"[]"),
        {"export_files_readable", "export_players_match_predictions"},
    ),
    "generated_at missing": (edit("tonight", lambda d: d.pop("generated_at")), {"export_files_readable"}),
    "generated_at without a UTC offset": (
        edit("tonight", lambda d: d.update(generated_at="2025-12-03T17:45:00")),
        {"export_files_readable"},
    ),
    "a player without player_lookup": (
        edit("tonight", lambda d: d["games"][0]["players"].append({"team": "BOS"})),
        {"export_files_readable"},
    ),
    "halt_since missing": (edit("predictions", lambda d: d.pop("halt_since")), {"export_halt_fields"}),
    "all halt fields missing": (
        edit("tonight", lambda d: [d.pop(field) for field in ("halt_active", "halt_reason", "halt_since")]),
        {"export_halt_fields"},
    ),
    "a scheduled game left out of the tonight file": (
        edit("tonight", lambda d: d["games"].pop(0)),
        {"export_no_empty_games", "export_players_per_game", "export_players_match_predictions"},
    ),
    "a game emptied in the predictions file": (
        edit("predictions", lambda d: d["games"][0].update(players=[])),
        {"export_no_empty_games", "export_players_match_predictions"},
    ),
    "a game with 7 players, no halt": (
        edit("tonight", keep_players(7)),
        {"export_players_per_game", "export_players_match_predictions"},
    ),
    "a game with 7 players while halted": (edit("tonight", both(halt, keep_players(7))), set()),
    "a game emptied while halted": (edit("tonight", both(halt, keep_players(0))), {"export_no_empty_games"}),
    "a predicted player missing": (edit("predictions", drop_first_player), {"export_players_match_predictions"}),
    "a hostile name that was never predicted": (
        edit("predictions", add_player(HOSTILE)),
        {"export_players_match_predictions"},
    ),
    "generated 13 h before the run": (edit("tonight", generated(RUN - timedelta(hours=13))), {"export_fresh"}),
    "generated after the run": (edit("predictions", generated(RUN + timedelta(hours=1))), {"export_fresh"}),
    "generated 11 h before the run, in another time zone": (
        edit("tonight", lambda d: d.update(generated_at="2025-12-03T01:00:00-06:00")),
        set(),
    ),
}


# Malformed files used to end Phase 6 with exit 2 (RecursionError, a ValueError json did not wrap) or be
# read as if well formed (duplicate games and players merged); each is now a failing check with its reason.
UNREADABLE_TONIGHT = {"export_files_readable"}
UNREADABLE_PREDICTIONS = {"export_files_readable", "export_players_match_predictions"}
MALFORMED: dict[str, tuple[Edit, set[str], str]] = {
    "tonight file nested 100,000 deep": (
        replace_file("tonight", b"[" * 100_000),
        UNREADABLE_TONIGHT,
        "not JSON: nested too deeply to parse",
    ),
    "predictions file nested 100,000 deep": (
        replace_file("predictions", b'{"games": ' + b"[" * 100_000),
        UNREADABLE_PREDICTIONS,
        "not JSON: nested too deeply to parse",
    ),
    "a number too long to convert": (
        replace_file("tonight", b'{"games": ' + b"1" * 5000 + b"}"),
        UNREADABLE_TONIGHT,
        "not JSON: Exceeds the limit",
    ),
    "a non-UTF-8 byte in a player name": (
        replace_file("tonight", b'{"games": [{"game_id": "1", "players": [{"player_lookup": "jok\xe9"}]}]}'),
        UNREADABLE_TONIGHT,
        "not JSON: 'utf-8' codec can't decode byte 0xe9",
    ),
    "a game_id that is a number": (
        edit("tonight", lambda d: d["games"][0].update(game_id=22500123)),
        UNREADABLE_TONIGHT,
        "game #1 has no game_id (a string)",
    ),
    "players that are not a list": (
        edit("tonight", lambda d: d["games"][0].update(players="all of them")),
        UNREADABLE_TONIGHT,
        "game #1 has no game_id (a string) or no players list",
    ),
    "a player_lookup that is a number": (
        edit("tonight", lambda d: d["games"][0]["players"][0].update(player_lookup=7)),
        UNREADABLE_TONIGHT,
        "has a player without player_lookup (a string)",
    ),
    "a game listed twice": (
        edit("tonight", lambda d: d["games"].append(d["games"][0])),
        UNREADABLE_TONIGHT,
        "is listed twice",
    ),
    "a player listed twice": (
        edit("predictions", lambda d: d["games"][1]["players"].append(d["games"][0]["players"][0])),
        UNREADABLE_PREDICTIONS,
        "is listed twice",
    ),
    "generated_at before the first UTC moment": (
        edit("tonight", lambda d: d.update(generated_at="0001-01-01T00:00:00+05:00")),
        UNREADABLE_TONIGHT,
        "generated_at is missing or not an ISO 8601 time with a UTC offset",
    ),
    "generated_at a number": (
        edit("tonight", lambda d: d.update(generated_at=1764780000)),
        UNREADABLE_TONIGHT,
        "generated_at is missing or not an ISO 8601 time with a UTC offset",
    ),
}


@pytest.mark.parametrize("fault", MALFORMED, ids=str)
def test_a_malformed_file_fails_export_files_readable_with_its_reason(scratch: Workspace, fault: str) -> None:
    change, expected, reason = MALFORMED[fault]
    change(scratch.exports)
    result = scratch.cli("run", "--phase", "6", "--date", str(DAY), "--json")
    assert result.code == 1, result.err
    assert result.failing() == expected, result.out
    check = next(c for c in result.json()["checks"] if c["name"] == "export_files_readable")
    assert any(reason in row["read_status"] for row in check["observed"]["sample"]), check["observed"]


TONIGHT_MISMATCHES: dict[str, tuple[Edit, set[str]]] = {
    "a predicted player left out of the tonight file": (
        edit("tonight", drop_first_player),
        {"export_players_match_predictions"},
    ),
    "an unpredicted player in the tonight file": (
        edit("tonight", add_player("ghostplayer")),
        {"export_players_match_predictions"},
    ),
    "a predicted player left out of the tonight file while halted": (
        edit("tonight", both(halt, drop_first_player)),
        set(),
    ),
}


@pytest.mark.parametrize("fault", TONIGHT_MISMATCHES, ids=str)
def test_the_tonight_files_players_are_checked_against_predictions(scratch: Workspace, fault: str) -> None:
    change, expected = TONIGHT_MISMATCHES[fault]
    change(scratch.exports)
    result = scratch.cli("run", "--phase", "6", "--date", str(DAY), "--json")
    assert result.failing() == expected, result.out
    assert result.code == (1 if expected else 0), result.err
    if expected:
        check = next(c for c in result.json()["checks"] if c["name"] == "export_players_match_predictions")
        presence = [row["presence"] for row in check["observed"]["sample"]]
        assert len(presence) == 1 and presence[0].split(": ")[0] in (
            "predicted, not in tonight export",
            "in tonight export, not predicted",
        ), presence


@pytest.mark.parametrize("fault", HAND_FAULTS, ids=str)
def test_hand_made_export_fault_is_detected(scratch: Workspace, fault: str) -> None:
    change, expected = HAND_FAULTS[fault]
    change(scratch.exports)
    result = scratch.cli("run", "--phase", "6", "--date", str(DAY), "--json")  # a past date: judged as of its run
    assert result.failing() == expected, result.out
    assert result.code == (1 if expected else 0), result.err


def test_missing_and_extra_players_are_named(scratch: Workspace) -> None:
    edit("predictions", both(drop_first_player, add_player(HOSTILE)))(scratch.exports)
    document = scratch.cli("run", "--phase", "6", "--date", str(DAY), "--json").json()
    check = next(c for c in document["checks"] if c["name"] == "export_players_match_predictions")
    assert check["observed"]["unexpected"] == 2
    presence = {row["subject"]: row["presence"] for row in check["observed"]["sample"]}
    assert presence[HOSTILE] == f"exported, not predicted: {HOSTILE}"
    assert sum(value.startswith("predicted, not in export: ") for value in presence.values()) == 1
    text = scratch.cli("run", "--phase", "6", "--date", str(DAY)).out
    assert f"subject={HOSTILE}, presence=exported, not predicted: {HOSTILE}" in text


def test_a_missing_file_names_where_it_was_looked_for(scratch: Workspace) -> None:
    replace_file("predictions", None)(scratch.exports)
    document = scratch.cli("run", "--phase", "6", "--date", str(DAY), "--json").json()
    check = next(c for c in document["checks"] if c["name"] == "export_files_readable")
    assert check["observed"]["sample"] == [
        {
            "subject": f"predictions/{DAY}.json",
            "read_status": f"missing: {scratch.exports / 'predictions' / f'{DAY}.json'} does not exist",
        }
    ]


def test_freshness_is_judged_as_of_now_when_given(seeded: Workspace) -> None:
    later = (RUN + timedelta(hours=13)).isoformat()
    result = seeded.cli("run", "--phase", "6", "--date", str(DAY), "--now", later, "--json")
    assert result.failing() == {"export_fresh"} and result.code == 1


def test_a_missing_export_root_could_not_run(scratch: Workspace, tmp_path: Path) -> None:
    result = scratch.cli(
        "run", "--phase", "6", "--date", str(DAY), env={"NBA_DQ_EXPORT_ROOT": str(tmp_path / "nowhere")}
    )
    assert_one_line_exit_2(result, "export root", "does not exist", "NBA_DQ_EXPORT_ROOT")


def test_phase6_on_a_date_without_games_could_not_run(seeded: Workspace) -> None:
    assert_one_line_exit_2(seeded.cli("run", "--phase", "6", "--date", "2025-12-24"), "no games scheduled")


def test_every_phase6_check_has_a_fault_that_fails_it() -> None:
    settings = load_settings({})
    request = PhaseRequest(DAY, RUN, "duckdb", settings.datasets)
    files = {folder: phase6_export.ExportRead(f"{folder}/x.json", "missing") for folder in ("predictions", "tonight")}
    facts = phase6_export.ExportFacts(files=files, games=(), predicted_players=frozenset())
    declared = {e.meta["check"] for batch in phase6_export.build_batches(request, settings.phase6, facts)
                for e in batch.expectations}  # fmt: skip
    caught = set().union(*(checks for _, checks in HAND_FAULTS.values()), *(f.failing_checks("phase6") for f in FAULTS))
    assert declared == caught


# --- the export store: local folder or GCS, one interface -------------------------------------------------


def test_export_roots_choose_their_store(tmp_path: Path) -> None:
    assert open_export_store(str(tmp_path)) == LocalExportStore(tmp_path)
    assert open_export_store("gs://nba-props-platform-api/v1/") == GcsExportStore("nba-props-platform-api", "v1")
    assert open_export_store("gs://bucket") == GcsExportStore("bucket", "")
    with pytest.raises(CouldNotRun, match="names no bucket"):
        open_export_store("gs:///v1")


class FakeBlob:
    def __init__(self, objects: dict[str, bytes], name: str) -> None:
        self.objects, self.name = objects, name

    def download_as_bytes(self, timeout: float) -> bytes:
        from google.api_core import exceptions

        if self.name not in self.objects:
            raise exceptions.NotFound(f"no such object: {self.name}")
        return self.objects[self.name]


class FakeClient:
    """Stands in for google.cloud.storage.Client (a unit test of the GCS path; there is no GCS emulator here)."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.buckets: list[str] = []

    def bucket(self, name: str) -> FakeClient:
        self.buckets.append(name)
        return self

    def blob(self, name: str) -> FakeBlob:
        return FakeBlob(self.objects, name)


def test_gcs_store_reads_objects_under_its_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient({f"v1/tonight/{DAY}.json": b'{"games": []}'})
    monkeypatch.setattr(exports, "gcs_client", lambda: client)
    store = open_export_store("gs://nba-props-platform-api/v1")
    assert store.read(f"tonight/{DAY}.json") == b'{"games": []}'
    assert store.read(f"predictions/{DAY}.json") is None
    assert client.buckets == ["nba-props-platform-api", "nba-props-platform-api"]
    assert store.location(f"predictions/{DAY}.json") == f"gs://nba-props-platform-api/v1/predictions/{DAY}.json"
    read = phase6_export.read_export(store, f"predictions/{DAY}.json")
    assert read.status == f"missing: gs://nba-props-platform-api/v1/predictions/{DAY}.json does not exist"


def test_an_export_root_that_is_a_file_says_so(scratch: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "a-file"
    root.write_text("not a folder")
    result = scratch.cli("run", "--phase", "6", "--date", str(DAY), env={"NBA_DQ_EXPORT_ROOT": str(root)})
    assert_one_line_exit_2(result, "export root", "is not a folder", "NBA_DQ_EXPORT_ROOT")
