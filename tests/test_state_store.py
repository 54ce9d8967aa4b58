"""The state store's contract, the same tests on local files and on a (fake) GCS server: create if
absent, compare-and-set, list, delete, update(); racing processes; a store that is down; locks whose
holder is SIGKILLed; corrupt documents quarantined."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from state.lease import held
from state.store import LocalFiles, LockTimeout, StateStore, StateUnavailable, read_checked, update
from tests.gcs_server import GcsServer, gcs_server
from warehouse.settings import PROJECT_ROOT

BACKENDS = ["local", "gcs"]


@pytest.fixture
def gcs() -> Iterator[GcsServer]:
    with gcs_server() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(kind, where): a folder for LocalFiles, a gs:// url on a fake server for GcsStore."""
    if request.param == "local":
        yield "local", str(tmp_path / "state")
        return
    with gcs_server() as server:
        yield "gcs", server.url("state")


def open_backend(kind: str, where: str, retry_seconds: float = 10.0) -> StateStore:
    if kind == "local":
        return LocalFiles(Path(where))
    from state.gcs import GcsStore

    return GcsStore(where, lease_seconds=660, retry_seconds=retry_seconds)


@pytest.fixture
def store(backend: tuple[str, str]) -> StateStore:
    return open_backend(*backend)


def test_create_is_create_if_absent(store: StateStore) -> None:
    assert store.read("events/a.json") is None
    assert store.create("events/a.json", {"n": 1}) is True
    assert store.create("events/a.json", {"n": 2}) is False
    assert store.read("events/a.json").document == {"n": 1}  # type: ignore[union-attr]


def test_replace_is_compare_and_set(store: StateStore) -> None:
    store.create("ledger.json", {"n": 1})
    first = store.read("ledger.json")
    assert first is not None
    assert store.replace("ledger.json", {"n": 2}, first.version) is True
    assert store.replace("ledger.json", {"n": 3}, first.version) is False  # someone wrote since
    second = store.read("ledger.json")
    assert second is not None and second.document == {"n": 2} and second.version != first.version
    assert store.replace("absent.json", {"n": 1}, first.version) is False


def test_an_update_that_changes_nothing_writes_nothing(store: StateStore) -> None:
    update(store, "events/doc.json", lambda document: {"n": 1})
    version = store.read("events/doc.json").version  # type: ignore[union-attr]
    assert update(store, "events/doc.json", lambda document: dict(document)) == {"n": 1}
    assert store.read("events/doc.json").version == version  # type: ignore[union-attr]


def test_writers_of_identical_documents_still_make_one_winner(store: StateStore) -> None:
    """Eight deliveries of one message on one instance build the same document (same owner, same clock):
    exactly one create and one compare-and-set succeed (a GCS store once counted every 412 on identical
    bytes as its own write, and eight runs followed)."""
    document = {"owner": "host:1", "claimed_at": "2025-12-31T12:00:00+00:00"}
    start = threading.Barrier(8)

    def create() -> bool:
        start.wait()
        return store.create("events/claim.json", document)

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(lambda _: create(), range(8))) == [False] * 7 + [True]
    version = store.read("events/claim.json").version  # type: ignore[union-attr]

    def replace() -> bool:
        start.wait()
        return store.replace("events/claim.json", {**document, "round": 2}, version)

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(lambda _: replace(), range(8))) == [False] * 7 + [True]


def test_list_is_by_prefix_and_sorted_and_delete_removes(store: StateStore) -> None:
    for name in ("outbox/2.json", "outbox/1.json", "outboxes/x.json", "other/3.json"):
        store.create(name, {})
    assert store.list("outbox/") == ["outbox/1.json", "outbox/2.json"]
    store.delete("outbox/1.json")
    store.delete("outbox/1.json")  # absent: nothing to do
    assert store.list("outbox/") == ["outbox/2.json"] and store.list("nothing/") == []


def test_update_reads_modifies_and_writes(store: StateStore) -> None:
    assert update(store, "counter.json", lambda current: {"n": (current or {"n": 0})["n"] + 1}) == {"n": 1}
    assert update(store, "counter.json", lambda current: {"n": current["n"] + 1}) == {"n": 2}
    assert store.read("counter.json").document == {"n": 2}  # type: ignore[union-attr]


def test_a_corrupt_document_is_quarantined_with_its_reason(store: StateStore, backend: tuple[str, str]) -> None:
    kind, where = backend
    store.create("alerts/ledger.json", {"open": []})

    def must_be_object_of_objects(document: object) -> None:
        if not isinstance(document, dict) or not isinstance(document.get("open"), dict):
            raise ValueError("open is not an object")

    assert read_checked(store, "alerts/ledger.json", must_be_object_of_objects) is None
    assert store.read("alerts/ledger.json") is None
    [(moved, reason)] = store.quarantined()
    assert moved.endswith("-alerts-ledger.json") and "open is not an object" in reason
    assert f"{store.location}/alerts/ledger.json" in reason
    assert read_checked(store, "alerts/ledger.json") is None and len(store.quarantined()) == 1  # absent: not corrupt


CLAIM = """
import json, sys
sys.path.insert(0, {root!r})
from tests.test_state_store import open_backend
store = open_backend({kind!r}, {where!r})
print(json.dumps(store.create("events/phase3/2025-12-30.json", {{"claimed_by": sys.argv[1]}})))
"""


def test_eight_processes_claiming_one_name_make_exactly_one_winner(store: StateStore, backend: tuple[str, str]) -> None:
    kind, where = backend
    code = CLAIM.format(root=str(PROJECT_ROOT), kind=kind, where=where)
    processes = [
        subprocess.Popen([sys.executable, "-c", code, f"p{number}"], stdout=subprocess.PIPE, env=dict(os.environ))
        for number in range(8)
    ]
    answers = [json.loads(process.communicate(timeout=120)[0]) for process in processes]
    assert sorted(answers) == [False] * 7 + [True]
    winner = f"p{answers.index(True)}"
    assert store.read("events/phase3/2025-12-30.json").document == {"claimed_by": winner}  # type: ignore[union-attr]


def test_a_store_that_is_down_is_state_unavailable_in_one_line(tmp_path: Path, gcs: GcsServer) -> None:
    from state.gcs import GcsStore

    remote = GcsStore(gcs.url("state"), retry_seconds=1)
    remote.create("alerts/ledger.json", {})
    gcs.stop()  # the port is closed now
    calls = [
        lambda: remote.read("alerts/ledger.json"),
        lambda: remote.create("alerts/outbox/1.json", {}),
        lambda: remote.list("alerts/outbox/"),
    ]
    blocked = tmp_path / "uncommitted"
    blocked.write_text("a file where the state folder should be")
    local = LocalFiles(blocked)
    calls += [lambda: local.create("alerts/outbox/1.json", {}), lambda: local.locked("alerts/.lock").__enter__()]
    for call in calls:
        with pytest.raises(StateUnavailable) as raised:
            call()
        message = str(raised.value)
        assert "\n" not in message and (remote.location in message or str(blocked) in message)
    assert "ConnectionError" in str(raised_from(calls[0])) and "NBA_DQ_STATE_URL" in str(raised_from(calls[0]))


def raised_from(call: object) -> StateUnavailable:
    try:
        call()  # type: ignore[operator]
    except StateUnavailable as error:
        return error
    raise AssertionError("no StateUnavailable")


HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from tests.test_state_store import open_backend
store = open_backend({kind!r}, {where!r})
with store.locked("alerts/.lock"):
    print("held", flush=True)
    time.sleep(300)
"""


def test_a_lock_whose_holder_was_sigkilled_is_taken_over(store: StateStore, backend: tuple[str, str]) -> None:
    """Local: the kernel released the flock at once. GCS: the lease is taken over once it has run out
    (a clock past the lease stands in for the 11 minutes); before that a waiter gives up (LockTimeout)."""
    kind, where = backend
    code = HOLDER.format(root=str(PROJECT_ROOT), kind=kind, where=where)
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=dict(os.environ))
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with pytest.raises(LockTimeout):
            with store.locked("alerts/.lock", wait_seconds=0):
                pass
        holder.send_signal(signal.SIGKILL)
    finally:
        holder.kill()
        holder.wait()
    if kind == "local":
        with store.locked("alerts/.lock", wait_seconds=0):
            return
    later = datetime.now(timezone.utc) + timedelta(seconds=661)
    with held(store, "alerts/.lock", 660, "instance-b", wait_seconds=0, clock=lambda: later):
        lease = store.read("alerts/.lock")
        assert lease is not None and lease.document["owner"] == "instance-b"
    assert store.read("alerts/.lock") is None  # released: ours, so deleted


def test_a_lock_taken_over_is_not_released_by_its_old_holder(gcs: GcsServer) -> None:
    """The old holder comes back after its lease ran out and another took it over: its release leaves
    the new holder's lease in place. (Only on GCS: an flock cannot outlive its holder.)"""
    store = open_backend("gcs", gcs.url("state"))
    later = datetime.now(timezone.utc) + timedelta(seconds=661)
    old = held(store, "locks/x", 660, "old", wait_seconds=0)
    old.__enter__()
    new = held(store, "locks/x", 660, "new", wait_seconds=0, clock=lambda: later)
    new.__enter__()
    old.__exit__(None, None, None)
    lease = store.read("locks/x")
    assert lease is not None and lease.document["owner"] == "new"
    new.__exit__(None, None, None)
    assert store.read("locks/x") is None
