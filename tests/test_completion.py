"""Completion tracking on a real LocalFiles store: which deliveries are new, when a round is claimed,
and who runs it. No warehouse: these are the rules, the service tests drive them through real runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from runners.completion import (
    BUSY,
    DONE,
    DUPLICATE,
    RELEASED,
    RUN,
    SUPERSEDED,
    WAITING,
    Decision,
    finish_round,
    phase_claims,
    record_report,
)
from runners.messages import Malformed, Report, Unknown, parse_envelope
from state.store import LocalFiles
from tests.pubsub_push import PHASE3, PHASE4_OTHERS, body, envelope, like

LEASE = timedelta(seconds=660)
T0 = datetime(2025, 12, 31, 12, 0, tzinfo=timezone.utc)
INDEX = {
    **{name: "phase3" for name in PHASE3},
    **{name: "phase4" for name in ["MLFeatureStoreProcessor", "PlayerDailyCacheProcessor", *PHASE4_OTHERS]},
    "PredictionCoordinator": "phase5",
    "Phase5BGrading": "phase5b",
    "Phase6Export": "phase6",
}


def report(data: dict[str, Any], message_id: str | None = None) -> Report:
    parsed = parse_envelope(envelope(data, message_id), INDEX)
    assert isinstance(parsed, Report), parsed
    return parsed


def deliver(store: LocalFiles, data: dict[str, Any], owner: str = "a", now: datetime = T0) -> Decision:
    parsed = report(data)
    processors = [name for name, checkpoint in INDEX.items() if checkpoint == parsed.checkpoint]
    return record_report(store, parsed, processors, owner, now, LEASE)


def done(store: LocalFiles, decision: Decision, checkpoint: str, owner: str = "a") -> None:
    assert decision.kind == RUN and decision.round is not None
    day = datetime(2025, 12, 30).date()
    assert finish_round(store, checkpoint, day, decision.round, owner, DONE, {"verdict": "pass"}, T0)


@pytest.fixture
def store(tmp_path: Path) -> LocalFiles:
    return LocalFiles(tmp_path / "state")


def test_every_fixture_parses_into_its_phase_with_its_date_and_counts() -> None:
    grading = report(body("Phase5BGrading"))
    assert (grading.checkpoint, str(grading.game_date), grading.execution_id) == ("phase5b", "2025-12-30", None)
    assert grading.details["graded_count"] == 2291 and grading.execution == grading.published_at
    export = report(body("Phase6Export"))
    assert export.checkpoint == "phase6" and export.details["paths"]["tonight_players"][0].startswith("gs://")
    batch = report(body("PredictionCoordinator"))
    assert (batch.record_count, batch.details["completion_pct"]) == (296, 98.99665551839465)
    cache = report(body("PlayerDailyCacheProcessor"))
    assert (cache.checkpoint, cache.output_table, cache.execution_id) == ("phase4", "player_daily_cache", "7d05b3fe")
    claim = cache.as_claim()
    assert (claim.processor, claim.status, claim.record_count) == ("PlayerDailyCacheProcessor", "success", 302)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "not JSON"),
        ("%%%not-base64%%%", "not valid base64"),
        (b'{"processor_name": "PredictionCoordinator", "status": "success"}', "no game_date"),
        (b'{"processor_name": "Phase6Export", "status": "success", "target_date": "2025-13-45"}', "not a date"),
        (b'{"processor_name": "Phase6Export", "status": "success", "game_date": "2025-12-30", "record_count": NaN}',
         "not JSON"),
        (b'{"processor_name": "Phase6Export", "status": "success", "game_date": "2025-12-30", "record_count": "9"}',
         "record_count"),
        (b'{"processor_name": "Phase6Export", "status": "success", "game_date": "2025-12-30", "mae": 1e999}',
         "mae is not a finite number"),
        (b"[1, 2]", "not an object"),
    ],
)  # fmt: skip
def test_malformed_bodies_say_why(data: bytes | str, reason: str) -> None:
    parsed = parse_envelope(envelope(data, "m-1"), INDEX)
    assert isinstance(parsed, Malformed) and reason in parsed.reason and parsed.message_id == "m-1"


def test_a_processor_no_table_lists_is_unknown() -> None:
    parsed = parse_envelope(envelope(like("Phase6Export", processor_name="Phase7Magic")), INDEX)
    assert isinstance(parsed, Unknown) and parsed.processor == "Phase7Magic"


def test_phase3_waits_for_every_processor_and_claims_once_complete(store: LocalFiles) -> None:
    for name in PHASE3[:-1]:
        assert deliver(store, body(name)).kind == WAITING
    assert deliver(store, body(PHASE3[0])).kind == DUPLICATE  # a redelivery while waiting
    last = deliver(store, body(PHASE3[-1]))
    assert (last.kind, last.round) == (RUN, 1)
    claims = phase_claims(last.reports)
    assert sorted(report.processor for report in claims.reports) == sorted(PHASE3)


def test_redelivery_while_running_is_busy_then_a_duplicate_once_done(store: LocalFiles) -> None:
    first = deliver(store, body("PredictionCoordinator"))
    assert first.kind == RUN
    assert deliver(store, body("PredictionCoordinator"), owner="b").kind == BUSY
    done(store, first, "phase5")
    assert deliver(store, body("PredictionCoordinator"), owner="b").kind == DUPLICATE


def test_phase5_republished_with_a_new_timestamp_is_a_duplicate_unless_its_counts_changed(store: LocalFiles) -> None:
    done(store, deliver(store, body("PredictionCoordinator")), "phase5")
    again = like("PredictionCoordinator", timestamp="2025-12-30T17:02:10.118000+00:00", duration_seconds=1000.0)
    assert deliver(store, again).kind == DUPLICATE
    metadata = {**body("PredictionCoordinator")["metadata"], "total_predictions": 2376}
    more = like("PredictionCoordinator", timestamp="2025-12-30T17:03:00.000000+00:00", metadata=metadata)
    rerun = deliver(store, more)
    assert (rerun.kind, rerun.round) == (RUN, 2)
    assert rerun.reports["PredictionCoordinator"]["details"]["total_predictions"] == 2376


def test_player_daily_cache_reporting_twice_runs_phase4_again_and_a_late_older_run_is_superseded(
    store: LocalFiles,
) -> None:
    for name in PHASE4_OTHERS:
        assert (
            deliver(store, like("MLFeatureStoreProcessor", processor_name=name, execution_id=name[:8])).kind == WAITING
        )
    assert deliver(store, body("MLFeatureStoreProcessor")).kind == WAITING
    first = deliver(store, body("PlayerDailyCacheProcessor"))
    assert first.kind == RUN
    done(store, first, "phase4")
    second_run = like("PlayerDailyCacheProcessor", execution_id="9e1f2a3b", timestamp="2025-12-31T11:20:00+00:00")
    second = deliver(store, second_run)
    assert (second.kind, second.round) == (RUN, 2)
    done(store, second, "phase4")
    late = like("PlayerDailyCacheProcessor", execution_id="00aa11bb", timestamp="2025-12-30T15:00:00+00:00")
    assert deliver(store, late).kind == SUPERSEDED


def test_grading_redelivered_is_a_duplicate_and_a_new_grading_run_is_judged_again(store: LocalFiles) -> None:
    done(store, deliver(store, body("Phase5BGrading")), "phase5b")
    assert deliver(store, body("Phase5BGrading")).kind == DUPLICATE
    regraded = like("Phase5BGrading", timestamp="2025-12-31T15:00:00+00:00", graded_count=2360)
    assert deliver(store, regraded).kind == RUN


def test_a_claim_older_than_the_lease_is_taken_over_and_the_old_owner_cannot_finish_it(store: LocalFiles) -> None:
    first = deliver(store, body("Phase6Export"), owner="killed")
    assert first.kind == RUN
    assert deliver(store, body("Phase6Export"), owner="b", now=T0 + LEASE - timedelta(seconds=1)).kind == BUSY
    takeover = deliver(store, body("Phase6Export"), owner="b", now=T0 + LEASE)
    assert (takeover.kind, takeover.round, takeover.taken_over_from) == (RUN, 1, "killed")
    day = datetime(2025, 12, 30).date()
    assert not finish_round(store, "phase6", day, 1, "killed", DONE, {"verdict": "pass"}, T0)
    assert finish_round(store, "phase6", day, 1, "b", DONE, {"verdict": "pass"}, T0)


def test_a_released_round_is_claimed_again_by_the_next_delivery(store: LocalFiles) -> None:
    first = deliver(store, body("Phase6Export"))
    day = datetime(2025, 12, 30).date()
    assert finish_round(store, "phase6", day, 1, "a", RELEASED, {"error": "warehouse unreachable"}, T0)
    retry = deliver(store, body("Phase6Export"), owner="b")
    assert (first.round, retry.kind, retry.round) == (1, RUN, 2)


@pytest.mark.parametrize(
    ("name", "sent", "meant"),
    [
        ("Phase5BGrading", "skipped", "no_data"),
        ("Phase5BGrading", "auto_heal_pending", "no_data"),
        ("Phase5BGrading", "auto_heal_failed", "failed"),
        ("Phase6Export", "analytics_not_ready", "failed"),
        ("Phase6Export", "validation_failed", "failed"),
        ("Phase6Export", "unknown", "failed"),
        ("Phase6Export", "partial", "partial"),
    ],
)
def test_grading_and_phase6_statuses_are_mapped_and_the_status_sent_is_kept(name: str, sent: str, meant: str) -> None:
    parsed = report(like(name, status=sent))
    assert parsed.status == meant
    assert parsed.details.get("reported_status", parsed.status) == sent


def test_a_re_report_during_a_run_is_busy_and_its_redelivery_runs_the_next_round(store: LocalFiles) -> None:
    first = deliver(store, body("PredictionCoordinator"))
    metadata = {**body("PredictionCoordinator")["metadata"], "total_predictions": 2376}
    more = like("PredictionCoordinator", timestamp="2025-12-30T17:03:00.000000+00:00", metadata=metadata)
    assert deliver(store, more, owner="b").kind == BUSY  # kept in the document, answered 503
    done(store, first, "phase5")
    again = deliver(store, more, owner="b")
    assert (again.kind, again.round) == (RUN, 2)


def test_a_message_id_that_is_not_a_plain_name_does_not_name_the_record(tmp_path: Path) -> None:
    from runners.events import PushContext, handle_push
    from warehouse.settings import load_settings

    store = LocalFiles(tmp_path / "state")
    context = PushContext(store, "a", lambda: T0)
    outcome = handle_push(load_settings({}), {}, envelope(b"{not json", "../../escape"), context)
    assert outcome.outcome == "malformed"
    [name] = store.list("messages/")
    assert name.startswith("messages/") and "escape" not in name
    assert not (tmp_path / "escape.json").exists()
