"""What `nba-dq seed` may replace: only what it wrote itself, as its marker files record.

The seed once swapped the whole export root for a fresh folder, deleting files it never wrote and
leaving the folder at mode 0700, and replaced any warehouse file at its path; `make demo` seeds when the
warehouse is missing, so it could do the same. Now the seed leaves a marker beside each thing it writes:
`<warehouse>.nba-dq-seed` beside the warehouse file, and `.nba-dq-seed` in the export root listing the
files it wrote there. It refuses (exit 2) to replace a warehouse file without its marker, or to write
into an export root holding files it did not write, unless `--force` is given. Even with `--force` it
never deletes a file it did not write: `--force` replaces the warehouse file, and writes the seed's
export files beside the others (over any at the same paths); the files kept are recorded in the marker
as not the seed's, so the next seed does not refuse again and never deletes them either. It never
changes the mode of a folder: new folders get the usual mode (umask), existing ones keep theirs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporting.terminal import printable
from state.files import CorruptStateFile, read_json, write_json
from warehouse.errors import CouldNotRun

MARKER = ".nba-dq-seed"  # in the export root; beside the warehouse it is `<warehouse name>.nba-dq-seed`
DRAFT_PREFIX = f"{MARKER}-draft-"  # the seed's draft folder inside the export root (removed after)
WRITER = "nba-dq seed"
FORCE_HINT = "move it away, or pass `nba-dq seed --force`"


@dataclass(frozen=True)
class ExportsOwned:
    """The export root as the previous seed left it: the files it wrote, and others it was told to keep."""

    root: Path
    written: frozenset[str]  # paths relative to the root, with "/"
    kept: frozenset[str]


def warehouse_marker(path: Path) -> Path:
    return path.with_name(path.name + MARKER)


def check_warehouse(path: Path, gx_root: Path, force: bool) -> None:
    """Refuse to replace a warehouse file the seed did not make (no marker of its own beside it)."""
    if force or not (path.exists() or path.is_symlink()):
        return
    if read_json(warehouse_marker(path), gx_root, _check_warehouse_marker) is None:
        raise CouldNotRun(
            f"refusing to seed: the warehouse file {printable(path)} exists and was not made by {WRITER}"
            f" (no {warehouse_marker(path).name} beside it); {FORCE_HINT} to replace it"
        )


def mark_warehouse(path: Path) -> None:
    """Written before the file is moved into place: a crash leaves a marker for a file the seed was replacing."""
    write_json(warehouse_marker(path), {"written_by": WRITER, "warehouse": path.name})


def check_exports(root: Path, gx_root: Path, force: bool) -> ExportsOwned:
    """What the previous seed wrote under `root`; refuses when other files are there, unless `force`."""
    marker = read_json(root / MARKER, gx_root, _check_export_marker) if root.is_dir() else None
    written = frozenset(marker["files"]) if marker else frozenset()
    kept = frozenset(marker["kept"]) if marker else frozenset()
    foreign: list[str] = []
    for name in _files_under(root):
        if name not in written and name not in kept:
            foreign.append(name)
            if not force and len(foreign) > 3:
                break  # enough to refuse: a wrong root (a home folder, say) is not walked to the end
    if foreign and not force:
        shown = ", ".join(printable(name) for name in sorted(foreign)[:3]) + (", ..." if len(foreign) > 3 else "")
        raise CouldNotRun(
            f"refusing to seed: the export root {printable(root)} holds files {WRITER} did not write ({shown});"
            f" {FORCE_HINT} to write its files beside them (they are never deleted)"
        )
    return ExportsOwned(root, written, kept | frozenset(foreign))


def replace_exports(owned: ExportsOwned, documents: Mapping[str, Any], render: Callable[[Any], str]) -> None:
    """Put the seed's files in place of those the previous seed wrote; every other file stays untouched.

    The files are written in a draft folder inside the root first (same file system, so each move is a
    rename). The marker lists old and new files before any moves and only the new ones after the old
    ones are gone, so a crash at any point leaves no file of the seed's unlisted.
    """
    root = owned.root
    root.mkdir(parents=True, exist_ok=True)  # a new folder gets the umask's mode; an existing one keeps its own
    new = frozenset(documents)
    kept = owned.kept - new  # a kept file at one of the seed's paths (with --force) is replaced by the seed's
    for leftover in root.glob(f"{DRAFT_PREFIX}*"):  # a crashed seed's draft: the prefix is the seed's own
        shutil.rmtree(leftover, ignore_errors=True)
    draft = Path(tempfile.mkdtemp(prefix=DRAFT_PREFIX, dir=root))
    try:
        for relative, document in documents.items():
            target = draft / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(document), encoding="utf-8")
        _write_marker(root, owned.written | new, kept)
        for relative in sorted(new):
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(draft / relative, target)
        for relative in sorted(owned.written - new):
            (root / relative).unlink(missing_ok=True)
        _write_marker(root, new, kept)
    finally:
        shutil.rmtree(draft, ignore_errors=True)


def _write_marker(root: Path, files: Iterable[str], kept: Iterable[str]) -> None:
    write_json(root / MARKER, {"written_by": WRITER, "files": sorted(files), "kept": sorted(kept)})


def _files_under(root: Path) -> Iterator[str]:
    """Every file (or link, or anything not a folder) under the root but the seed's marker and drafts."""
    if not root.is_dir():
        return
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        own = relative.split("/")[0].lstrip(".").startswith(MARKER.lstrip("."))  # the marker, its drafts
        if own or (path.is_dir() and not path.is_symlink()):
            continue
        yield relative


def _check_warehouse_marker(document: Any) -> None:
    if not isinstance(document, dict) or document.get("written_by") != WRITER:
        raise CorruptStateFile("not a marker of nba-dq seed")


def _check_export_marker(document: Any) -> None:
    _check_warehouse_marker(document)
    for key in ("files", "kept"):
        if not isinstance(document.get(key), list) or not all(_inside(name) for name in document[key]):
            raise CorruptStateFile(f"{key} is not a list of paths inside the export root")


def _inside(name: Any) -> bool:
    """A relative path that stays inside the root: a marker must never make the seed delete anything else."""
    return isinstance(name, str) and bool(name) and not name.startswith("/") and ".." not in name.split("/")
