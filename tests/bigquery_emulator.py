"""The BigQuery emulator (PyPI `bqemulator`) on 127.0.0.1, started and stopped by the tests themselves.

Offline facts: DuckDB's spatial extension comes from PyPI (`make` installs it),
format extensions are not downloaded, and loads smaller than 5 MB need the generic content type.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = "test-project"
START_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def bigquery_emulator(log: Path) -> Iterator[str]:
    """Yields the REST endpoint (http://127.0.0.1:PORT); the emulator stops when the block ends."""
    import google.cloud.bigquery.client as bigquery_client_module

    # The emulator answers 400 to multipart loads of another content type (a test-only workaround).
    bigquery_client_module._GENERIC_CONTENT_TYPE = "application/octet-stream"
    executable = shutil.which("bqemulator") or str(Path(os.sys.executable).with_name("bqemulator"))
    rest, grpc = _free_port(), _free_port()
    command = [executable, "start", "--rest-host", "127.0.0.1", "--rest-port", str(rest),
               "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc), "--project", PROJECT]  # fmt: skip
    env = {**os.environ, "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false"}
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    endpoint = f"http://127.0.0.1:{rest}"
    try:
        _wait_healthy(endpoint, process, log)
        yield endpoint
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_healthy(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bqemulator exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{endpoint}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"bqemulator not healthy after {START_SECONDS} s: {log.read_text()[-2000:]}")
