"""Results history: every run appends one row per check; concurrent runs and a locked file lose nothing."""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from reporting.history import History
from tests.conftest import Workspace
from tests.slack_server import slack_server
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance
DAY = "2025-12-05"  # coverage_drop: phase 5 fails player_coverage
HISTORY = "nba_monitoring.dq_check_results"
PENDING = "gx/uncommitted/history/pending"


def history_file(workspace: Workspace) -> Path:
    return workspace.root / "gx/uncommitted/monitoring.duckdb"


def rows(workspace: Workspace, where: str = "TRUE") -> list[tuple[Any, ...]]:
    with duckdb.connect(str(history_file(workspace)), read_only=True) as connection:
        return connection.execute(
            f"SELECT run_id, phase, CAST(game_date AS VARCHAR), check_name, success, status, severity, observed,"
            f" expected, data_docs_url, warehouse FROM {HISTORY} WHERE {where} ORDER BY run_id, check_name"
        ).fetchall()


def test_every_run_appends_one_row_per_check(scratch: Workspace) -> None:
    first = scratch.cli("run", "--phase", "5", "--date", DAY, "--json")
    checks = {check["name"]: check for check in first.json()["checks"]}
    recorded = rows(scratch)
    assert {row[3] for row in recorded} == set(checks) and len(recorded) == len(checks)
    coverage = next(row for row in recorded if row[3] == "player_coverage")
    run_id, phase, game_date, _, success, status, severity, observed, expected, docs, warehouse = coverage
    assert (phase, game_date, success, status, severity) == ("phase5", DAY, False, "fail", "critical")
    assert '"coverage": 0.6' in observed and expected == '"' + checks["player_coverage"]["expected"] + '"'
    assert docs == Path(first.json()["data_docs"]).as_uri() and warehouse == f"duckdb:///{scratch.warehouse}"
    scratch.cli("run", "--phase", "5", "--date", DAY)
    again = rows(scratch)
    assert len(again) == 2 * len(checks) and len({row[0] for row in again}) == 2


def test_a_phase_that_could_not_run_is_recorded(scratch: Workspace) -> None:
    with duckdb.connect(str(scratch.warehouse)) as connection:
        connection.execute("DROP TABLE nba_predictions.prediction_accuracy")
    assert scratch.cli("run", "--phase", "5b", "--date", DAY).code == 2
    [(_, phase, _, check, success, status, _, observed, *_)] = rows(scratch)
    assert (phase, check, success, status) == ("phase5b", "could_not_run", False, "error")
    assert "prediction_accuracy is missing" in observed


def test_concurrent_runs_lose_nothing(scratch: Workspace) -> None:
    command = [sys.executable, "-c", "from runners.cli import entry; entry()", "run", "--date", DAY, "--phase"]
    env = {"PATH": "/usr/bin:/bin", **scratch.env}
    phases = ("5", "5b", "6", "5")
    processes = [subprocess.Popen([*command, phase], env=env, cwd=PROJECT_ROOT) for phase in phases]
    assert [process.wait(timeout=300) for process in processes] == [1, 0, 0, 1]
    recorded = rows(scratch)
    runs = {row[0]: row[1] for row in recorded}
    assert sorted(runs.values()) == ["phase5", "phase5", "phase5b", "phase6"]
    assert len(recorded) == 2 * 16 + 7 + 6  # every check of the four runs, none twice (16, 7 and 6 checks)
    assert not list((scratch.root / "gx/uncommitted/history/pending").glob("*.json"))
    index = (scratch.root / "gx/uncommitted/data_docs/local_site/index.html").read_text()
    assert index.count("'phase': 'phase5'") == 2 and "'phase': 'phase5b'" in index and "'phase': 'phase6'" in index


def test_rows_kept_while_the_history_is_locked_are_appended_by_the_next_run(scratch: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "impatient.toml"
    config.write_text(
        (PROJECT_ROOT / "dq.toml").read_text().replace("lock_timeout_seconds = 60", "lock_timeout_seconds = 1")
    )
    env = {"NBA_DQ_CONFIG": str(config)}
    history_file(scratch).parent.mkdir(parents=True, exist_ok=True)
    with open(history_file(scratch).with_name("monitoring.duckdb.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run is writing
        assert scratch.cli("run", "--phase", "5", "--date", DAY, env=env).code == 1  # the run is not held up
        fcntl.flock(lock, fcntl.LOCK_UN)
    pending = list((scratch.root / "gx/uncommitted/history/pending").glob("*.json"))
    assert len(pending) == 1 and not history_file(scratch).exists()
    scratch.cli("run", "--phase", "5", "--date", DAY, env=env)
    assert len({row[0] for row in rows(scratch)}) == 2
    assert not list((scratch.root / "gx/uncommitted/history/pending").glob("*.json"))


def test_history_is_written_before_the_alert_goes_out(scratch: Workspace) -> None:
    seen_at_alert: list[int] = []
    with slack_server() as slack:
        slack.on_request = lambda: seen_at_alert.append(len(rows(scratch, "check_name = 'player_coverage'")))
        scratch.cli("run", "--phase", "5", "--date", DAY, env={"SLACK_WEBHOOK_URL": slack.url()})
    assert seen_at_alert == [1]


def made_rows(run_id: str, checks: tuple[str, ...] = ("player_coverage", "active_prediction_count")) -> list[dict]:
    """Rows as history_rows makes them (the shape a pending file holds)."""
    return [
        {"run_id": run_id, "run_at": "2025-12-05T18:00:00+00:00", "phase": "phase5", "game_date": DAY,
         "check_name": check, "success": True, "status": "pass", "severity": "critical", "observed": "{}",
         "expected": '"x"', "data_docs_url": None, "warehouse": "duckdb:///w"}
        for check in checks
    ]  # fmt: skip


def keys(workspace: Workspace) -> Counter[tuple[str, str]]:
    return Counter((row[0], row[3]) for row in rows(workspace))


def test_a_crash_between_the_append_and_the_pending_files_removal_doubles_nothing(scratch: Workspace) -> None:
    """The child commits its rows, then is SIGKILLed where it would remove the pending file; the next
    append replays that file and each (run_id, check_name) is still there once."""
    child = (
        "import json, os, signal, sys\n"
        "from pathlib import Path\n"
        "from reporting.history import History\n"
        "from warehouse.settings import load_settings\n"
        "Path.unlink = lambda self, missing_ok=False: os.kill(os.getpid(), signal.SIGKILL)\n"
        "History(load_settings(os.environ)).append(json.loads(sys.argv[1]))\n"
    )
    crashed = subprocess.run(
        [sys.executable, "-c", child, json.dumps(made_rows("run-1"))],
        env={"PATH": "/usr/bin:/bin", **scratch.env}, cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    assert crashed.returncode == -signal.SIGKILL
    assert len(list((scratch.root / PENDING).glob("*.json"))) == 1  # appended, but still pending
    assert keys(scratch) == {("run-1", "player_coverage"): 1, ("run-1", "active_prediction_count"): 1}
    History(scratch.settings).append(made_rows("run-2"))  # the next run replays the file first
    checks = ("player_coverage", "active_prediction_count")
    assert keys(scratch) == {(run, check): 1 for run in ("run-1", "run-2") for check in checks}
    assert not list((scratch.root / PENDING).glob("*.json"))


@pytest.mark.parametrize(
    "content",
    [
        b'[{"run_id": "run-0", "pha',
        b"",
        b'{"rows": []}',
        b'[{"run_id": "run-0"}]',
        json.dumps([{**made_rows("run-0")[0], "success": "maybe"}]).encode(),
        json.dumps([{**made_rows("run-0")[0], "game_date": "05/12/2025"}]).encode(),
    ],
    ids=["truncated", "empty", "not-a-list", "missing-columns", "not-a-boolean", "not-a-date"],
)
def test_a_corrupt_pending_file_is_quarantined_and_blocks_no_other_rows(scratch: Workspace, content: bytes) -> None:
    pending = scratch.root / PENDING
    pending.mkdir(parents=True)
    (pending / "1-corrupt.json").write_bytes(content)  # sorted first: it used to stop every append after it
    (pending / "2-kept.json").write_text(json.dumps(made_rows("run-kept")))
    History(scratch.settings).append(made_rows("run-now"))
    assert {run for run, _ in keys(scratch)} == {"run-kept", "run-now"}
    assert not list(pending.glob("*.json"))
    quarantined = list((scratch.root / "gx/uncommitted/quarantine").glob("*1-corrupt.json"))
    assert len(quarantined) == 1 and quarantined[0].read_bytes() == content
    doctor = {line["subject"]: line for line in scratch.cli("doctor", "--json").json()["checks"]}
    assert not doctor["state files"]["ok"] and "1-corrupt.json" in doctor["state files"]["detail"]


def test_an_empty_history_file_left_by_a_full_disk_does_not_stop_the_history(scratch: Workspace) -> None:
    """DuckDB refuses to open a 0-byte file ever after; it holds nothing, so the next append starts afresh."""
    history_file(scratch).parent.mkdir(parents=True, exist_ok=True)
    history_file(scratch).write_bytes(b"")
    assert History(scratch.settings).read(f"SELECT COUNT(*) FROM {HISTORY}") == []
    History(scratch.settings).append(made_rows("run-after"))
    assert set(keys(scratch)) == {("run-after", "player_coverage"), ("run-after", "active_prediction_count")}
    assert not list((scratch.root / PENDING).glob("*.json"))
