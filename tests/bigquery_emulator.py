"""The BigQuery emulator (PyPI `bqemulator`) on 127.0.0.1, started and stopped by the tests themselves.

Offline facts: DuckDB's spatial extension comes from PyPI (`make` installs it),
format extensions are not downloaded, and loads smaller than 5 MB need the generic content type.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.child_process import free_port, stop_group, wait_answering

PROJECT = "test-project"
START_SECONDS = 90


@contextmanager
def bigquery_emulator(log: Path) -> Iterator[str]:
    """Yields the REST endpoint (http://127.0.0.1:PORT); the emulator stops when the block ends."""
    import google.cloud.bigquery.client as bigquery_client_module

    # The emulator answers 400 to multipart loads of another content type (a test-only workaround).
    bigquery_client_module._GENERIC_CONTENT_TYPE = "application/octet-stream"
    executable = shutil.which("bqemulator") or str(Path(os.sys.executable).with_name("bqemulator"))
    rest, grpc = free_port(), free_port()
    command = [executable, "start", "--rest-host", "127.0.0.1", "--rest-port", str(rest),
               "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc), "--project", PROJECT]  # fmt: skip
    env = {**os.environ, "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false"}
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    endpoint = f"http://127.0.0.1:{rest}"
    try:
        wait_answering(f"{endpoint}/healthz", process, "bqemulator", START_SECONDS, lambda: log.read_text()[-2000:])
        yield endpoint
    finally:
        stop_group(process)
