"""The platform's real completion messages (tests/fixtures/pubsub, 2025-12-30), for any seeded date.

The fixtures hold one message per processor the platform publishes for 2025-12-30, but only two of
the five Phase 4 processors: the three others are built from the ML feature store's message with
their own processor and table names (the same function publishes all five: precompute_base.py).
Re-dating a message changes `game_date` (Phases 3-5) or `target_date` (grading, Phase 6) and every
id and timestamp that embeds the date, nothing else, so the bodies keep the platform's shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "pubsub"
FIXTURE_DATE = "2025-12-30"

# Topic per phase key, as the platform names them (the fixtures' file names start with them).
TOPICS = {
    "3": "nba-phase3-analytics-complete",
    "4": "nba-phase4-precompute-complete",
    "5": "nba-phase5-predictions-complete",
    "5b": "nba-grading-complete",
    "6": "nba-phase6-export-complete",
}
# The Phase 4 processors without a fixture: (class name, output table, dataset), precompute_base.py.
OTHER_PHASE4 = (
    ("TeamDefenseZoneAnalysisProcessor", "team_defense_zone_analysis"),
    ("PlayerShotZoneAnalysisProcessor", "player_shot_zone_analysis"),
    ("PlayerCompositeFactorsProcessor", "player_composite_factors"),
)


@dataclass(frozen=True)
class PlatformMessage:
    phase_key: str
    topic: str  # the topic's short name
    processor: str
    body: dict[str, Any]

    @property
    def data(self) -> bytes:
        return json.dumps(self.body).encode()  # the platform: json.dumps(message, default=str)


def _fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def phase_messages(phase_key: str, game_date: date | str = FIXTURE_DATE) -> list[PlatformMessage]:
    """Every message that completes `phase_key` for `game_date`, in the order the platform sends them
    (the successful ones; the failed Phase 3 fixture and the legacy Phase 5 summary are left out)."""
    topic = TOPICS[phase_key]
    names = sorted(
        path.name
        for path in FIXTURES.glob(f"{topic}--*.json")
        if "status-failed" not in path.name and "legacy" not in path.name
    )
    bodies = [_fixture(name) for name in names]
    if phase_key == "4":
        template = _fixture(f"{topic}--MLFeatureStoreProcessor.json")
        for index, (processor, table) in enumerate(OTHER_PHASE4):
            body = dict(template)
            body.update(
                processor_name=processor,
                output_table=table,
                output_dataset="nba_precompute",
                execution_id=f"4a0{index}c9e5",
                correlation_id=f"4a0{index}c9e5",
                timestamp=f"{FIXTURE_DATE}T15:5{index}:31.40{index}127+00:00",
            )  # before the feature store
            bodies.append(body)
    day = str(game_date)
    return [
        PlatformMessage(phase_key, topic, str(body["processor_name"]), _redated(body, day))
        for body in sorted(bodies, key=lambda body: str(body["timestamp"]))
    ]


def all_messages(game_date: date | str = FIXTURE_DATE) -> list[PlatformMessage]:
    """The date's messages phase after phase (3, 4, 5, 5b, 6)."""
    return [message for key in TOPICS for message in phase_messages(key, game_date)]


def _redated(body: dict[str, Any], day: str) -> dict[str, Any]:
    """The body as the platform would send it for `day`: every date in it moved by the same number of
    days (the timestamps of overnight processors and grading fall on the day after)."""
    shift = date.fromisoformat(day) - date.fromisoformat(FIXTURE_DATE)
    moved = re.sub(r"\d{4}-\d{2}-\d{2}", lambda found: str(date.fromisoformat(found[0]) + shift), json.dumps(body))
    return dict(json.loads(moved))
