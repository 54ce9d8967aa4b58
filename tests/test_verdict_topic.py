"""A run's verdict reaches the verdict topic (Google's Pub/Sub emulator) with the body `run --json`
prints and the attributes a subscriber filters on; a publish that cannot reach Pub/Sub raises."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from checkpoints.run import run_phases
from checkpoints.summary import RunSummary, to_json
from reporting.history import recorder
from reporting.reporter import Reporting
from reporting.verdicts import VerdictNotPublished, VerdictPublisher, verdict_key
from tests.child_process import free_port
from tests.conftest import Workspace
from tests.pubsub_emulator import Emulator, create_pull_subscription, create_topic, pubsub_emulator, pull
from tests.service_process import history_runs
from warehouse.seed import simulated_run_time

pytestmark = [pytest.mark.acceptance, pytest.mark.xdist_group("verdict-topic")]

COVERAGE_DROP = date(2025, 12, 5)  # the seeded fault: Phase 5 fails player_coverage


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with pubsub_emulator(tmp_path_factory.mktemp("pubsub") / "emulator.log") as running:
        yield running


@pytest.fixture
def verdict_subscription(emulator: Emulator, request: pytest.FixtureRequest) -> tuple[str, str]:
    """A topic of the test's own and a pull subscription on it: (topic, subscription)."""
    name = f"verdicts-{request.node.name}".replace("[", "-").replace("]", "")[:200]
    topic = create_topic(emulator, name)
    return topic, create_pull_subscription(emulator, topic, f"{name}-pull")


def test_a_runs_verdict_is_published_with_its_attributes_and_body(
    seeded: Workspace, verdict_subscription: tuple[str, str]
) -> None:
    topic, subscription = verdict_subscription
    summaries = run_phases(seeded.settings, ["5"], COVERAGE_DROP, simulated_run_time(COVERAGE_DROP))
    publisher = VerdictPublisher(topic)
    try:
        message_id = publisher.publish(summaries[0], run_id="phase5/2025-12-05/1")
    finally:
        publisher.close()

    [message] = pull(subscription, expect=1)
    assert message.message_id == message_id
    assert message.attributes == {
        "phase": "phase5",
        "game_date": "2025-12-05",
        "status": "fail",
        "run_id": "phase5/2025-12-05/1",
    }
    body = json.loads(message.data)
    assert body == json.loads(json.dumps(to_json(summaries[0]), default=str))
    assert any(check["name"] == "player_coverage" and not check["success"] for check in body["checks"])
    assert pull(subscription, expect=1, timeout=2) == []  # published once


def test_a_phase_that_could_not_run_is_published_as_an_error(
    seeded: Workspace, verdict_subscription: tuple[str, str]
) -> None:
    topic, subscription = verdict_subscription
    no_games = date(2025, 11, 3)  # before the seeded month: no scheduled games, no verdict possible
    [summary] = run_phases(seeded.settings, ["3"], no_games, simulated_run_time(no_games))
    assert summary.error

    publisher = VerdictPublisher(topic)
    try:
        publisher.publish(summary)
        publisher.publish(summary)  # a re-publish of the same verdict: the same key, for the consumer to drop
    finally:
        publisher.close()

    messages = pull(subscription, expect=2)
    assert [m.attributes["status"] for m in messages] == ["error", "error"]
    assert {m.attributes["phase"] for m in messages} == {"phase3"}
    assert len({m.attributes["run_id"] for m in messages}) == 1
    assert json.loads(messages[0].data)["error"] == summary.error


def test_a_run_publishes_its_verdict_after_recording_it(
    seeded: Workspace, verdict_subscription: tuple[str, str]
) -> None:
    topic, subscription = verdict_subscription
    settings = seeded.settings
    reporting = Reporting(record=recorder(settings), publish=VerdictPublisher(topic))
    [summary] = run_phases(settings, ["5"], COVERAGE_DROP, simulated_run_time(COVERAGE_DROP), reporting)

    [message] = pull(subscription, expect=1)
    assert message.attributes["run_id"] == verdict_key(to_json(summary))
    assert message.attributes["status"] == "fail" and reporting.unpublished == []
    assert history_runs(settings, "2025-12-05") == {"phase5": 1}


def test_the_cli_publishes_to_the_configured_verdict_topic(
    seeded: Workspace, verdict_subscription: tuple[str, str]
) -> None:
    topic, subscription = verdict_subscription
    now = simulated_run_time(COVERAGE_DROP).isoformat()
    result = seeded.cli("run", "--phase", "5", "--date", "2025-12-05", "--now", now, "--json",
                        env={"NBA_DQ_VERDICT_TOPIC": topic})  # fmt: skip
    assert result.code == 1, result.err
    [message] = pull(subscription, expect=1)
    assert json.loads(message.data) == result.json()
    assert message.attributes["status"] == "fail"


def test_a_verdict_that_could_not_be_published_is_said_and_the_run_goes_on(
    seeded: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")  # nothing listens there
    settings = seeded.settings
    publisher = VerdictPublisher("projects/test-project/topics/verdicts", timeout_seconds=2)
    reporting = Reporting(record=recorder(settings), publish=publisher)
    try:
        [summary] = run_phases(settings, ["5"], COVERAGE_DROP, simulated_run_time(COVERAGE_DROP), reporting)
    finally:
        publisher.close()
    assert summary.status == "fail"
    [line] = reporting.unpublished
    assert line.startswith("verdict phase5 2025-12-05 not published to projects/test-project/topics/verdicts: ")
    assert history_runs(settings, "2025-12-05") == {"phase5": 1}  # recorded all the same


def test_a_verdicts_key_ignores_where_its_pages_are_and_not_what_it_says() -> None:
    failed = [{"name": "a", "success": False}]
    verdict = {"status": "fail", "phase": "phase5", "game_date": "2025-12-05", "checks": failed,
               "data_docs": "/x/run-1.html", "data_docs_pages": ["/x/run-1.html"]}  # fmt: skip
    rerun = {**verdict, "data_docs": "/x/run-2.html", "data_docs_pages": ["/x/run-2.html"]}
    changed = {**verdict, "checks": [{"name": "a", "success": True}], "status": "pass"}
    assert verdict_key(verdict) == verdict_key(rerun) != verdict_key(changed)
    assert verdict_key(verdict).startswith("phase5-2025-12-05-")


def test_a_publish_to_an_unreachable_pubsub_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")  # nothing listens there
    summary = RunSummary("phase5", COVERAGE_DROP, checks=(), data_docs=(), error="warehouse unreachable")
    publisher = VerdictPublisher("projects/test-project/topics/verdicts", timeout_seconds=2)
    try:
        with pytest.raises(VerdictNotPublished, match="verdict phase5 2025-12-05 not published to projects/"):
            publisher.publish(summary)
    finally:
        publisher.close()


def test_a_publish_to_a_missing_topic_raises(emulator: Emulator) -> None:
    summary = RunSummary("phase5", COVERAGE_DROP, checks=(), data_docs=())
    publisher = VerdictPublisher(emulator.topic("no-such-topic"), timeout_seconds=5)
    try:
        with pytest.raises(VerdictNotPublished, match="NotFound"):
            publisher.publish(summary)
    finally:
        publisher.close()


def test_a_topic_that_is_not_a_full_path_is_refused() -> None:
    with pytest.raises(ValueError, match="use projects/PROJECT/topics/TOPIC"):
        VerdictPublisher("verdicts")
