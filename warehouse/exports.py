"""Reading Phase 6 export files from the export root: a local folder, or gs://bucket/prefix in production.

Both go through `ExportStore.read`, so the checks see a GCS object exactly as they see a local file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from warehouse.errors import CouldNotRun

GCS_SCHEME = "gs://"
EMULATOR_PROJECT = "nba-dq-emulator"  # any name: the fake GCS server checks none


class ExportStore(Protocol):
    def read(self, relative: str) -> bytes | None:
        """The file's bytes, or None when it does not exist. Raises CouldNotRun when the store fails."""

    def location(self, relative: str) -> str:
        """Where the file lives, for messages (a path or a gs:// URL)."""

    def files_in(self, folder: str) -> set[str]:
        """The names of the files directly in a folder (one listing: a Phase 6 message claims 200+
        files, one folder of players among them). Raises CouldNotRun when the store fails."""


@dataclass(frozen=True)
class LocalExportStore:
    root: Path

    def read(self, relative: str) -> bytes | None:
        if not self.root.is_dir():  # a missing root is a setup problem, not a missing file
            problem = "is not a folder" if self.root.exists() else "does not exist"
            raise CouldNotRun(f"export root {self.root} {problem}: run `nba-dq seed` or set NBA_DQ_EXPORT_ROOT")
        try:
            return (self.root / relative).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise CouldNotRun(f"could not read {self.location(relative)}: {error.strerror}") from error

    def location(self, relative: str) -> str:
        return str(self.root / relative)

    def files_in(self, folder: str) -> set[str]:
        try:
            return {path.name for path in (self.root / folder).iterdir() if path.is_file()}
        except (FileNotFoundError, NotADirectoryError):
            return set()
        except OSError as error:
            raise CouldNotRun(f"could not list {self.location(folder)}: {error.strerror}") from error


@dataclass(frozen=True)
class GcsExportStore:
    bucket: str
    prefix: str

    def read(self, relative: str) -> bytes | None:
        from google.api_core import exceptions

        try:
            blob = gcs_client().bucket(self.bucket).blob(self._name(relative))
            data: bytes = blob.download_as_bytes(timeout=30)
            return data
        except exceptions.NotFound:
            return None
        except exceptions.GoogleAPIError as error:
            raise CouldNotRun(f"could not read {self.location(relative)}: {type(error).__name__}") from error

    def location(self, relative: str) -> str:
        return f"{GCS_SCHEME}{self.bucket}/{self._name(relative)}"

    def files_in(self, folder: str) -> set[str]:
        from google.api_core import exceptions

        prefix = self._name(folder).rstrip("/") + "/" if folder else self._name("")
        try:
            blobs = gcs_client().list_blobs(self.bucket, prefix=prefix, delimiter="/", timeout=30)
            return {blob.name[len(prefix) :] for blob in blobs}
        except exceptions.GoogleAPIError as error:
            raise CouldNotRun(f"could not list {self.location(folder)}: {type(error).__name__}") from error

    def _name(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative


def gcs_client() -> Any:
    """A storage client with Application Default Credentials (the only place one is made).

    With STORAGE_EMULATOR_HOST set (the tests' fake GCS server) it has no credentials and a fixed
    project, said explicitly rather than left to the library's emulator detection: ADC there would
    find none (or a developer's real ones), and creating a bucket needs a project."""
    import os

    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        project = os.environ.get("GOOGLE_CLOUD_PROJECT", EMULATOR_PROJECT)
        return storage.Client(project=project, credentials=AnonymousCredentials())
    return storage.Client()


def open_export_store(root: str) -> ExportStore:
    """The store for an export root: gs://bucket/prefix, or a local folder."""
    if root.startswith(GCS_SCHEME):
        bucket, _, prefix = root[len(GCS_SCHEME) :].partition("/")
        if not bucket:
            raise CouldNotRun(f"export root {root!r} names no bucket: use gs://BUCKET/v1")
        return GcsExportStore(bucket, prefix.strip("/"))
    return LocalExportStore(Path(root))
