"""The state store on a GCS prefix, shared by every nba-dq instance (Cloud Run keeps no files).

GCS gives the two primitives directly: an upload with `ifGenerationMatch=0` creates an object only if
none exists, and `ifGenerationMatch=<generation>` replaces it only if nobody wrote it since it was read
(a document's version is its object's generation). A refused precondition (412) is "someone else got
there first": False, never an error. Everything else the API or the network can answer (5xx, 429
after the retries, 403, a refused connection) is StateUnavailable in one line: the caller fails closed.

GCS takes about one write a second per object, so 429 and 503 are retried with a short bounded backoff.
A retried upload whose first attempt did land comes back 412 against our own write: only then is the
object read back, and counted ours if it holds exactly what we wrote.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from state.files import REASON_SUFFIX, quarantine_name
from state.lease import held, this_process
from state.store import QUARANTINE, JsonDocument, StateUnavailable, Stored
from warehouse.errors import one_line
from warehouse.exports import GCS_SCHEME, gcs_client

log = logging.getLogger(__name__)
REQUEST_TIMEOUT_SECONDS = 10  # per request; a Cloud Run request has minutes, not hours
RETRY_SECONDS = 10.0  # all retries of one call together


class GcsStore:
    def __init__(self, url: str, lease_seconds: float = 660, retry_seconds: float = RETRY_SECONDS) -> None:
        bucket, _, prefix = url.removeprefix(GCS_SCHEME).partition("/")
        if not url.startswith(GCS_SCHEME) or not bucket:
            raise StateUnavailable(f"[state] url {url!r} is not gs://BUCKET/PREFIX: fix it or NBA_DQ_STATE_URL")
        self.bucket_name, self.prefix = bucket, prefix.strip("/")
        self.location = f"{GCS_SCHEME}{bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self.lease_seconds = lease_seconds
        self._retry_seconds = retry_seconds
        self._bucket: Any = None

    def read(self, name: str) -> Stored | None:
        data, generation = self._download(name)
        if data is None:
            return None
        return Stored(json.loads(data), str(generation))

    def create(self, name: str, document: JsonDocument) -> bool:
        return self._upload(name, document, generation=0)

    def replace(self, name: str, document: JsonDocument, version: str) -> bool:
        return self._upload(name, document, generation=int(version))

    def delete(self, name: str, version: str | None = None) -> None:
        from google.api_core import exceptions

        condition = {} if version is None else {"if_generation_match": int(version)}
        with self._calling(name):
            try:
                self._blob(name).delete(timeout=REQUEST_TIMEOUT_SECONDS, retry=self._retry(), **condition)
            except (exceptions.NotFound, exceptions.PreconditionFailed):
                pass  # gone already, or rewritten since (a lease taken over): not ours to delete

    def list(self, prefix: str) -> list[str]:
        with self._calling(prefix):
            blobs = self._bucket_handle().client.list_blobs(
                self.bucket_name, prefix=self._object(prefix), timeout=REQUEST_TIMEOUT_SECONDS, retry=self._retry()
            )
            names = [blob.name.removeprefix(self._object("")) for blob in blobs]
        return sorted(name for name in names if not name.rpartition("/")[2].startswith("."))

    @contextmanager
    def locked(self, name: str, wait_seconds: float | None = None) -> Iterator[None]:
        """A lease document (state/lease.py): no kernel is shared, so a dead holder's lock ends with its lease."""
        with held(self, name, self.lease_seconds, this_process(), wait_seconds):
            yield

    def quarantine(self, name: str, reason: str) -> str | None:
        """Copy the object to quarantine/ with a note, then delete it (only the generation copied)."""
        from google.api_core import exceptions

        parent, _, leaf = name.rpartition("/")
        target = QUARANTINE + quarantine_name(parent.rpartition("/")[2], leaf)
        with self._calling(name):
            bucket = self._bucket_handle()
            blob = bucket.get_blob(self._object(name), timeout=REQUEST_TIMEOUT_SECONDS, retry=self._retry())
            if blob is None:
                return None
            bucket.copy_blob(blob, bucket, self._object(target), source_generation=blob.generation, retry=self._retry())
            note = self._blob(target + REASON_SUFFIX)
            note.upload_from_string(f"{self.location}/{name}: {reason}\n", timeout=REQUEST_TIMEOUT_SECONDS)
            try:
                blob.delete(if_generation_match=blob.generation, timeout=REQUEST_TIMEOUT_SECONDS, retry=self._retry())
            except (exceptions.NotFound, exceptions.PreconditionFailed):
                pass
        where = f"{self.location}/{target}"
        log.warning("state file %s/%s is corrupt (%s): moved to %s; nothing else is held up by it",
                    self.location, name, reason, where)  # fmt: skip
        return where

    def quarantined(self) -> list[tuple[str, str]]:
        names = self.list(QUARANTINE)
        found = []
        for name in names:
            if name.endswith(REASON_SUFFIX):
                continue
            note, _ = self._download(name + REASON_SUFFIX)
            reason = note.decode("utf-8", "replace").strip() if note is not None else "no reason recorded"
            found.append((f"{self.location}/{name}", reason))
        return found

    def _download(self, name: str) -> tuple[bytes | None, int | None]:
        from google.api_core import exceptions

        blob = self._blob(name)
        with self._calling(name):
            try:
                data: bytes = blob.download_as_bytes(timeout=REQUEST_TIMEOUT_SECONDS, retry=self._retry())
            except exceptions.NotFound:
                return None, None
        return data, blob.generation  # the generation the bytes came from (from the response's headers)

    def _upload(self, name: str, document: JsonDocument, generation: int) -> bool:
        """One conditional upload, retried here rather than by the client: only after an attempt whose
        answer was lost (it may have landed) does a 412 mean "perhaps ours", settled by reading the object
        back. Without a lost answer a 412 is always another writer's, even one that wrote the same bytes:
        concurrent deliveries of one message on one instance can build identical documents, and each must
        not believe it won."""
        from google.api_core import exceptions
        from google.cloud.storage.retry import _should_retry

        data = json.dumps(document, indent=1, sort_keys=True).encode("utf-8")
        deadline, delay, answer_lost = time.monotonic() + self._retry_seconds, 0.2, False
        with self._calling(name):
            while True:
                try:
                    self._blob(name).upload_from_string(
                        data,
                        content_type="application/json",
                        if_generation_match=generation,
                        timeout=REQUEST_TIMEOUT_SECONDS,
                        retry=None,
                    )
                    return True
                except exceptions.PreconditionFailed:
                    if not answer_lost:
                        return False
                    landed, _ = self._download(name)
                    return landed == data
                except Exception as error:
                    if not _should_retry(error) or time.monotonic() + delay > deadline:
                        raise
                    answer_lost = True
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)

    def _blob(self, name: str) -> Any:
        return self._bucket_handle().blob(self._object(name))

    def _bucket_handle(self) -> Any:
        if self._bucket is None:
            self._bucket = gcs_client().bucket(self.bucket_name)
        return self._bucket

    def _object(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _retry(self) -> Any:
        """429 and 5xx (and a dropped connection) again, briefly: bounded so a store that is down fails fast."""
        from google.api_core.retry import Retry
        from google.cloud.storage.retry import _should_retry

        return Retry(predicate=_should_retry, initial=0.2, multiplier=2, maximum=2.0, timeout=self._retry_seconds)

    @contextmanager
    def _calling(self, name: str) -> Iterator[None]:
        """Whatever the API or the network answers besides 404/412 is one line: the store is unavailable."""
        from google.api_core import exceptions
        from google.auth import exceptions as auth_exceptions
        from requests import exceptions as http_exceptions

        try:
            yield
        except (
            exceptions.GoogleAPIError,
            auth_exceptions.GoogleAuthError,
            http_exceptions.RequestException,
            ConnectionError,
        ) as error:
            retried = isinstance(error, exceptions.RetryError) and error.cause is not None
            shown = error.cause if retried else error  # type: ignore[union-attr]
            raise StateUnavailable(
                f"state store {self.location} could not be used ({name}): {type(shown).__name__}"
                f"{' (retried)' if retried else ''}: {one_line(str(shown))[:160]}"
                " (check [state] url / NBA_DQ_STATE_URL, the credentials and the bucket)"
            ) from error
