"""`nba-dq serve` as a real process on 127.0.0.1: started, pushed to, killed (SIGKILL) and restarted by tests.

The service runs in a session of its own (gunicorn's master and its workers), so a kill or a stop
reaches every process of it, and its memory is the sum over the session.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.child_process import free_port, wait_answering
from warehouse.catalog import DQ_CHECK_RESULTS
from warehouse.settings import PROJECT_ROOT, Settings

START_SECONDS = 90
CLI = "from runners.cli import entry; entry()"


@dataclass
class ServiceProcess:
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def push_url(self) -> str:
        return f"{self.url}/pubsub/push"

    def start(self) -> ServiceProcess:
        command = [sys.executable, "-c", CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_answering(f"{self.url}/healthz", self.process, "nba-dq serve", START_SECONDS, self.tail)
        return self

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole service (master and workers): a crash, nothing runs its cleanup."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, as Cloud Run stops a container; SIGKILL if it lingers."""
        self._signal(signal.SIGTERM, grace=30)

    def _signal(self, signum: int, grace: float = 10) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signum)
            self.process.wait(timeout=grace)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def rss_kib(self) -> int:
        """Resident memory of every process in the service's session (KiB), from /proc."""
        assert self.process is not None
        total = 0
        for folder, _ in session_processes(self.process.pid):
            try:
                status = (folder / "status").read_text()
            except OSError:
                continue  # gone meanwhile
            total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        return total

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return session_cpu_seconds(self.process.pid)

    def push(self, data: bytes, message_id: str, subscription: str = "projects/test-project/subscriptions/direct",
             attributes: dict[str, str] | None = None, timeout: float = 600) -> tuple[int, str]:  # fmt: skip
        """POST a push envelope as Pub/Sub does; (status, body)."""
        envelope = push_envelope(data, message_id, subscription, attributes)
        request = urllib.request.Request(
            self.push_url, data=json.dumps(envelope).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


def push_envelope(
    data: bytes, message_id: str, subscription: str, attributes: dict[str, str] | None = None
) -> dict[str, Any]:
    """The JSON body of a Pub/Sub push request (wrapped format)."""
    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes or {},
            "messageId": message_id,
            "message_id": message_id,
            "publishTime": "2025-12-31T11:12:42.000Z",
        },
        "subscription": subscription,
    }


def service_env(
    workspace_env: dict[str, str], emulator_host: str | None, verdict_topic: str | None, slack_url: str | None
) -> dict[str, str]:
    """The service's environment: a test's warehouse and GX folder, no push token check (the emulator
    sends none), the Pub/Sub emulator and verdict topic (None: verdicts not published), the local Slack
    server for alerts (None: no Slack)."""
    optional = {"PUBSUB_EMULATOR_HOST": emulator_host, "NBA_DQ_VERDICT_TOPIC": verdict_topic,
                "SLACK_WEBHOOK_URL": slack_url}  # fmt: skip
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "NO_GCE_CHECK": "True",
        **workspace_env,
        "NBA_DQ_PUSH_AUTH": "off",
        **{name: value for name, value in optional.items() if value},
    }


def history_runs(settings: Settings, game_date: str) -> dict[str, int]:
    """Runs recorded in the history for a date: phase -> number of distinct run ids."""
    from reporting.history import read_history

    table = DQ_CHECK_RESULTS.qualified(settings.datasets)
    sql = f"SELECT phase, COUNT(DISTINCT run_id) FROM {table} WHERE game_date = DATE '{game_date}' GROUP BY phase"
    return {str(phase): int(count) for phase, count in read_history(settings, sql, "test")}


def session_processes(leader: int) -> list[tuple[Path, list[str]]]:
    """(/proc folder, stat fields after the command name) of each live process in the session `leader` leads."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == leader:  # stat field 5, the process group (the session's, start_new_session)
                found.append((stat.parent, fields))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


def session_cpu_seconds(leader: int) -> float:
    """CPU time (user + system) of the live processes in a session, and of the children they reaped."""
    ticks = sum(sum(int(value) for value in fields[11:15]) for _, fields in session_processes(leader))
    return ticks / os.sysconf("SC_CLK_TCK")  # stat fields 14-17: utime, stime, cutime, cstime
