"""What the platform's completion messages claim, reconciled with the seeded warehouse and exports.

Claims built from the warehouse's real counts pass on a clean date in every phase; each claim check
fails on its fault (a lying count, a failed or no_data status, a short or stalled batch, grading above
its rows, an export error or a path not written), with the numbers it compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pytest

from checkpoints.phases import PHASES
from checkpoints.run import run_phase, run_phases
from checkpoints.summary import PASS, SKIP, RunSummary
from expectations.check_names import CLAIM_CHECK_NAMES
from expectations.claims import PhaseClaims, ProcessorReport
from tests.conftest import Workspace
from tests.reconcile_claims import DAY, FEATURES, GRADED, ON_DAY, PREDICTIONS, landed, truthful
from warehouse.seed import simulated_run_time

pytestmark = pytest.mark.acceptance


def run(workspace: Workspace, key: str, claims: PhaseClaims | None) -> RunSummary:
    summary = run_phase(workspace.settings, key, DAY, simulated_run_time(DAY), claims=claims)
    assert summary.error is None, summary.error
    return summary


def claim_outcomes(summary: RunSummary) -> dict[str, Any]:
    return {check.name: check for check in summary.checks if check.name.startswith("claim_")}


def failing_claims(summary: RunSummary) -> set[str]:
    """Claim checks that failed (a skip, a check with nothing to judge, is not failing)."""
    return {name for name, check in claim_outcomes(summary).items() if check.status not in (PASS, SKIP)}


@pytest.mark.parametrize("key", list(PHASES), ids=lambda key: f"phase{key}")
def test_claims_the_warehouse_bears_out_pass_on_a_clean_date(seeded: Workspace, key: str) -> None:
    without = run(seeded, key, None)
    summary = run(seeded, key, truthful(seeded)[key])
    checkpoint = PHASES[key].checkpoint
    assert list(claim_outcomes(summary)) == list(CLAIM_CHECK_NAMES[checkpoint])  # declared, in order
    assert failing_claims(summary) == set(), [c for c in summary.failed()]
    assert summary.status == without.status == PASS
    assert [c.name for c in summary.checks][: len(without.checks)] == [c.name for c in without.checks]
    assert not claim_outcomes(without)  # no claims, no claim checks: `nba-dq run` is unchanged


def with_report(claims: PhaseClaims, **changes: Any) -> PhaseClaims:
    """The phase's (first) report with fields or details changed."""
    first, *rest = claims.reports
    details = {**first.details, **changes.pop("details", {})}
    return PhaseClaims((replace(first, **changes, details=details), *rest))


def unwritten(claims: PhaseClaims) -> str:
    """A path under the export root that the seed never wrote."""
    return claims.reports[0].details["paths"]["predictions"].replace("/predictions/", "/streaks/")


# (phase, how the claims lie given the real counts, failing claim checks, text the observed rows show)
Lie = Callable[[PhaseClaims, Mapping[str, int]], PhaseClaims]
LIES: dict[str, tuple[str, Lie, set[str], tuple[str, ...]]] = {
    "box scores claimed 950, fewer landed": (
        "3",
        lambda c, n: with_report(c, record_count=950),
        {"claim_rows_landed"},
        ("'claimed': '950'", "fewer landed than claimed"),
    ),
    "a processor failed": (
        "3",
        lambda c, n: with_report(c, status="failed", record_count=0),
        {"claim_status_not_failed"},
        ("reported failed",),
    ),
    "a processor reported no_data": (
        "4",
        lambda c, n: with_report(c, status="no_data"),
        {"claim_status_success"},
        ("reported no_data",),
    ),
    "features claimed one more row than landed": (
        "4",
        lambda c, n: with_report(c, record_count=n[FEATURES] + 1),
        {"claim_rows_landed"},
        ("fewer landed than claimed",),
    ),
    "batch 62% complete": (
        "5",
        lambda c, n: with_report(c, details={"completion_pct": 62.0}),
        {"claim_batch_complete"},
        ("62.0% completed, below 80%",),
    ),
    "batch stalled": (
        "5",
        lambda c, n: with_report(c, details={"stall_detected": True}),
        {"claim_batch_not_stalled"},
        ("stall detected",),
    ),
    "predictions failed": (
        "5",
        lambda c, n: with_report(c, details={"failed_predictions": 3}),
        {"claim_batch_no_failed_predictions"},
        ("3 predictions failed",),
    ),
    "more players claimed than predicted": (
        "5",
        lambda c, n: with_report(c, record_count=n["players"] + 5, details={"completed_predictions": n["players"] + 5}),
        {"claim_rows_landed"},
        ("'unit': 'players'", "fewer landed than claimed"),
    ),
    "legacy batch summary: 0 of 0": (
        "5",
        lambda c, n: with_report(
            c,
            record_count=0,
            details={
                "expected_predictions": 0,
                "completed_predictions": 0,
                "failed_predictions": 0,
                "completion_pct": 0,
                "stall_detected": False,
            },
        ),
        {"claim_batch_complete"},
        ("claims nothing (0 expected, 0 completed)",),
    ),
    "graded more than prediction_accuracy holds": (
        "5b",
        lambda c, n: with_report(c, details={"graded_count": n[GRADED] + 10}),
        {"claim_rows_landed"},
        ("'unit': 'rows'", "fewer landed than claimed"),
    ),
    "grading skipped": (
        "5b",
        lambda c, n: with_report(c, status="skipped"),
        {"claim_status_success"},
        ("reported skipped",),
    ),
    "export errors": (
        "6",
        lambda c, n: with_report(c, status="partial", details={"errors": ["tonight-players: TimeoutError"]}),
        {"claim_export_errors_empty", "claim_status_success"},
        ("1 errors: tonight-players: TimeoutError", "reported partial"),
    ),
    "export path not written": (
        "6",
        lambda c, n: with_report(c, details={"paths": {**c.reports[0].details["paths"], "streaks": unwritten(c)}}),
        {"claim_export_paths_exist"},
        ("missing: ",),
    ),
}


@pytest.mark.parametrize("lie", LIES, ids=str)
def test_each_claim_check_fails_on_its_lie(seeded: Workspace, lie: str) -> None:
    key, change, failing, shown = LIES[lie]
    counts = landed(seeded)
    claims = change(truthful(seeded)[key], counts)
    summary = run(seeded, key, claims)
    assert failing_claims(summary) == failing
    observed = " ".join(str(claim_outcomes(summary)[name].observed) for name in failing)
    for text in shown:
        assert text in observed, observed


def test_a_lying_record_count_fails_with_both_numbers(scratch: Workspace, sql: Callable[[str], None]) -> None:
    """The brief's case: the coordinator says it wrote 950 predictions when 400 landed."""
    sql(
        f"DELETE FROM {PREDICTIONS} WHERE {ON_DAY} AND prediction_id NOT IN"
        f" (SELECT prediction_id FROM {PREDICTIONS} WHERE {ON_DAY} ORDER BY prediction_id LIMIT 400)"
    )
    claims = with_report(truthful(scratch)["5"], details={"total_predictions": 950})
    summary = run(scratch, "5", claims)
    landed_check = claim_outcomes(summary)["claim_rows_landed"]
    assert landed_check.status != PASS and landed_check.severity == "critical"
    rows = [row for row in landed_check.observed if row["field"] == "total_predictions"]
    assert rows == [
        {
            "processor": "PredictionCoordinator",
            "field": "total_predictions",
            "claimed": "950",
            "landed": 400,
            "unit": "rows",
            "note": "fewer landed than claimed",
        }
    ]
    assert summary.status == "fail"


def test_a_table_the_catalog_does_not_know_is_reported_not_skipped(seeded: Workspace) -> None:
    """Three of Phase 3's five processors write tables nba-dq does not read: their counts are shown as
    not reconciled, without failing every run; a processor writing another dataset fails (critical)."""
    claims = truthful(seeded)["3"]
    team = ProcessorReport("TeamDefenseGameSummaryProcessor", "success", "team_defense_game_summary", 18, {})
    elsewhere = ProcessorReport("PlayerGameSummaryProcessor", "success", "nba_analytics_dev.player_game_summary", 1, {})
    summary = run(seeded, "3", PhaseClaims((*claims.reports[1:], team, elsewhere)))
    known = claim_outcomes(summary)["claim_table_known"]
    assert known.status != PASS and known.severity == "critical"
    notes = {row["processor"]: row["note"] for row in known.observed}
    assert notes["TeamDefenseGameSummaryProcessor"] == (
        "team_defense_game_summary is not in the nba-dq catalog, so its count is not reconciled"
    )
    assert notes["PlayerGameSummaryProcessor"] == (
        "nba_analytics_dev.player_game_summary is not nba_analytics.player_game_summary, the table nba-dq reads"
    )
    assert failing_claims(summary) == {"claim_table_known"}
    without_elsewhere = run(seeded, "3", PhaseClaims((*claims.reports, team)))
    assert failing_claims(without_elsewhere) == set() and without_elsewhere.status == PASS


def test_a_claim_the_message_does_not_carry_is_not_a_pass(seeded: Workspace) -> None:
    """A count the message does not carry fails. The live coordinator's message carries no stall_detected
    nor failed_predictions: those are shown as not judged, without failing every day's run."""
    first = truthful(seeded)["5"].reports[0]
    details = {k: v for k, v in first.details.items() if k not in ("stall_detected", "failed_predictions")}
    bare = ProcessorReport(first.processor, "success", first.output_table, None, details)
    summary = run(seeded, "5", PhaseClaims((bare,)))
    assert failing_claims(summary) == {"claim_rows_landed"}
    notes = {
        name: [row["note"] for row in check.observed if "not judged" in str(row["note"])]
        for name, check in claim_outcomes(summary).items()
    }
    assert notes["claim_rows_landed"] == ["the message carries no record_count, not judged"]
    assert notes["claim_batch_not_stalled"] == ["the message carries no stall_detected, not judged"]
    assert notes["claim_batch_no_failed_predictions"] == ["the message carries no failed_predictions, not judged"]


def test_claims_without_a_report_fail(seeded: Workspace) -> None:
    summary = run(seeded, "4", PhaseClaims(()))
    assert failing_claims(summary) == {"claim_status_success"}
    assert "the claims hold no report of any processor" in str(claim_outcomes(summary)["claim_status_success"].observed)


def test_message_text_cannot_break_the_statement(seeded: Workspace) -> None:
    """Processor names and statuses come from messages: quotes, backslashes, :binds and braces stay text."""
    odd = ProcessorReport("X' OR 1=1 --\\ :name {batch}", "no_data\\'", "ml_feature_store_v2", 0, {})
    summary = run(seeded, "4", PhaseClaims((odd,)))
    assert failing_claims(summary) == {"claim_status_success"}
    status = claim_outcomes(summary)["claim_status_success"].observed
    assert status[0]["processor"] == "X? OR 1=1 --? ?name ?batch?"


def test_run_phases_hands_each_phase_its_own_claims(seeded: Workspace) -> None:
    lying = with_report(truthful(seeded)["5"], record_count=950)
    phase4, phase5 = run_phases(seeded.settings, ["4", "5"], DAY, simulated_run_time(DAY), claims={"5": lying})
    assert not claim_outcomes(phase4) and phase4.status == PASS
    assert failing_claims(phase5) == {"claim_rows_landed"} and phase5.status == "fail"
