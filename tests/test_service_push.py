"""`nba-dq serve`'s push endpoint through Flask's test client: the platform's real messages, real runs
on the seeded DuckDB month, history in its real DuckDB file, alerts to a real Slack server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runners import events
from runners.completion import DONE, RELEASED
from state.store import LocalFiles
from tests.conftest import Workspace, make_workspace
from tests.gcs_server import gcs_server
from tests.pubsub_push import PHASE3, PHASE4_FIXTURES, PHASE4_OTHERS, Service, body, envelope, like, truthful
from tests.slack_server import SlackServer, slack_server
from warehouse.settings import PROJECT_ROOT


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


@pytest.fixture(params=["local files", "GCS"])
def state_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The state store the instances share: the GX folder's files, or a prefix on a (fake) GCS server
    that enforces generation preconditions as GCS does (Cloud Run's case)."""
    if request.param == "local files":
        yield {}
        return
    with gcs_server() as gcs:
        yield {"NBA_DQ_STATE_URL": gcs.url("state"), **gcs.env}


@pytest.fixture
def no_warehouse(tmp_path: Path) -> Workspace:
    """A workspace whose warehouse is never opened (what is answered before any run)."""
    return make_workspace(tmp_path, tmp_path / "never-opened.duckdb")


def phase4_bodies() -> list[dict[str, Any]]:
    others = [like("MLFeatureStoreProcessor", processor_name=name, execution_id=name[:8]) for name in PHASE4_OTHERS]
    return [*others, *(body(name) for name in PHASE4_FIXTURES)]


MESSAGES_BY_PHASE: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "phase3": lambda: [body(name) for name in PHASE3],
    "phase4": phase4_bodies,
    "phase5": lambda: [body("PredictionCoordinator")],
    "phase5b": lambda: [body("Phase5BGrading")],
    "phase6": lambda: [body("Phase6Export")],
}
VERDICTS = {"phase3": "pass", "phase4": "pass", "phase5": "pass", "phase5b": "fail", "phase6": "pass"}


@pytest.mark.slow
@pytest.mark.parametrize("checkpoint", list(MESSAGES_BY_PHASE))
def test_each_topics_real_messages_run_their_phase_once_with_a_verdict(seeded: Workspace, checkpoint: str) -> None:
    service = Service(seeded)
    *first, last = (truthful(seeded, data) for data in MESSAGES_BY_PHASE[checkpoint]())
    for data in first:
        assert service.post(envelope(data))[1]["outcome"] == "waiting"
    assert service.history_runs(checkpoint) == []  # no run before the last processor reported
    status, answer = service.post(envelope(last))
    assert (status, answer["outcome"], answer["verdict"], answer["round"]) == (200, "verdict", VERDICTS[checkpoint], 1)
    assert len(service.history_runs(checkpoint)) == 1
    rounds = service.document(checkpoint)["rounds"]
    assert [(r["round"], r["state"], r["verdict"]["verdict"]) for r in rounds] == [(1, DONE, VERDICTS[checkpoint])]


@pytest.mark.slow
def test_a_phase3_processor_reporting_again_later_runs_the_phase_again(seeded: Workspace) -> None:
    service = Service(seeded)
    for name in PHASE3:
        status, answer = service.post(envelope(body(name)))
    assert (status, answer["outcome"]) == (200, "verdict")
    assert service.post(envelope(body(PHASE3[0])))[1]["outcome"] == "duplicate"  # a redelivery: nothing new
    backfill = like(PHASE3[0], execution_id="a1b2c3d4", timestamp="2026-01-04T09:00:00+00:00", record_count=229)
    status, answer = service.post(envelope(backfill))
    assert (status, answer["outcome"], answer["round"]) == (200, "verdict", 2)
    assert len(service.history_runs("phase3")) == 2


@pytest.mark.slow
def test_one_message_delivered_8_times_at_once_runs_once_and_alerts_once(
    seeded: Workspace, slack: SlackServer, state_env: dict[str, str]
) -> None:
    service = Service(seeded, env={"SLACK_WEBHOOK_URL": slack.url(), **state_env})
    delivery = envelope(body("Phase5BGrading"), message_id="4242")  # grading fails on the date: one alert
    answers: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(8)

    def deliver() -> None:
        start.wait()
        answers.append(service.post(delivery))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted((status, answer["outcome"]) for status, answer in answers)
    assert outcomes.count((200, "verdict")) == 1
    assert set(outcomes) <= {(200, "verdict"), (200, "duplicate"), (503, "busy")}
    retried = [service.post(delivery) for status, _ in answers if status == 503]  # Pub/Sub redelivers those
    assert all((status, answer["outcome"]) == (200, "duplicate") for status, answer in retried)
    assert len(service.history_runs("phase5b")) == 1
    assert len(slack.messages()) == 1


@pytest.mark.slow
def test_two_instances_receiving_the_last_two_processors_at_once_run_phase3_once(
    seeded: Workspace, state_env: dict[str, str]
) -> None:
    first = Service(seeded, env=state_env, owner="instance-a")
    second = Service(seeded, env=state_env, owner="instance-b", store=first.store)  # one shared state store
    for name in PHASE3[:-2]:
        assert first.post(envelope(body(name)))[1]["outcome"] == "waiting"
    answers: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(2)

    def deliver(service: Service, name: str) -> None:
        start.wait()
        answers.append(service.post(envelope(body(name))))

    threads = [threading.Thread(target=deliver, args=pair) for pair in ((first, PHASE3[-2]), (second, PHASE3[-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(answer["outcome"] for _, answer in answers)
    assert outcomes == ["verdict", "waiting"]  # whichever write came second completed the set and claimed the run
    assert len(first.history_runs("phase3")) == 1
    [round_] = first.document("phase3")["rounds"]
    assert round_["state"] == DONE and round_["owner"] in ("instance-a", "instance-b")


@pytest.mark.slow
def test_a_failed_status_still_runs_the_phase_and_is_recorded_as_failed(seeded: Workspace) -> None:
    service = Service(seeded)
    failed = body("PlayerGameSummaryProcessor--status-failed")
    for data in [failed, *(body(name) for name in PHASE3[1:])]:
        status, answer = service.post(envelope(data))
    assert (status, answer["outcome"]) == (200, "verdict")
    stored = service.document("phase3")["reports"]["PlayerGameSummaryProcessor"]
    assert (stored["status"], stored["details"]["error_message"]) == ("failed", "No data extracted")
    assert len(service.history_runs("phase3")) == 1


@pytest.mark.slow
def test_a_could_not_run_the_data_caused_is_a_verdict_and_acknowledged(
    scratch: Workspace, sql: Callable[[str], None]
) -> None:
    sql("DROP TABLE nba_predictions.prediction_accuracy")
    service = Service(scratch)
    status, answer = service.post(envelope(body("Phase5BGrading")))
    assert (status, answer["outcome"], answer["verdict"]) == (200, "verdict", "error")
    assert "prediction_accuracy is missing" in answer["error"]
    assert len(service.history_runs("phase5b")) == 1


@pytest.mark.slow
def test_an_unreachable_warehouse_is_503_and_the_round_is_released_for_the_retry(no_warehouse: Workspace) -> None:
    service = Service(no_warehouse)
    status, answer = service.post(envelope(body("Phase6Export")))
    assert (status, answer["outcome"]) == (503, "unavailable") and "warehouse unreachable" in answer["error"]
    assert service.document("phase6")["rounds"][0]["state"] == RELEASED
    status, answer = service.post(envelope(body("Phase6Export")))  # the retry claims a new round at once
    assert (status, answer.get("round")) == (503, 2)


@pytest.mark.slow
def test_a_run_past_its_deadline_answers_503_and_the_redelivery_finds_it_done(
    seeded: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "deadline.toml"
    config.write_text(
        (PROJECT_ROOT / "dq.toml").read_text().replace("run_deadline_seconds = 540", "run_deadline_seconds = 1")
    )
    service = Service(seeded, env={"NBA_DQ_CONFIG": str(config)})
    release = threading.Event()
    real_run = events._run_phase

    def slow_run(*args: Any) -> Any:
        release.wait()
        return real_run(*args)

    monkeypatch.setattr(events, "_run_phase", slow_run)
    delivery = envelope(body("Phase5BGrading"))
    status, answer = service.post(delivery)
    assert (status, answer["outcome"]) == (503, "deadline")
    assert service.post(delivery)[1]["outcome"] == "busy"  # the run goes on, the claim holds
    release.set()
    for thread in threading.enumerate():
        if thread.name.startswith("nba-dq-phase5b"):
            thread.join()
    assert service.post(delivery)[1]["outcome"] == "duplicate"
    assert service.document("phase5b")["rounds"][0]["verdict"]["verdict"] == "fail"


@pytest.mark.parametrize(
    "delivery",
    [
        b"this is not JSON",
        envelope(b"{not json"),
        envelope("%%%not-base64%%%"),
        envelope({"processor_name": "PredictionCoordinator", "status": "success"}),
        envelope(b'{"processor_name": "Phase6Export", "status": "success", "target_date": "2025-12-30", "mae": NaN}'),
    ],
    ids=["body-not-json", "data-not-json", "bad-base64", "no-date", "nan-count"],
)  # fmt: skip
def test_malformed_deliveries_are_acknowledged_and_recorded(no_warehouse: Workspace, delivery: Any) -> None:
    service = Service(no_warehouse)
    status, answer = service.post(delivery)
    assert (status, answer["outcome"]) == (200, "malformed") and answer["reason"]
    [recorded] = service.store.list("messages/")
    stored = service.store.read(recorded)
    assert stored is not None and stored.document["reason"] == answer["reason"]


def test_an_unknown_processor_is_acknowledged_and_recorded(no_warehouse: Workspace) -> None:
    service = Service(no_warehouse)
    status, answer = service.post(envelope(like("Phase6Export", processor_name="Phase7Magic"), message_id="77"))
    assert (status, answer["outcome"], answer["processor"]) == (200, "unknown", "Phase7Magic")
    assert service.store.list("messages/") == ["messages/77.json"]


def test_an_unreachable_state_store_is_503_so_pubsub_redelivers(no_warehouse: Workspace, tmp_path: Path) -> None:
    from state.store import LocalFiles

    (tmp_path / "not-a-folder").write_text("a file where the store's folder should be")
    service = Service(no_warehouse, store=LocalFiles(tmp_path / "not-a-folder" / "state"))
    for delivery in (envelope(body("Phase6Export")), envelope(b"{not json")):
        status, answer = service.post(delivery)
        assert (status, answer["outcome"]) == (503, "unavailable")


def test_healthz_says_version_and_state_store_and_nothing_secret(no_warehouse: Workspace) -> None:
    service = Service(no_warehouse, env={"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/s3cr3t"})
    response = service.app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["state_store"] == service.store.location
    assert "s3cr3t" not in response.get_data(as_text=True)


@pytest.mark.slow
def test_nba_dq_serve_answers_under_gunicorn_and_stops_on_sigterm(no_warehouse: Workspace) -> None:
    """The real command: gunicorn binds 127.0.0.1, answers /healthz and a push, and exits on SIGTERM."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-c", "from runners.cli import entry; entry()", "serve", "--port", str(port)]
    env = {**os.environ, **no_warehouse.env, "NBA_DQ_PUSH_AUTH": "off"}
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        health = _get_when_up(f"http://127.0.0.1:{port}/healthz", server)
        assert health["status"] == "ok"
        push = urllib.request.Request(f"http://127.0.0.1:{port}/pubsub/push", data=b"{}", method="POST")
        with urllib.request.urlopen(push, timeout=30) as response:
            assert (response.status, json.loads(response.read())["outcome"]) == (200, "malformed")
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output
    assert "Using worker: gthread" in output


def _get_when_up(url: str, server: subprocess.Popen[bytes]) -> dict[str, Any]:
    """GET `url` once the server listens (it imports Flask and gunicorn first); fail if it exits."""
    while server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return dict(json.loads(response.read()))
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    output = server.stdout.read().decode() if server.stdout else ""
    raise AssertionError(f"nba-dq serve exited {server.returncode}: {output}")


@pytest.mark.slow
def test_a_verdict_whose_history_cannot_be_kept_is_503_and_run_again(seeded: Workspace, tmp_path: Path) -> None:
    uncommitted = seeded.root / "gx" / "uncommitted"
    (uncommitted / "monitoring.duckdb").mkdir(parents=True)  # the history file cannot be opened
    (uncommitted / "history").write_text("a file where the pending rows' folder should be")  # nor kept pending
    service = Service(seeded, store=LocalFiles(tmp_path / "state"))
    status, answer = service.post(envelope(body("Phase5BGrading")))
    assert (status, answer["outcome"]) == (503, "unavailable") and "could not be recorded" in answer["error"]
    assert service.document("phase5b")["rounds"][0]["state"] == RELEASED
    (uncommitted / "monitoring.duckdb").rmdir()
    (uncommitted / "history").unlink()
    status, answer = service.post(envelope(body("Phase5BGrading")))  # Pub/Sub's redelivery
    assert (status, answer["outcome"], answer["round"]) == (200, "verdict", 2)
    assert len(service.history_runs("phase5b")) == 1


@pytest.mark.slow
def test_a_batch_that_claims_more_than_landed_fails_its_phase_through_the_push(seeded: Workspace) -> None:
    """The platform's own report is a check: 950 players claimed, the seeded date's real number landed."""
    service = Service(seeded)
    honest = truthful(seeded, body("PredictionCoordinator"))
    status, answer = service.post(envelope({**honest, "record_count": 950}))
    assert (status, answer["outcome"], answer["verdict"]) == (200, "verdict", "fail")
    assert answer["failed_checks"] == ["claim_rows_landed"]
