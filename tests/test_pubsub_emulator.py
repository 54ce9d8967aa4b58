"""The Pub/Sub emulator tier: `nba-dq serve` as a real process, fed by Google's emulator through push
subscriptions with the platform's real messages (tests/fixtures/pubsub), verdicts pulled from the
verdict topic, alerts counted by a local Slack server, runs counted in the history.

Each test gets a private warehouse copy and GX folder, and its own emulator project (topics of the
same names as the platform's, isolated from the other tests'). The emulator's pushes go through a
recorder (tests/push_recorder.py) that sees every answer, so a test waits for "delivered and acked",
never for a time.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import Workspace
from tests.gcs_server import gcs_server
from tests.platform_messages import TOPICS, PlatformMessage, all_messages, phase_messages
from tests.pubsub_emulator import (
    Emulator,
    Pulled,
    create_pull_subscription,
    create_push_subscription,
    create_topic,
    publish,
    pubsub_emulator,
    pull,
)
from tests.push_recorder import Delivery, PushRecorder, push_recorder
from tests.service_process import ServiceProcess, history_runs, service_env
from tests.slack_server import SlackServer, slack_server
from warehouse.settings import load_settings

pytestmark = [pytest.mark.acceptance, pytest.mark.xdist_group("pubsub-emulator")]

COVERAGE_DROP = date(2025, 12, 5)  # the seeded fault: Phase 5 fails player_coverage, so it alerts
DAY = str(COVERAGE_DROP)
PHASES = {"3": "phase3", "4": "phase4", "5": "phase5", "5b": "phase5b", "6": "phase6"}
_projects = itertools.count(1)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with pubsub_emulator(tmp_path_factory.mktemp("pubsub") / "emulator.log") as running:
        yield running


@dataclass
class Stack:
    """The platform's topics pushing to a running service, its verdict topic, Slack, and the history."""

    workspace: Workspace
    emulator: Emulator
    service: ServiceProcess
    recorder: PushRecorder
    slack: SlackServer
    topics: dict[str, str]  # phase key -> topic path
    verdicts: str  # the pull subscription on the verdict topic

    def publish(self, message: PlatformMessage) -> str:
        return publish(self.topics[message.phase_key], message.data)

    def publish_acked(self, messages: list[PlatformMessage]) -> list[Delivery]:
        """Publish each and wait until the service acknowledged it (2xx, possibly after redeliveries)."""
        ids = [self.publish(message) for message in messages]
        acked = lambda deliveries: all(any(d.message_id == i and d.status < 300 for d in deliveries) for i in ids)  # noqa: E731
        return self.recorder.wait_for(acked)

    def runs(self) -> dict[str, int]:
        return history_runs(load_settings(self.workspace.env), DAY)

    def alerted_phases(self) -> Counter[str]:
        """Slack messages per phase (their title: `nba-dq <phase> <date>: <status>`)."""
        return Counter(str(message["text"]).split()[1] for message in self.slack.messages())


@contextmanager
def running_stack(workspace: Workspace, emulator: Emulator, tmp_path: Path, state: dict[str, str]) -> Iterator[Stack]:
    project_emulator = replace(emulator, project=f"emu-project-{next(_projects)}")
    with ExitStack() as cleanup:
        slack = cleanup.enter_context(slack_server())
        verdict_topic = create_topic(project_emulator, "nba-dq-verdicts")
        verdicts = create_pull_subscription(project_emulator, verdict_topic, "nba-dq-verdicts-pull")
        env = {**service_env(workspace.env, emulator.host, verdict_topic, slack.url()), **state}
        service = ServiceProcess(env, tmp_path / "service.log").start()
        recorder = cleanup.enter_context(push_recorder(service.push_url))
        topics = {}
        for key, name in TOPICS.items():
            topics[key] = create_topic(project_emulator, name)
            create_push_subscription(project_emulator, topics[key], f"{name}-nba-dq", recorder.url)
        running = Stack(workspace, project_emulator, service, recorder, slack, topics, verdicts)
        cleanup.callback(lambda: running.service.stop())  # the service running at the end (a test may restart it)
        yield running


@pytest.fixture(params=["local state", "GCS state"])
def stack(request: pytest.FixtureRequest, scratch: Workspace, emulator: Emulator, tmp_path: Path) -> Iterator[Stack]:
    """The service on the GX folder's state files, or on a state prefix of a (fake) GCS server: Cloud
    Run's case, where a restarted or second container finds the state there, not on its disk."""
    with ExitStack() as cleanup:
        state = {}
        if request.param == "GCS state":
            gcs = cleanup.enter_context(gcs_server())
            state = {"NBA_DQ_STATE_URL": gcs.url("state"), **gcs.env}
        yield cleanup.enter_context(running_stack(scratch, emulator, tmp_path, state))


@pytest.fixture
def local_stack(scratch: Workspace, emulator: Emulator, tmp_path: Path) -> Iterator[Stack]:
    """On the GX folder's state files (a test breaks their folder)."""
    with running_stack(scratch, emulator, tmp_path, {}) as running:
        yield running


def verdict_of(message: Pulled) -> tuple[str, str]:
    return message.attributes["phase"], message.attributes["game_date"]


def test_each_completed_phase_runs_once_and_its_verdict_is_published(stack: Stack) -> None:
    phase3 = phase_messages("3", DAY)
    stack.publish_acked(phase3[:-1])  # four of the five Phase 3 processors reported: no run yet
    assert stack.runs() == {}
    assert pull(stack.verdicts, expect=1, timeout=3) == []

    stack.publish_acked(phase3[-1:])  # the last one: Phase 3 runs
    first = pull(stack.verdicts, expect=1, timeout=180)
    assert [verdict_of(m) for m in first] == [("phase3", DAY)]

    later = [message for message in all_messages(DAY) if message.phase_key != "3"]
    stack.publish_acked(later)
    pulled = first + pull(stack.verdicts, expect=4, timeout=300)
    assert sorted(verdict_of(m) for m in pulled) == sorted((phase, DAY) for phase in PHASES.values())
    statuses = {m.attributes["phase"]: m.attributes["status"] for m in pulled}
    assert statuses["phase5"] == "fail"
    for message in pulled:
        body = json.loads(message.data)
        assert (body["phase"], body["game_date"], body["status"]) == (
            *verdict_of(message),
            message.attributes["status"],
        )
        assert message.attributes["run_id"]
    assert stack.runs() == dict.fromkeys(PHASES.values(), 1)
    alerted = stack.alerted_phases()
    assert alerted["phase5"] == 1 and set(alerted.values()) == {1}
    assert {phase for phase, status in statuses.items() if status != "pass"} <= set(alerted)

    # The platform publishes everything again (a publisher retry: byte-identical bodies, new message ids).
    stack.publish_acked(all_messages(DAY))
    assert pull(stack.verdicts, expect=1, timeout=5) == []
    assert stack.runs() == dict.fromkeys(PHASES.values(), 1)
    assert stack.alerted_phases() == alerted


def test_a_delivery_answered_5xx_is_redelivered_and_ends_in_one_verdict(local_stack: Stack) -> None:
    """The state store cannot be written for the first delivery (its events/ folder is a file); once the
    service answered 5xx the store is repaired, and the emulator's redelivery runs the phase once."""
    stack = local_stack
    events = stack.workspace.root / "gx" / "uncommitted" / "events"
    events.parent.mkdir(parents=True, exist_ok=True)
    events.write_text("not a folder")

    def repair(delivery: Delivery) -> None:
        if delivery.status >= 500 and events.is_file():
            events.unlink()

    stack.recorder.on_answer = repair
    [message] = phase_messages("5", DAY)
    stack.publish_acked([message])
    answers = [d.status for d in stack.recorder.deliveries if d.processor == message.processor]
    assert answers[0] >= 500 and answers[-1] < 300
    [verdict] = pull(stack.verdicts, expect=1, timeout=180)
    assert verdict_of(verdict) == ("phase5", DAY)
    assert pull(stack.verdicts, expect=1, timeout=3) == []
    assert stack.runs() == {"phase5": 1}
    assert stack.alerted_phases() == Counter({"phase5": 1})


def test_a_warehouse_unavailable_for_the_first_delivery_ends_in_one_verdict(stack: Stack) -> None:
    """The warehouse file is away for the first delivery (a 5xx: the retry's business, not a verdict);
    it is back for the redelivery, which runs the phase: one verdict, one history run, one alert."""
    warehouse = stack.workspace.warehouse
    away = warehouse.with_name("warehouse.away")
    warehouse.rename(away)

    def restore(delivery: Delivery) -> None:
        if delivery.status >= 500 and away.exists():
            away.rename(warehouse)

    stack.recorder.on_answer = restore
    [message] = phase_messages("5", DAY)
    stack.publish_acked([message])
    answers = [d.status for d in stack.recorder.deliveries if d.processor == message.processor]
    assert answers[0] >= 500 and answers[-1] < 300
    pulled = pull(stack.verdicts, expect=2, timeout=60)
    assert [(verdict_of(m), m.attributes["status"]) for m in pulled] == [(("phase5", DAY), "fail")]
    assert stack.runs() == {"phase5": 1}
    assert stack.alerted_phases() == Counter({"phase5": 1})


def test_a_verdict_that_could_not_be_published_is_answered_5xx_and_published_on_redelivery(stack: Stack) -> None:
    from google.cloud import pubsub_v1

    verdict_topic = stack.emulator.topic("nba-dq-verdicts")
    pubsub_v1.PublisherClient().delete_topic(topic=verdict_topic)  # the verdict topic is gone for a while

    recreated: list[bool] = []

    def recreate(delivery: Delivery) -> None:
        if delivery.status >= 500 and not recreated:
            recreated.append(True)
            create_topic(stack.emulator, "nba-dq-verdicts")
            stack.verdicts = create_pull_subscription(stack.emulator, verdict_topic, "nba-dq-verdicts-again")

    stack.recorder.on_answer = recreate
    [message] = phase_messages("5", DAY)
    stack.publish_acked([message])
    answers = [d.status for d in stack.recorder.deliveries if d.processor == message.processor]
    assert answers[0] >= 500 and answers[-1] < 300
    assert [verdict_of(m) for m in pull(stack.verdicts, expect=2, timeout=30)] == [("phase5", DAY)]


def test_the_state_survives_a_restart_of_the_service(stack: Stack, tmp_path: Path) -> None:
    [message] = phase_messages("5", DAY)
    stack.publish_acked([message])
    assert len(pull(stack.verdicts, expect=1, timeout=180)) == 1

    port = stack.service.port
    stack.service.stop()
    stack.service = ServiceProcess(stack.service.env, tmp_path / "service-2.log", port=port).start()
    stack.publish_acked([message])  # the same body again, to the new process: a duplicate
    assert pull(stack.verdicts, expect=1, timeout=5) == []
    assert stack.runs() == {"phase5": 1}
    assert stack.alerted_phases() == Counter({"phase5": 1})
