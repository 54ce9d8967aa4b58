"""nba-dq's own state files (the alert ledger, the Slack outbox, pending history rows): each is written
whole or not at all, and one that cannot be read is moved aside, never allowed to block the others.

A corrupt file (truncated by a full disk, emptied, edited by hand) used to stop all alerting or all
history. Now it goes to gx/uncommitted/quarantine with a warning that names it, `nba-dq doctor`
counts it as a FAIL line, and the run goes on without it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

QUARANTINE_FOLDER = Path("uncommitted") / "quarantine"  # under the GX root
REASON_SUFFIX = ".reason"  # beside each quarantined file: why it was moved there, in one line


class CorruptStateFile(ValueError):
    """A state file whose content is not what nba-dq wrote (raised by a shape check)."""


def write_json(path: Path, document: Any) -> None:
    """Write whole or not at all: a crash or a full disk never leaves half a file under `path`."""
    with _draft(path, document) as draft:
        os.replace(draft, path)


def create_json(path: Path, document: Any) -> bool:
    """Write whole, and only if no file is at `path` (False then): a hard link never replaces a file,
    so two writers racing for one name cannot both win, and no lock file is needed."""
    with _draft(path, document) as draft:
        try:
            os.link(draft, path)
        except FileExistsError:
            return False
        return True


@contextmanager
def _draft(path: Path, document: Any) -> Iterator[str]:
    """The document written and synced in a hidden file beside `path`, removed afterwards whatever happens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, draft = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        yield draft
    finally:
        try:
            os.unlink(draft)  # os.unlink, not Path.unlink: gone after os.replace, a second name after os.link
        except FileNotFoundError:
            pass


def read_json(path: Path, gx_root: Path, check: Callable[[Any], None] | None = None) -> Any | None:
    """The file's document, or None when it is missing or corrupt (not JSON, or refused by `check`,
    which raises ValueError, KeyError or TypeError); a corrupt file is moved to the quarantine first."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if check is not None:
            check(document)
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        quarantine(path, gx_root, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
        return None
    return document


def quarantine(path: Path, gx_root: Path, reason: str) -> Path | None:
    """Move a corrupt state file out of the way (with a note saying why); None when another run already did."""
    return quarantine_into(path, gx_root / QUARANTINE_FOLDER, reason)


def quarantine_into(path: Path, folder: Path, reason: str) -> Path | None:
    """quarantine() into `folder` (a state store's own quarantine/, which for the local store is the same)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / quarantine_name(path.parent.name, path.name)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    target.with_name(target.name + REASON_SUFFIX).write_text(f"{path}: {reason}\n", encoding="utf-8")
    log.warning("state file %s is corrupt (%s): moved to %s; nothing else is held up by it", path, reason, target)
    return target


def quarantine_name(parent: str, name: str) -> str:
    """A quarantined file's name: when it was moved, and where it came from."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{parent}-{name}"


def quarantined(gx_root: Path) -> list[tuple[Path, str]]:
    """Quarantined state files and why each was moved, oldest first (what `nba-dq doctor` reports)."""
    return quarantined_in(gx_root / QUARANTINE_FOLDER)


def quarantined_in(folder: Path) -> list[tuple[Path, str]]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.endswith(REASON_SUFFIX):
            continue
        note = path.with_name(path.name + REASON_SUFFIX)
        found.append((path, note.read_text(encoding="utf-8").strip() if note.is_file() else "no reason recorded"))
    return found
