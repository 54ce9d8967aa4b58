"""`nba-dq seed` (and `demo`, which seeds a missing warehouse) replaces only what an earlier seed wrote.

Real folders and files: a file the seed did not write survives every seed, with and without --force,
and no folder's mode changes.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Workspace, make_workspace
from warehouse.seed.ownership import MARKER

ONE_DAY = ("--start", "2025-12-02", "--end", "2025-12-02")
NEXT_DAY = ("--start", "2025-12-03", "--end", "2025-12-03")
FOREIGN_TEXT = "someone else's file\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path, tmp_path / "data" / "warehouse.duckdb")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def usual_folder_mode() -> int:
    """What mkdir gives a new folder under this process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def foreign_export_root(workspace: Workspace) -> Path:
    """An export root the user made, with a file of theirs and a mode of their choosing."""
    workspace.exports.mkdir(parents=True)
    (workspace.exports / "notes.txt").write_text(FOREIGN_TEXT)
    (workspace.exports / "predictions").mkdir()
    (workspace.exports / "predictions" / "2025-12-02.json").write_text('{"mine": true}')
    workspace.exports.chmod(0o751)
    return workspace.exports


def seeded_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*.json")}


def assert_one_line_refusal(err: str, *words: str) -> None:
    """One error line (warnings may come before it), saying what is there and about --force."""
    errors = [line for line in err.splitlines() if not line.startswith(("nba-dq: warning:", "WARNING "))]
    assert len(errors) == 1 and errors[0].startswith("nba-dq: error: refusing to seed"), err
    for word in words:
        assert word in errors[0], err


def test_seed_refuses_an_export_root_holding_files_it_did_not_write(workspace: Workspace) -> None:
    root = foreign_export_root(workspace)
    result = workspace.cli("seed", *ONE_DAY)
    assert result.code == 2
    assert_one_line_refusal(
        result.err, str(root), "did not write", "notes.txt", "predictions/2025-12-02.json", "--force"
    )
    assert (root / "notes.txt").read_text() == FOREIGN_TEXT
    assert (root / "predictions" / "2025-12-02.json").read_text() == '{"mine": true}'
    assert mode(root) == 0o751
    assert not workspace.warehouse.exists()  # refused before anything was written


def test_seed_refuses_a_warehouse_file_it_did_not_make(workspace: Workspace) -> None:
    workspace.warehouse.parent.mkdir(parents=True, exist_ok=True)
    workspace.warehouse.write_bytes(b"a warehouse of someone else's")
    result = workspace.cli("seed", *ONE_DAY)
    assert result.code == 2
    assert_one_line_refusal(result.err, str(workspace.warehouse), "not made by nba-dq seed", "--force")
    assert workspace.warehouse.read_bytes() == b"a warehouse of someone else's"
    assert not workspace.exports.exists()


def test_force_replaces_the_warehouse_and_writes_beside_foreign_files_without_deleting_them(
    workspace: Workspace,
) -> None:
    root = foreign_export_root(workspace)
    workspace.warehouse.parent.mkdir(parents=True, exist_ok=True)
    workspace.warehouse.write_bytes(b"a warehouse of someone else's")
    result = workspace.cli("seed", "--force", *ONE_DAY)
    assert result.code == 0, result.err
    with duckdb.connect(str(workspace.warehouse), read_only=True) as connection:
        (games,) = connection.execute("SELECT COUNT(*) FROM nba_raw.nbac_schedule").fetchone() or (0,)
    assert games > 0
    assert (root / "notes.txt").read_text() == FOREIGN_TEXT  # never deleted
    assert json.loads((root / "predictions" / "2025-12-02.json").read_text())["game_date"] == "2025-12-02"
    assert seeded_files(root) == {"predictions/2025-12-02.json", "tonight/2025-12-02.json"}
    assert mode(root) == 0o751 and mode(root / "predictions") == usual_folder_mode()

    again = workspace.cli("seed", *NEXT_DAY)  # the kept file is known now: no --force needed, still kept
    assert again.code == 0, again.err
    assert (root / "notes.txt").read_text() == FOREIGN_TEXT
    assert seeded_files(root) == {"predictions/2025-12-03.json", "tonight/2025-12-03.json"}
    assert mode(root) == 0o751


def test_reseeding_replaces_only_its_own_files_and_keeps_the_folders_mode(workspace: Workspace) -> None:
    first = workspace.cli("seed", *ONE_DAY)
    assert first.code == 0, first.err
    root = workspace.exports
    assert mode(root) == usual_folder_mode()  # a folder the seed creates gets the usual mode, not 0700
    assert seeded_files(root) == {"predictions/2025-12-02.json", "tonight/2025-12-02.json"}
    root.chmod(0o705)
    (root / "tonight" / "later.txt").write_text(FOREIGN_TEXT)  # written after the seed: not the seed's

    refused = workspace.cli("seed", *NEXT_DAY)
    assert refused.code == 2
    assert_one_line_refusal(refused.err, "tonight/later.txt")
    (root / "tonight" / "later.txt").unlink()

    second = workspace.cli("seed", *NEXT_DAY)
    assert second.code == 0, second.err
    assert seeded_files(root) == {"predictions/2025-12-03.json", "tonight/2025-12-03.json"}
    assert mode(root) == 0o705
    assert sorted(path.name for path in root.iterdir() if path.name.startswith(".")) == [MARKER]


def test_a_marker_naming_files_outside_the_export_root_is_refused_and_deletes_nothing(
    workspace: Workspace,
) -> None:
    assert workspace.cli("seed", *ONE_DAY).code == 0
    outside = workspace.root / "precious.txt"
    outside.write_text(FOREIGN_TEXT)
    marker = workspace.exports / MARKER
    document = json.loads(marker.read_text())
    marker.write_text(json.dumps({**document, "files": [*document["files"], "../../precious.txt"]}))
    result = workspace.cli("seed", *NEXT_DAY)
    assert result.code == 2  # the marker is quarantined, so the seed's own files look foreign
    assert_one_line_refusal(result.err, "--force")
    assert f"state file {marker} is corrupt" in result.err
    assert outside.read_text() == FOREIGN_TEXT
    assert workspace.cli("seed", "--force", *NEXT_DAY).code == 0
    assert outside.read_text() == FOREIGN_TEXT


def test_demo_with_no_warehouse_does_not_destroy_foreign_exports(workspace: Workspace) -> None:
    root = foreign_export_root(workspace)
    result = workspace.cli("demo")
    assert result.code == 2
    assert_one_line_refusal(result.err, "notes.txt", "--force")
    assert (root / "notes.txt").read_text() == FOREIGN_TEXT
    assert (root / "predictions" / "2025-12-02.json").read_text() == '{"mine": true}'
    assert mode(root) == 0o751
    assert not workspace.warehouse.exists()


def test_a_folder_full_of_other_files_is_refused_naming_a_few(workspace: Workspace) -> None:
    workspace.exports.mkdir(parents=True)
    for number in range(6):
        (workspace.exports / f"photo-{number}.jpg").write_bytes(b"\xff\xd8")
    result = workspace.cli("seed", *ONE_DAY)
    assert result.code == 2
    assert_one_line_refusal(result.err, "photo-", ", ...); move it away, or pass `nba-dq seed --force`")
    assert len(list(workspace.exports.iterdir())) == 6
