"""Where nba-dq keeps what must outlive a process: a small store of JSON documents by name.

Names are relative paths ("alerts/ledger.json", "alerts/outbox/…json", "history/pending/…json",
"events/phase3/2025-12-30.json"). Two primitives make concurrent writers safe without a lock that
only holds on one machine:
- `create(name, document)` writes a document only if none exists (atomic; False when one does);
- `replace(name, document, version)` writes only if the document is still the `version` that was
  read (atomic compare-and-set; False when another writer got there first).
`update()` builds a read-modify-write loop from them.

Backends: `LocalFiles` (the embedded default: files under the GX folder's uncommitted/, exactly
where nba-dq kept them before) and, for Cloud Run, a GCS bucket (state/gcs.py: `ifGenerationMatch`
preconditions on object generations). Either raises StateUnavailable when the store cannot be
reached or written: the caller fails closed (the service answers 5xx so Pub/Sub redelivers).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from warehouse.errors import CouldNotRun

if TYPE_CHECKING:
    from warehouse.settings import Settings

JsonDocument = Any  # what json.loads returns


class StateUnavailable(CouldNotRun):
    """The state store cannot be read or written (a transient infrastructure failure, or a read-only disk)."""


@dataclass(frozen=True)
class Stored:
    document: JsonDocument
    version: str  # opaque: a GCS object's generation, or a local file's content digest


class StateStore(Protocol):
    location: str  # where it is, for messages: a folder, or gs://bucket/prefix

    def read(self, name: str) -> Stored | None: ...

    def create(self, name: str, document: JsonDocument) -> bool: ...

    def replace(self, name: str, document: JsonDocument, version: str) -> bool: ...

    def delete(self, name: str) -> None: ...

    def list(self, prefix: str) -> list[str]: ...


class Conflict(StateUnavailable):
    """update() lost the compare-and-set race too many times in a row."""


def update(
    store: StateStore, name: str, change: Callable[[JsonDocument | None], JsonDocument], attempts: int = 20
) -> JsonDocument:
    """Read-modify-write `name` atomically: `change` gets the current document (None when there is
    none) and returns the new one; it is called again whenever another writer got there first, so it
    must be free of side effects. Returns the document written."""
    for _ in range(attempts):
        current = store.read(name)
        document = change(None if current is None else current.document)
        written = store.create(name, document) if current is None else store.replace(name, document, current.version)
        if written:
            return document
    raise Conflict(f"{store.location}/{name}: changed by other writers {attempts} times in a row")


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
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StateUnavailable(f"{self.path(name)}: {error.strerror or error}") from error
        return Stored(json.loads(data), _digest(data))

    def create(self, name: str, document: JsonDocument) -> bool:
        with self._locked():
            if self.path(name).exists():
                return False
            self._write(name, document)
            return True

    def replace(self, name: str, document: JsonDocument, version: str) -> bool:
        with self._locked():
            try:
                if _digest(self.path(name).read_bytes()) != version:
                    return False
            except FileNotFoundError:
                return False
            self._write(name, document)
            return True

    def delete(self, name: str) -> None:
        try:
            self.path(name).unlink(missing_ok=True)
        except OSError as error:
            raise StateUnavailable(f"{self.path(name)}: {error.strerror or error}") from error

    def list(self, prefix: str) -> list[str]:
        folder = self.path(prefix) if prefix.endswith("/") else self.path(prefix).parent
        if not folder.is_dir():
            return []
        names = (str(path.relative_to(self.root)) for path in folder.rglob("*") if path.is_file())
        return sorted(name for name in names if name.startswith(prefix) and not Path(name).name.startswith("."))

    def _write(self, name: str, document: JsonDocument) -> None:
        from state.files import write_json  # whole or not at all

        try:
            write_json(self.path(name), document)
        except OSError as error:
            raise StateUnavailable(f"{self.path(name)}: {error.strerror or error}") from error

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = open(self.root / ".state.lock", "a")  # noqa: SIM115 (held for the with-block below)
        except OSError as error:
            raise StateUnavailable(f"{self.root}: {error.strerror or error}") from error
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def local_store(gx_root: Path) -> LocalFiles:
    """The embedded default: the GX folder's uncommitted/ (gx/uncommitted/alerts/ledger.json, …)."""
    return LocalFiles(gx_root / "uncommitted")


__all__ = ["LocalFiles", "StateStore", "StateUnavailable", "Stored", "local_store", "open_store", "update"]


def open_store(settings: Settings) -> StateStore:
    """The store `[state] url` (or NBA_DQ_STATE_URL) names: a GCS prefix shared by every instance, or
    the GX folder's files."""
    if settings.state.url:
        from state.gcs import GcsStore  # google-cloud-storage loads only when the state lives there

        return GcsStore(settings.state.url)
    return local_store(settings.gx_root)
