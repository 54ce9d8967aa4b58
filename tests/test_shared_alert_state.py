"""Two nba-dq instances (two GX folders, as two Cloud Run containers keep nothing in common) sharing one
state prefix on a (fake) GCS server, through real runs, a real Slack server on 127.0.0.1 and a process
SIGKILLed mid-send: what one alerted the other does not repeat, resolves once, and delivers once what
the first left in the outbox; history rows one kept pending are appended once by the other."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from state.gcs import GcsStore
from state.store import StateStore
from tests.conftest import Workspace, make_workspace
from tests.gcs_server import GcsServer, gcs_server
from tests.slack_server import HANGS, Reply, SlackServer, slack_server
from tests.test_history import history_file, rows
from tests.test_slack_alerts import COVERAGE_DROP, DAY, DUPLICATE_ONE_ACTIVE_ROW, REMOVE_COPIES, run, text_of
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance


@dataclass
class Instances:
    a: Workspace
    b: Workspace
    env: dict[str, str]  # both: the shared state url and the Slack webhook
    store: StateStore  # what both share, as a test reads it


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


@pytest.fixture
def gcs() -> Iterator[GcsServer]:
    with gcs_server() as server:
        yield server


@pytest.fixture
def instances(scratch: Workspace, slack: SlackServer, gcs: GcsServer, tmp_path: Path) -> Instances:
    """Instance A is the scratch workspace; B has a GX folder of its own on the same warehouse."""
    other = make_workspace(tmp_path / "instance-b", scratch.warehouse)
    env = {"NBA_DQ_STATE_URL": gcs.url("state"), "SLACK_WEBHOOK_URL": slack.url(), **gcs.env}
    return Instances(scratch, other, env, GcsStore(gcs.url("state")))


def titles(slack: SlackServer) -> list[str]:
    return [text_of(message).splitlines()[0] for message in slack.messages()]


def local_alert_files(workspace: Workspace) -> list[Path]:
    folder = workspace.root / "gx/uncommitted/alerts"
    return sorted(path for path in folder.rglob("*.json")) if folder.is_dir() else []


def test_what_one_instance_alerted_the_other_neither_repeats_and_resolves_once(
    instances: Instances, slack: SlackServer, sql: Callable[[str], None]
) -> None:
    sql(DUPLICATE_ONE_ACTIVE_ROW)
    assert run(instances.a, instances.env, "5", DAY).code == 1
    assert run(instances.b, instances.env, "5", DAY).code == 1  # within repeat_after_hours: no second post
    assert titles(slack) == [f"nba-dq phase5 {DAY}: FAIL"]
    ledger = instances.store.read("alerts/ledger.json")
    assert ledger is not None and DAY in ledger.document["incidents"]["phase5|active_key_unique"]["dates"]
    sql(REMOVE_COPIES)
    assert run(instances.b, instances.env, "5", DAY).code == 0
    assert run(instances.a, instances.env, "5", DAY).code == 0  # resolved already: nothing more
    assert titles(slack) == [f"nba-dq phase5 {DAY}: FAIL", f"nba-dq phase5 {DAY}: resolved"]
    assert local_alert_files(instances.a) == [] and local_alert_files(instances.b) == []  # all of it on GCS


def test_an_outbox_entry_left_by_a_killed_instance_is_delivered_once_by_the_other(
    instances: Instances, slack: SlackServer
) -> None:
    slack.default = HANGS
    argv = [sys.executable, "-c", "from runners.cli import entry; entry()", "run", "--phase", "5", "--date"]
    process = subprocess.Popen(
        [*argv, COVERAGE_DROP],
        cwd=PROJECT_ROOT,
        env={**os.environ, **instances.a.env, **instances.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        slack.wait_for_requests(1)  # A's POST is in flight: the server holds its answer
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert len(instances.store.list("alerts/outbox/")) == 1  # written before the POST
    assert instances.store.read("alerts/.lock") is not None  # A died holding the alert lock
    expire_lease(instances.store)  # its 11 minutes have passed
    slack.default = Reply()
    assert run(instances.b, instances.env, "5", COVERAGE_DROP).code == 1
    assert titles(slack) == [f"nba-dq phase5 {COVERAGE_DROP}: FAIL"]  # A's entry, once; B's own verdict repeats nothing
    assert instances.store.list("alerts/outbox/") == [] and instances.store.read("alerts/.lock") is None
    assert run(instances.a, instances.env, "5", COVERAGE_DROP).code == 1 and len(slack.messages()) == 1


def expire_lease(store: StateStore) -> None:
    """Backdate the dead holder's lease past [state] lease_seconds (what waiting 11 minutes would do)."""
    lease = store.read("alerts/.lock")
    assert lease is not None
    assert store.replace("alerts/.lock", {**lease.document, "since": "2000-01-01T00:00:00+00:00"}, lease.version)


def test_history_rows_one_instance_kept_pending_are_appended_once_by_the_other(
    instances: Instances, tmp_path: Path
) -> None:
    """A's history is locked (another run is writing it), so its rows wait on GCS; B's next run appends
    them to its history, once, before its own; A's next run finds nothing of them left to append."""
    config = tmp_path / "impatient.toml"
    config.write_text(
        (PROJECT_ROOT / "dq.toml").read_text().replace("lock_timeout_seconds = 60", "lock_timeout_seconds = 1")
    )
    env = {**instances.env, "NBA_DQ_CONFIG": str(config)}
    history_file(instances.a).parent.mkdir(parents=True, exist_ok=True)
    with open(history_file(instances.a).with_name("monitoring.duckdb.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert run(instances.a, env, "5", COVERAGE_DROP).code == 1
        fcntl.flock(lock, fcntl.LOCK_UN)
    [pending] = instances.store.list("history/pending/")
    kept_run = instances.store.read(pending).document[0]["run_id"]  # type: ignore[union-attr]
    assert run(instances.b, env, "5", COVERAGE_DROP).code == 1
    runs_in_b = Counter(row[0] for row in rows(instances.b))
    assert len(runs_in_b) == 2 and kept_run in runs_in_b and len(set(runs_in_b.values())) == 1  # each check once
    assert instances.store.list("history/pending/") == []
    assert run(instances.a, env, "5", COVERAGE_DROP).code == 1
    assert kept_run not in {row[0] for row in rows(instances.a)} and len({row[0] for row in rows(instances.a)}) == 1
    assert not (instances.a.root / "gx/uncommitted/history/pending").exists()  # nothing was kept locally


def test_two_instances_at_once_post_the_alert_once(gcs: GcsServer) -> None:
    """The alert lock is a lease on GCS: two instances committing and sending the same verdict at the
    same moment post it once (each has its own store client, as two containers would)."""
    from tests.test_alerts_ledger import FAILING, SlowSender, alerter_on

    sender = SlowSender()
    runs = [threading.Thread(target=alerter_on(GcsStore(gcs.url("state")), sender).notify, args=(FAILING,))]
    runs.append(threading.Thread(target=alerter_on(GcsStore(gcs.url("state")), sender).notify, args=(FAILING,)))
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert len(sender.sent) == 1 and "player_coverage" in sender.sent[0]["text"]
    assert GcsStore(gcs.url("state")).list("alerts/") == ["alerts/ledger.json"]  # the lease was released


def test_a_lock_held_by_a_dead_instance_does_not_hold_the_alert_up(gcs: GcsServer) -> None:
    """Its lease has minutes to run: after a few Slack budgets the verdict goes out without the state,
    saying so (never lost, never held up for the lease); the dead holder's outbox waits for its lease."""
    from reporting.alerts import NOT_DEDUPLICATED
    from tests.test_alerts_ledger import FAILING, SlowSender, alerter_on

    store = GcsStore(gcs.url("state"))
    store.create(
        "alerts/.lock", {"owner": "dead-instance:1", "token": "t", "since": datetime.now(timezone.utc).isoformat()}
    )
    sender = SlowSender()
    alerter_on(store, sender, lock_wait_seconds=0).notify(FAILING)
    assert len(sender.sent) == 1 and NOT_DEDUPLICATED in sender.sent[0]["text"]
    assert store.read("alerts/.lock").document["owner"] == "dead-instance:1"  # type: ignore[union-attr]


def test_doctor_reports_the_shared_store_its_outbox_and_its_quarantine(instances: Instances, gcs: GcsServer) -> None:
    store = instances.store
    store.create("alerts/outbox/20251205T180000000000-00.json", {"key": "k"})
    store.create("history/pending/1-corrupt.json", {"rows": []})
    store.quarantine("history/pending/1-corrupt.json", "not a non-empty list of history rows")
    result = instances.a.cli("doctor", env=instances.env)
    lines = {line[6:].partition("  ")[0].strip(): line for line in result.out.splitlines()[1:]}
    assert lines["state store"].startswith("ok") and "gs://nba-dq-state/state reachable and writable" in result.out
    assert (
        "1 message(s) waiting in gs://nba-dq-state/state/alerts/outbox since 20251205T180000000000-00.json"
        in (lines["slack"])
    )
    assert lines["state files"].startswith("FAIL") and "gs://nba-dq-state/state/quarantine" in lines["state files"]
    assert "1-corrupt.json (gs://nba-dq-state/state/history/pending/1-corrupt.json: not a non-empty" in result.out
    gcs.stop()
    down = instances.a.cli("doctor", env={**instances.env, "NBA_DQ_STATE_URL": gcs.url("elsewhere")})
    line = next(line for line in down.out.splitlines() if " state store " in line)
    assert down.code == 1 and line.startswith("FAIL") and "state store gs://nba-dq-state/elsewhere" in line
