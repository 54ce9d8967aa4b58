"""The platform's real completion messages (tests/fixtures/pubsub) as Pub/Sub push deliveries, and an
`nba-dq serve` app on a test's workspace (Flask's test client: the HTTP layer without a socket)."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runners.auth import Verifier
from runners.events import PushContext
from runners.service import create_app
from state.store import StateStore, open_store
from tests.conftest import Workspace
from warehouse.settings import load_settings

FIXTURES = Path(__file__).parent / "fixtures" / "pubsub"
GAME_DATE = "2025-12-30"  # the fixtures' date; in the seeded month only grading fails on it (grading_half_coverage)
PUSH = "/pubsub/push"
PHASE3 = [
    "PlayerGameSummaryProcessor",
    "TeamDefenseGameSummaryProcessor",
    "TeamOffenseGameSummaryProcessor",
    "UpcomingPlayerGameContextProcessor",
    "UpcomingTeamGameContextProcessor",
]
PHASE4_FIXTURES = ["MLFeatureStoreProcessor", "PlayerDailyCacheProcessor"]
PHASE4_OTHERS = [
    "TeamDefenseZoneAnalysisProcessor",
    "PlayerShotZoneAnalysisProcessor",
    "PlayerCompositeFactorsProcessor",
]
NO_AUTH = {"NBA_DQ_PUSH_AUTH": "off"}
CLOCK = datetime(2025, 12, 31, 12, 0, tzinfo=timezone.utc)  # the morning after the fixtures' game date
_message_ids = itertools.count(17_208_463_751_000_000)


def body(name: str) -> dict[str, Any]:
    """A fixture's decoded body, by its file name after the topic (e.g. "PlayerGameSummaryProcessor")."""
    matches = sorted(FIXTURES.glob(f"*--{name}.json"))
    assert len(matches) == 1, f"{name}: {matches}"
    return dict(json.loads(matches[0].read_text()))


def envelope(data: Mapping[str, Any] | bytes | str, message_id: str | None = None) -> dict[str, Any]:
    """A push delivery of `data` (a body, raw bytes, or text taken as already base64)."""
    if isinstance(data, Mapping):
        data = json.dumps(data).encode()
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {
        "message": {
            "data": encoded,
            "attributes": {},
            "messageId": message_id or str(next(_message_ids)),
            "publishTime": "2025-12-31T11:12:41.612Z",
        },
        "subscription": "projects/nba-props-platform/subscriptions/nba-dq-push",
    }


def like(name: str, **changes: Any) -> dict[str, Any]:
    """Another processor's report shaped like the fixture `name` (the platform's publisher builds all alike)."""
    return {**body(name), **changes}


class Service:
    """The app on a workspace, its state store and the fixed clock; `post` returns (status, JSON)."""

    def __init__(
        self,
        workspace: Workspace,
        env: Mapping[str, str] | None = None,
        store: StateStore | None = None,
        verifier: Verifier | None = None,
        owner: str = "test-instance",
    ) -> None:
        self.env = {**workspace.env, **NO_AUTH, **(env or {})}
        self.settings = load_settings(self.env)
        self.store = store or open_store(self.settings)  # the GX folder's uncommitted/, as the CLI's sweep finds it
        self.now = CLOCK
        self.context = PushContext(self.store, owner, lambda: self.now)
        self.app = create_app(self.settings, self.env, verifier=verifier, context=self.context)

    def post(self, delivery: Any, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        client = self.app.test_client()
        if isinstance(delivery, (bytes, str)):
            response = client.post(PUSH, data=delivery, headers=dict(headers or {}), content_type="application/json")
        else:
            response = client.post(PUSH, json=delivery, headers=dict(headers or {}))
        return response.status_code, dict(response.get_json())

    def document(self, checkpoint: str, day: str = GAME_DATE) -> dict[str, Any]:
        stored = self.store.read(f"events/{checkpoint}/{day}.json")
        assert stored is not None
        return dict(stored.document)

    def history_runs(self, checkpoint: str) -> list[str]:
        from reporting.history import read_history

        sql = f"SELECT DISTINCT run_id FROM nba_monitoring.dq_check_results WHERE phase = '{checkpoint}'"
        return sorted(row[0] for row in read_history(self.settings, sql, "test"))
