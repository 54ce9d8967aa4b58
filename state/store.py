"""Where nba-dq keeps what must outlive a process: a small store of JSON documents by name.

Names are relative paths ("alerts/ledger.json", "alerts/outbox/…json", "history/pending/…json",
"events/phase3/2025-12-30.json"). Two primitives make concurrent writers safe without a lock that
only holds on one machine:
- `create(name, document)` writes a document only if none exists (atomic; False when one does);
- `replace(name, document, version)` writes only if the document is still the `version` that was
  read (atomic compare-and-set; False when another writer got there first).
`update()` builds a read-modify-write loop from them. `locked(name)` is a lock every process sharing
the store respects (an flock locally, released by the kernel when its holder dies; a lease document on
GCS, state/lease.py), and `quarantine(name, reason)` moves a corrupt document to "quarantine/" with a
note saying why (read_checked() does it for a document that is not JSON or fails its shape check).

Backends: `LocalFiles` (the embedded default: files under the GX folder's uncommitted/, exactly
where nba-dq kept them before) and, for Cloud Run, a GCS bucket (state/gcs.py: `ifGenerationMatch`
preconditions on object generations). Either raises StateUnavailable when the store cannot be
reached or written: the caller fails closed (the service answers 5xx so Pub/Sub redelivers).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from warehouse.errors import CouldNotRun, one_line

if TYPE_CHECKING:
    from warehouse.settings import Settings

JsonDocument = Any  # what json.loads returns
QUARANTINE = "quarantine/"  # corrupt documents, each beside a "<name>.reason" note saying why


class StateUnavailable(CouldNotRun):
    """The state store cannot be read or written (a transient infrastructure failure, or a read-only disk)."""


class LockTimeout(StateUnavailable):
    """A lock stayed held by a live holder for longer than the caller would wait."""


@dataclass(frozen=True)
class Stored:
    document: JsonDocument
    version: str  # opaque: a GCS object's generation, or a local file's content digest


class StateStore(Protocol):
    location: str  # where it is, for messages: a folder, or gs://bucket/prefix

    def read(self, name: str) -> Stored | None:
        """None when absent; raises ValueError when the document is not JSON (see read_checked)."""

    def create(self, name: str, document: JsonDocument) -> bool: ...

    def replace(self, name: str, document: JsonDocument, version: str) -> bool: ...

    def delete(self, name: str, version: str | None = None) -> None:
        """Remove the document (only if still `version`, where the backend can enforce it); absent is fine."""

    def list(self, prefix: str) -> list[str]: ...

    def locked(self, name: str, wait_seconds: float | None = None) -> AbstractContextManager[None]:
        """Mutual exclusion across every process sharing the store, released when the holder dies;
        LockTimeout when held longer than `wait_seconds` (None: local waits, GCS up to one lease)."""

    def quarantine(self, name: str, reason: str) -> str | None:
        """Move a corrupt document to quarantine/ with its reason; where it went, None if already gone."""

    def quarantined(self) -> list[tuple[str, str]]:
        """(where, why) of every quarantined document, oldest first."""


class Conflict(StateUnavailable):
    """update() lost the compare-and-set race too many times in a row."""


def update(
    store: StateStore, name: str, change: Callable[[JsonDocument | None], JsonDocument], attempts: int = 20
) -> JsonDocument:
    """Read-modify-write `name` atomically: `change` gets the current document (None when there is
    none) and returns the new one; it is called again whenever another writer got there first, so it
    must be free of side effects. Returns the document written (or read, when `change` left it as it
    was: nothing is written then, as a duplicate delivery changes nothing, and GCS takes about one write
    a second per object)."""
    for _ in range(attempts):
        current = store.read(name)
        document = change(None if current is None else current.document)
        if current is not None and document == current.document:
            return document
        written = store.create(name, document) if current is None else store.replace(name, document, current.version)
        if written:
            return document
    raise Conflict(f"{store.location}/{name}: changed by other writers {attempts} times in a row")


def read_checked(store: StateStore, name: str, check: Callable[[Any], None] | None = None) -> Stored | None:
    """The document, or None when it is absent or corrupt (not JSON, or refused by `check`, which raises
    ValueError, KeyError or TypeError): a corrupt one is quarantined first, so it never blocks the others."""
    try:
        stored = store.read(name)
        if stored is not None and check is not None:
            check(stored.document)
    except (ValueError, KeyError, TypeError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        store.quarantine(name, f"{type(error).__name__}: {one_line(str(error))[:200]}")
        return None
    return stored


class LocalFiles:
    """Documents as files under `root` (one machine: compare-and-set holds under a file lock)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def path(self, name: str) -> Path:
        return self.root / name

    def read(self, name: str) -> Stored | None:
        try:
            data = self.path(name).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise StateUnavailable(f"{self.path(name)}: {error.strerror or error}") from error
        return Stored(json.loads(data), _digest(data))

    def create(self, name: str, document: JsonDocument) -> bool:
        from state.files import create_json  # whole or not at all; a hard link: no lock needed

        try:
            return create_json(self.path(name), document)
        except OSError as error:
            raise StateUnavailable(f"{self.path(name)}: {error.strerror or error}") from error

    def replace(self, name: str, document: JsonDocument, version: str) -> bool:
        with self._exclusive():
            try:
                if _digest(self.path(name).read_bytes()) != version:
                    return False
            except (FileNotFoundError, NotADirectoryError):
                return False
            except OSError as error:
                raise StateUnavailable(f"{self.path(name)}: {error.strerror or error}") from error
            self._write(name, document)
            return True

    def delete(self, name: str, version: str | None = None) -> None:
        try:
            if version is None:
                self.path(name).unlink(missing_ok=True)
                return
            with self._exclusive():
                if _digest(self.path(name).read_bytes()) == version:
                    self.path(name).unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as error:
            raise StateUnavailable(f"{self.path(name)}: {error.strerror or error}") from error

    def list(self, prefix: str) -> list[str]:
        folder = self.path(prefix) if prefix.endswith("/") else self.path(prefix).parent
        if not folder.is_dir():
            return []
        names = (str(path.relative_to(self.root)) for path in folder.rglob("*") if path.is_file())
        return sorted(name for name in names if name.startswith(prefix) and not Path(name).name.startswith("."))

    @contextmanager
    def locked(self, name: str, wait_seconds: float | None = None) -> Iterator[None]:
        """An flock on the file `name` (alerts/.lock is where nba-dq always kept it): the kernel releases
        it when the holder dies, however it dies, so a crash never leaves it held."""
        path = self.path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(path, "a")  # noqa: SIM115 (held for the with-block below)
        except OSError as error:
            raise StateUnavailable(f"{path}: {error.strerror or error}") from error
        with lock:
            _flock(lock, path, wait_seconds)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def quarantine(self, name: str, reason: str) -> str | None:
        from state.files import quarantine_into

        try:
            moved = quarantine_into(self.path(name), self.root / QUARANTINE, reason)
        except OSError as error:
            raise StateUnavailable(f"{self.path(name)} cannot be quarantined: {error.strerror or error}") from error
        return None if moved is None else str(moved)

    def quarantined(self) -> list[tuple[str, str]]:
        from state.files import quarantined_in

        return [(str(path), reason) for path, reason in quarantined_in(self.root / QUARANTINE)]

    def _write(self, name: str, document: JsonDocument) -> None:
        from state.files import write_json  # whole or not at all

        try:
            write_json(self.path(name), document)
        except OSError as error:
            raise StateUnavailable(f"{self.path(name)}: {error.strerror or error}") from error

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Compare-and-set's read and write as one step (held for microseconds, never across a send)."""
        with self.locked(".state.lock"):
            yield


def _flock(lock: Any, path: Path, wait_seconds: float | None) -> None:
    if wait_seconds is None:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return
    flock_within(lock, fcntl.LOCK_EX, path, wait_seconds)


def flock_within(
    lock: Any, kind: int, path: Path, wait_seconds: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Take a file lock (fcntl.LOCK_EX or LOCK_SH) within `wait_seconds`, else LockTimeout."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(lock, kind | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(f"{path} stayed locked by another run for {wait_seconds:g} s") from None
            sleep(0.1)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def local_store(gx_root: Path) -> LocalFiles:
    """The embedded default: the GX folder's uncommitted/ (gx/uncommitted/alerts/ledger.json, …)."""
    return LocalFiles(gx_root / "uncommitted")


__all__ = [
    "LocalFiles",
    "LockTimeout",
    "StateStore",
    "StateUnavailable",
    "Stored",
    "local_store",
    "open_store",
    "read_checked",
    "update",
]


def open_store(settings: Settings) -> StateStore:
    """The store `[state] url` (or NBA_DQ_STATE_URL) names: a GCS prefix shared by every instance, or
    the GX folder's files."""
    if settings.state.url:
        from state.gcs import GcsStore  # google-cloud-storage loads only when the state lives there

        return GcsStore(settings.state.url, lease_seconds=settings.state.lease_seconds)
    return local_store(settings.gx_root)
