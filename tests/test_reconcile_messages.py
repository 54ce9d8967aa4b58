"""The platform's real completion messages (tests/fixtures/pubsub) map onto the claim checks.

Each body is read as the service reads it (runners/messages.py) and judged; the counts against the
warehouse are tests/test_reconcile.py's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from expectations.claim_rows import PLAYERS, ROWS, ClaimContext, ClaimRow, judge
from expectations.claims import PhaseClaims, ProcessorReport
from runners.messages import Report, parse_envelope
from tests.gcs_server import gcs_server
from warehouse.catalog import FEATURE_STORE, PLAYER_GAME_SUMMARY, PREDICTION_ACCURACY, PREDICTIONS
from warehouse.exports import GcsExportStore, gcs_client

FIXTURES = Path(__file__).parent / "fixtures" / "pubsub"
DATASETS = {"raw": "nba_raw", "analytics": "nba_analytics", "predictions": "nba_predictions"}
UNIFIED = {"phase_3_analytics", "phase_4_precompute", "phase_5_predictions"}  # UnifiedPubSubPublisher's


def message(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def as_report(body: dict[str, Any]) -> ProcessorReport:
    """The service's own reading of the message (runners/messages.py), as the claim it hands on."""
    envelope = {"message": {"data": base64.b64encode(json.dumps(body).encode()).decode(), "messageId": "1"}}
    report = parse_envelope(envelope, {body["processor_name"]: "any"})
    assert isinstance(report, Report), report
    return report.as_claim()


def judged(checkpoint: str, *names: str, exports: Any = None) -> list[ClaimRow]:
    claims = PhaseClaims(tuple(as_report(message(name)) for name in names))
    return judge(claims, ClaimContext(checkpoint, DATASETS, 80, exports))


def failing(rows: list[ClaimRow]) -> dict[tuple[str, str], str | None]:
    return {(row.check, row.processor): row.note for row in rows if row.failed}


def noted(rows: list[ClaimRow]) -> list[tuple[str, str, str]]:
    """Counts reported without failing: a table nba-dq does not read."""
    return [
        (row.check, row.processor, row.note) for row in rows if not row.failed and "not reconciled" in (row.note or "")
    ]


def counted(rows: list[ClaimRow]) -> dict[tuple[str, str], tuple[int | None, str, str]]:
    return {
        (row.processor, row.field): (row.claimed_count, row.landed.table.name, row.landed.unit)
        for row in rows
        if row.landed is not None
    }


PHASE3 = [f"nba-phase3-analytics-complete--{name}Processor" for name in (
    "PlayerGameSummary", "TeamDefenseGameSummary", "TeamOffenseGameSummary", "UpcomingPlayerGameContext",
    "UpcomingTeamGameContext")]  # fmt: skip


def test_phase3_messages() -> None:
    rows = judged("phase3", *PHASE3)
    assert counted(rows) == {
        ("PlayerGameSummaryProcessor", "record_count"): (231, PLAYER_GAME_SUMMARY.name, ROWS),
        ("UpcomingPlayerGameContextProcessor", "record_count"): (302, "upcoming_player_game_context", ROWS),
    }
    assert failing(rows) == {}
    assert {(name, processor): note for name, processor, note in noted(rows)} == {
        ("claim_table_known", f"{team}Processor"): f"nba_analytics.{table} is not in the nba-dq catalog, so its"
        " count is not reconciled"
        for team, table in (
            ("TeamDefenseGameSummary", "team_defense_game_summary"),
            ("TeamOffenseGameSummary", "team_offense_game_summary"),
            ("UpcomingTeamGameContext", "upcoming_team_game_context"),
        )
    }


def test_phase3_failed_message() -> None:
    rows = judged("phase3", "nba-phase3-analytics-complete--PlayerGameSummaryProcessor--status-failed")
    assert failing(rows) == {("claim_status_not_failed", "PlayerGameSummaryProcessor"): "reported failed"}
    assert counted(rows) == {("PlayerGameSummaryProcessor", "record_count"): (0, PLAYER_GAME_SUMMARY.name, ROWS)}


def test_phase4_messages() -> None:
    rows = judged(
        "phase4",
        "nba-phase4-precompute-complete--MLFeatureStoreProcessor",
        "nba-phase4-precompute-complete--PlayerDailyCacheProcessor",
    )
    assert counted(rows) == {("MLFeatureStoreProcessor", "record_count"): (298, FEATURE_STORE.name, ROWS)}
    assert failing(rows) == {}
    assert [(name, processor) for name, processor, _ in noted(rows)] == [
        ("claim_table_known", "PlayerDailyCacheProcessor")
    ]


def test_phase5_live_message_counts_players_and_lacks_stall_and_failures() -> None:
    rows = judged("phase5", "nba-phase5-predictions-complete--PredictionCoordinator")
    assert counted(rows) == {
        ("PredictionCoordinator", "record_count"): (296, PREDICTIONS.name, PLAYERS),
        ("PredictionCoordinator", "completed_predictions"): (296, PREDICTIONS.name, PLAYERS),
        ("PredictionCoordinator", "total_predictions"): (2368, PREDICTIONS.name, ROWS),
    }
    # completion_pct 98.99 passes; stall_detected is not carried (shown, not failed); its failures come as
    # records_failed: 3 players failed
    assert failing(rows) == {("claim_batch_no_failed_predictions", "PredictionCoordinator"): "3 predictions failed"}
    assert [(row.check, row.note) for row in rows if not row.failed and "not judged" in (row.note or "")] == [
        ("claim_batch_not_stalled", "the message carries no stall_detected, not judged")
    ]


def test_phase5_legacy_summary_claims_nothing() -> None:
    rows = judged("phase5", "nba-phase5-predictions-complete--PredictionCoordinator-legacy-batch-summary")
    assert failing(rows) == {
        ("claim_batch_complete", "PredictionCoordinator"): (
            "claims nothing (0 expected, 0 completed), as the legacy batch summary metadata does"
        )
    }
    assert counted(rows)[("PredictionCoordinator", "record_count")] == (0, PREDICTIONS.name, PLAYERS)


def test_grading_message() -> None:
    rows = judged("phase5b", "nba-grading-complete--Phase5BGrading")
    assert failing(rows) == {}
    assert counted(rows) == {("Phase5BGrading", "graded_count"): (2291, PREDICTION_ACCURACY.name, ROWS)}


PLATFORM_EXPORTS = "nba-props-platform-api"  # the production export root, gs://nba-props-platform-api/v1


@contextmanager
def stored_objects(names: set[str]) -> Iterator[GcsExportStore]:
    """The export root as a (fake) GCS server holds it: these objects under v1/, looked up by listing."""
    with gcs_server(PLATFORM_EXPORTS):
        bucket = gcs_client().bucket(PLATFORM_EXPORTS)
        for name in names:
            bucket.blob(f"v1/{name}").upload_from_string(b"{}")
        yield GcsExportStore(PLATFORM_EXPORTS, "v1")


def test_phase6_message_paths_are_looked_up_under_the_export_root() -> None:
    body = message("nba-phase6-export-complete--Phase6Export")
    relative = {path.removeprefix("gs://nba-props-platform-api/v1/") for path in flat(body["paths"])}
    assert len(relative) == 16  # 13 keys with one path, tonight_players a list of 3
    with stored_objects(relative) as exports:
        rows = judged("phase6", "nba-phase6-export-complete--Phase6Export", exports=exports)
    assert failing(rows) == {}
    held = relative - {"tonight/player/2025-12-30/lebronjames.json"}
    with stored_objects(held | {"tonight/player/2025-12-30/lebronjames.json.tmp"}) as exports:
        rows = judged("phase6", "nba-phase6-export-complete--Phase6Export", exports=exports)
    assert failing(rows) == {
        ("claim_export_paths_exist", "Phase6Export"): (
            "missing: gs://nba-props-platform-api/v1/tonight/player/2025-12-30/lebronjames.json"
        )
    }


def test_phase6_errors_and_paths_outside_the_root() -> None:
    body = {**message("nba-phase6-export-complete--Phase6Export"), "status": "partial"}
    body["errors"] = ["tonight: NotFound: 404", "streaks: TimeoutError"]
    body["paths"] = {"tonight": "gs://another-bucket/v1/tonight/2025-12-30.json", "signal_best_bets": None}
    claims = PhaseClaims((as_report(body),))
    rows = judge(claims, ClaimContext("phase6", DATASETS, 80, GcsExportStore(PLATFORM_EXPORTS, "v1")))
    assert failing(rows) == {
        ("claim_status_success", "Phase6Export"): "reported partial",
        ("claim_export_errors_empty", "Phase6Export"): "2 errors: tonight: NotFound: 404; streaks: TimeoutError",
        ("claim_export_paths_exist", "Phase6Export"): (
            "not under the export root gs://nba-props-platform-api/v1/, not checked"
        ),
    }


def flat(paths: dict[str, Any]) -> list[str]:
    return [p for value in paths.values() if value for p in (value if isinstance(value, list) else [value])]


def test_values_in_a_shape_nba_dq_cannot_read_are_not_judged() -> None:
    """A bool is no count, NaN no percentage, "yes" no boolean: each fails saying so, never passes."""
    details = {"completion_pct": float("nan"), "stall_detected": "yes", "failed_predictions": True}
    claims = PhaseClaims((ProcessorReport("PredictionCoordinator", "", "player_prop_predictions", True, details),))
    rows = judge(claims, ClaimContext("phase5", DATASETS, 80))
    assert failing(rows) == {
        ("claim_status_success", "PredictionCoordinator"): "the message carries no status",
        ("claim_rows_landed", "PredictionCoordinator"): "not a count (True), not judged",
        ("claim_batch_complete", "PredictionCoordinator"): "not a percentage (nan), not judged",
        ("claim_batch_not_stalled", "PredictionCoordinator"): "not a boolean (yes), not judged",
        ("claim_batch_no_failed_predictions", "PredictionCoordinator"): "not a count (True), not judged",
    }
