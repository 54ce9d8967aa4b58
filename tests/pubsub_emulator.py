"""Google's Pub/Sub emulator on 127.0.0.1, started and stopped by the tests themselves.

It is the jar the Cloud SDK installs (`gcloud components install pubsub-emulator`), run with Java
directly: one process in a session of its own, so stopping it stops everything it started. Without
gcloud, the jar or Java, the tests that need it are skipped with one line saying what is missing.
The emulator keeps everything in memory: topics and subscriptions last as long as the process.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.child_process import free_port, stop_group, wait_answering

PROJECT = "test-project"
START_SECONDS = 60
EMULATOR_HOST = "PUBSUB_EMULATOR_HOST"


def emulator_jar() -> tuple[str, str]:
    """(java, jar), or pytest.skip saying which is missing."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.skip("Pub/Sub emulator: gcloud (the Cloud SDK) is not installed")
    sdk_root = subprocess.run(
        [gcloud, "info", "--format=value(installation.sdk_root)"], capture_output=True, text=True, timeout=60
    ).stdout.strip()
    jars = sorted(glob.glob(f"{sdk_root}/platform/pubsub-emulator/lib/cloud-pubsub-emulator-*.jar"))
    if not jars:
        pytest.skip(f"Pub/Sub emulator: no jar under {sdk_root}/platform/pubsub-emulator (gcloud components install)")
    java = shutil.which("java")
    if java is None:
        pytest.skip("Pub/Sub emulator: java (17 or later) is not installed")
    return java, jars[-1]


@dataclass(frozen=True)
class Emulator:
    host: str  # 127.0.0.1:PORT, the value of PUBSUB_EMULATOR_HOST
    project: str = PROJECT

    def topic(self, name: str) -> str:
        return f"projects/{self.project}/topics/{name}"

    def subscription(self, name: str) -> str:
        return f"projects/{self.project}/subscriptions/{name}"


@contextmanager
def pubsub_emulator(log: Path, project: str = PROJECT) -> Iterator[Emulator]:
    """Yields the running emulator; PUBSUB_EMULATOR_HOST is set in this process while the block runs
    (the client libraries read it from os.environ). The emulator stops when the block ends."""
    java, jar = emulator_jar()
    port = free_port()
    command = [java, "-jar", jar, "--host=127.0.0.1", f"--port={port}"]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    host = f"127.0.0.1:{port}"
    previous = os.environ.get(EMULATOR_HOST)
    try:
        # the emulator answers "Ok" on /
        wait_answering(f"http://{host}/", process, "Pub/Sub emulator", START_SECONDS, lambda: log.read_text()[-2000:])
        os.environ[EMULATOR_HOST] = host
        yield Emulator(host, project)
    finally:
        if previous is None:
            os.environ.pop(EMULATOR_HOST, None)
        else:
            os.environ[EMULATOR_HOST] = previous
        stop_group(process)


def create_topic(emulator: Emulator, name: str) -> str:
    from google.cloud import pubsub_v1

    topic = emulator.topic(name)
    pubsub_v1.PublisherClient().create_topic(name=topic)
    return topic


def create_pull_subscription(emulator: Emulator, topic: str, name: str) -> str:
    from google.cloud import pubsub_v1

    subscription = emulator.subscription(name)
    with pubsub_v1.SubscriberClient() as subscriber:
        subscriber.create_subscription(name=subscription, topic=topic, ack_deadline_seconds=60)
    return subscription


def create_push_subscription(
    emulator: Emulator, topic: str, name: str, endpoint: str, ack_deadline_seconds: int = 600
) -> str:
    """A push subscription delivering to `endpoint` (an http:// URL on 127.0.0.1): the emulator POSTs
    the push envelope and redelivers what is not answered 2xx (after a backoff, or the ack deadline)."""
    from google.cloud import pubsub_v1

    subscription = emulator.subscription(name)
    with pubsub_v1.SubscriberClient() as subscriber:
        subscriber.create_subscription(
            name=subscription,
            topic=topic,
            push_config=pubsub_v1.types.PushConfig(push_endpoint=endpoint),
            ack_deadline_seconds=ack_deadline_seconds,
        )
    return subscription


@dataclass(frozen=True)
class Pulled:
    data: bytes
    attributes: dict[str, str]
    message_id: str


def pull(subscription: str, expect: int, timeout: float = 30, at_most: int = 100) -> list[Pulled]:
    """Pulls and acks messages until `expect` arrived or `timeout` passed; returns all it got (a test
    wanting exactly N asks for N and checks nothing more arrives with a short second pull)."""
    from google.api_core.exceptions import DeadlineExceeded
    from google.cloud import pubsub_v1

    received: list[Pulled] = []
    deadline = time.monotonic() + timeout
    with pubsub_v1.SubscriberClient() as subscriber:
        while len(received) < expect and time.monotonic() < deadline:
            try:
                response = subscriber.pull(
                    subscription=subscription, max_messages=at_most, return_immediately=True, timeout=10
                )
            except DeadlineExceeded:
                continue
            if not response.received_messages:
                time.sleep(0.2)
                continue
            subscriber.acknowledge(
                subscription=subscription, ack_ids=[message.ack_id for message in response.received_messages]
            )
            received += [
                Pulled(m.message.data, dict(m.message.attributes), m.message.message_id)
                for m in response.received_messages
            ]
    return received


def publish(topic: str, data: bytes, **attributes: str) -> str:
    """Publishes one message as the platform does (its data the completion message's JSON); its id."""
    from google.cloud import pubsub_v1

    return str(pubsub_v1.PublisherClient().publish(topic, data, **attributes).result(timeout=30))
