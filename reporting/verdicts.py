"""Each run's verdict published to a Pub/Sub topic (`[service] verdict_topic`), for the platform to gate on.

The message body is the verdict as `nba-dq run --json` prints it (checkpoints/summary.py `to_json`),
a phase that could not run included (status "error"). Its attributes let a subscriber filter without
parsing the body: `phase` (phase3 … phase6), `game_date`, `status` (pass | fail | error) and `run_id`,
the idempotency key: Pub/Sub delivers at least once, and a verdict re-published after a crash or a
redelivery carries the same `run_id`, so a consumer keeps the first and drops the rest.

A publish that fails raises VerdictNotPublished, never silently: the service answers 5xx so Pub/Sub
redelivers the event (and the verdict is published then); the CLI logs it. The client honours
PUBSUB_EMULATOR_HOST (tests run against Google's emulator on 127.0.0.1).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from checkpoints.summary import RunSummary, to_json
from warehouse.errors import CouldNotRun, one_line

if TYPE_CHECKING:
    from google.cloud.pubsub_v1 import PublisherClient

log = logging.getLogger(__name__)

PAGE_KEYS = ("data_docs", "data_docs_pages")  # where a run's pages are: another run, other paths
CHECK_PAGE_KEYS = ("page",)  # where a check's page is, in each of the verdict's checks
EMULATOR_HOST = "PUBSUB_EMULATOR_HOST"  # google-cloud-pubsub's own variable: a local emulator, no credentials
TOPIC_PATH = re.compile(r"projects/[^/]+/topics/[^/]+")
# Long enough for Pub/Sub's own retries of a transient error, well inside a push's ack deadline (the
# service answers before Pub/Sub gives up on the delivery).
PUBLISH_TIMEOUT_SECONDS = 30.0


class VerdictNotPublished(CouldNotRun):
    """The verdict could not be published (topic unreachable, missing, or refused): a transient failure
    for the service (5xx, so Pub/Sub redelivers), a logged line for the CLI."""


class VerdictPublisher:
    """Publishes RunSummaries to one topic. One per process: the client keeps its channel open."""

    def __init__(
        self, topic: str, client: PublisherClient | None = None, timeout_seconds: float = PUBLISH_TIMEOUT_SECONDS
    ) -> None:
        if not TOPIC_PATH.fullmatch(topic):
            raise ValueError(f"verdict topic {topic!r} is not a full topic path: use projects/PROJECT/topics/TOPIC")
        self.topic = topic
        self.timeout_seconds = timeout_seconds
        self._client = client

    @property
    def client(self) -> PublisherClient:
        if self._client is None:  # google-cloud-pubsub loads only when a verdict is published
            from google.cloud.pubsub_v1 import PublisherClient

            self._client = PublisherClient()
        return self._client

    def publish(self, summary: RunSummary, run_id: str | None = None) -> str:
        """Publish one verdict and wait until Pub/Sub has it; returns its message id."""
        return self.publish_document(to_json(summary), run_id)

    def publish_document(self, verdict: Mapping[str, Any], run_id: str | None = None) -> str:
        """Publish a verdict as `to_json` gives it (a service re-publishing a stored verdict after a
        crash has no RunSummary any more). `run_id` is the idempotency key; without it, the verdict's
        own key (verdict_key)."""
        body = json.dumps(verdict, default=str).encode()
        attributes = verdict_attributes(verdict, run_id or verdict_key(verdict))
        what = f"verdict {verdict.get('phase')} {verdict.get('game_date')}"
        try:
            future = self.client.publish(
                self.topic,
                body,
                retry=_transient_retry(self.timeout_seconds),
                timeout=self.timeout_seconds,
                **attributes,
            )
            message_id = str(future.result(timeout=self.timeout_seconds * 2))
        except Exception as error:  # any failure of the client or the service: the caller decides (5xx, log)
            raise VerdictNotPublished(
                f"{what} not published to {self.topic}: {type(error).__name__}: {one_line(str(error))[:300]}"
            ) from error
        log.info("%s %s published to %s as %s", what, attributes["status"], self.topic, message_id)
        return message_id

    def __call__(self, summary: RunSummary) -> None:
        """A reporting handler (reporting/reporter.py): publish with the verdict's own key."""
        self.publish(summary)

    def close(self) -> None:
        """Sends what is batched and closes the channel."""
        if self._client is not None:
            self._client.stop()
            self._client = None


def shared_publisher(topic: str) -> VerdictPublisher:
    """The process's publisher for `topic`: a command or the service builds its reporting per run, and
    each new client would open a channel and threads of its own. Keyed by the emulator host too, which
    the client reads from the environment when it is created."""
    return _publisher(topic, os.environ.get(EMULATOR_HOST))


@functools.cache
def _publisher(topic: str, emulator_host: str | None) -> VerdictPublisher:
    return VerdictPublisher(topic)


def verdict_attributes(verdict: Mapping[str, Any], run_id: str) -> dict[str, str]:
    """What a subscriber filters on (Pub/Sub attributes are strings)."""
    return {"phase": str(verdict["phase"]), "game_date": str(verdict["game_date"]), "status": str(verdict["status"]),
            "run_id": run_id}  # fmt: skip


def verdict_key(verdict: Mapping[str, Any]) -> str:
    """The idempotency key of a verdict: a digest of what it says (phase, date, status, each check's
    outcome, the error), not of where its pages are. A run repeated after a crash or a redelivery on the
    same data says the same and gets the same key; a run on changed data (a backfill) gets another."""
    substance = {key: value for key, value in verdict.items() if key not in PAGE_KEYS}
    if isinstance(substance.get("checks"), list):  # each check names its page too (`run --json`'s "page")
        substance["checks"] = [
            {key: value for key, value in check.items() if key not in CHECK_PAGE_KEYS} if isinstance(check, dict)
            else check
            for check in substance["checks"]
        ]  # fmt: skip
    digest = hashlib.sha256(json.dumps(substance, sort_keys=True, default=str).encode()).hexdigest()
    return f"{substance['phase']}-{substance['game_date']}-{digest[:24]}"


def _transient_retry(timeout_seconds: float) -> Any:
    """The publisher's own retry policy (transient gRPC errors), bounded by our timeout instead of 10 minutes."""
    from google.api_core import exceptions
    from google.api_core.retry import Retry, if_exception_type

    transient = (exceptions.Aborted, exceptions.Cancelled, exceptions.DeadlineExceeded, exceptions.InternalServerError,
                 exceptions.ResourceExhausted, exceptions.ServiceUnavailable, exceptions.Unknown)  # fmt: skip
    return Retry(predicate=if_exception_type(*transient), timeout=timeout_seconds)
