"""A check that could not judge is SKIP, never PASS; a failed warning is WARN: in the CLI's text, `run
--json`, the history, Data Docs and the landing page, and neither changes the exit code nor alerts.

Real seeded DuckDB: the season's first dates have too little history for the volume check (skip), its
later ones enough (pass), and 2025-12-27's extra shadow model fails it (a warning). Claims come from
real runs with the platform's message shapes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from checkpoints.run import run_phase
from checkpoints.run_text import render_text
from checkpoints.summary import SKIP, RunSummary, outcomes, summarize, to_json
from expectations.claims import PhaseClaims, ProcessorReport
from expectations.declare import SKIPPED
from expectations.phase6_export import ExportFacts, ExportRead, unjudged
from reporting.verdicts import verdict_key
from tests.conftest import Workspace
from tests.reconcile_claims import DAY as CLAIMS_DAY
from tests.reconcile_claims import truthful
from tests.slack_server import slack_server
from tests.test_data_docs_review import Page
from tests.test_site_index import SITE, matrix_rows
from warehouse.catalog import PREDICTIONS_EXPORT, TONIGHT_EXPORT
from warehouse.errors import ExitCode
from warehouse.seed import simulated_run_time

FIRST_DATES = "2025-12-02"  # the season's second day: one earlier date of history, fewer than 7
WITH_HISTORY = "2025-12-21"  # clean, with weeks of history: the volume check judges and passes
SHADOW_VOLUME = "2025-12-27"  # shadow_system_volume: 20% more active rows, only the volume check sees it
VOLUME = "active_prediction_volume"


def result(name: str, success: bool, skipped: str | None = None, exception: Any = None) -> Any:
    meta = {"check": name, "severity": "critical", "expected": "something", **({SKIPPED: skipped} if skipped else {})}
    config = SimpleNamespace(type="x", meta=meta)
    return SimpleNamespace(expectation_config=config, success=success, result={}, exception_info=exception)


def check_of(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(check for check in document["checks"] if check["name"] == name)


def status_icons(page: Page) -> list[str]:
    """Each status icon of the page (classes and title): the overview's, then one per check."""
    return [f"{attrs.get('class')} {attrs.get('title') or ''}".strip() for tag, attrs in page.tags if tag == "i"]


def check_row(page: Page, check: str) -> list[str]:
    """The cells (status, expectation, observed) of `check`'s row on a validation page."""
    _, rows = next(table for table in page.tables if table[0][:2] == ["Status", "Expectation"])
    (row,) = [row for row in rows if row[1].startswith(f"{check} [")]
    return row


# Unit level: the verdict from GX results.


def test_a_check_declared_skipped_is_skip_and_passes_the_run_without_counting_as_a_pass() -> None:
    summary = summarize("phase5", date(2025, 12, 2), [result("a", True), result("b", True, "too little history")], ())
    assert [check.status for check in summary.checks] == ["pass", SKIP]
    assert summary.exit_code == ExitCode.PASSED and summary.status == "pass"
    assert summary.counts() == {"pass": 1, "warn": 0, "fail": 0, "error": 0, "skip": 1}
    assert summary.failed() == [] and [check.name for check in outcomes(summary)] == ["a"]  # never alerts
    text = render_text(summary)
    assert text.startswith("phase5 2025-12-02: PASS (1 passed, 1 skipped)")
    assert "\nb      SKIP  " in text and "b (SKIP):\n  not judged: too little history" in text
    skipped = check_of(to_json(summary), "b")
    assert skipped["status"] == "skip" and skipped["success"] is True and skipped["skip_reason"] == "too little history"


def test_a_skipped_check_that_fails_or_raises_all_the_same_is_a_failure_or_an_error() -> None:
    """Fail closed: the declaration says it cannot judge; a failure it finds anyway is never hidden."""
    raised = {"m": {"exception_message": "boom", "raised_exception": True}}
    summary = summarize("phase5", date(2025, 12, 2), [result("a", False, "x"), result("b", True, "x", raised)], ())
    assert [check.status for check in summary.checks] == ["fail", "error"]
    assert summary.exit_code == ExitCode.COULD_NOT_RUN


def test_the_json_names_each_checks_status_severity_why_and_page_and_its_key_ignores_pages() -> None:
    warning = summarize("phase5", date(2025, 12, 2), [result("a", False)], ("/r1/p.html",), lambda r: "/r1/p.html")
    warning = replace(warning, checks=tuple(replace(c, severity="warning", notes="why") for c in warning.checks))
    document = to_json(warning)
    assert document["status"] == "pass" and document["counts"]["warn"] == 1
    assert check_of(document, "a") | {"observed": None} == {
        "name": "a", "status": "warn", "success": False, "severity": "warning", "observed": None,
        "expected": "something", "notes": "why", "page": "/r1/p.html",
    }  # fmt: skip
    elsewhere = {**document, "data_docs": "/r2/p.html", "data_docs_pages": ["/r2/p.html"],
                 "checks": [{**check, "page": "/r2/p.html"} for check in document["checks"]]}  # fmt: skip
    assert verdict_key(document) == verdict_key(elsewhere)  # a re-run of the same data: the same key


# The seeded season, through the CLI.


def history_statuses(workspace: Workspace, check: str) -> list[tuple[str, bool, str]]:
    with duckdb.connect(str(workspace.settings.history.duckdb_file), read_only=True) as connection:
        return connection.execute(
            "SELECT CAST(game_date AS VARCHAR), success, status FROM nba_monitoring.dq_check_results"
            " WHERE game_date BETWEEN DATE '2025-12-01' AND DATE '2025-12-31' AND check_name = ? ORDER BY run_at",
            [check],
        ).fetchall()


@pytest.mark.acceptance
def test_the_volume_check_without_history_is_skip_everywhere_and_never_alerts(seeded: Workspace) -> None:
    with slack_server() as slack:
        env = {"SLACK_WEBHOOK_URL": slack.url("/default"), "SLACK_WEBHOOK_URL_ERROR": slack.url("/error")}
        text = seeded.cli("run", "--phase", "5", "--date", FIRST_DATES, env=env)
        as_json = seeded.cli("run", "--phase", "5", "--date", FIRST_DATES, "--json", env=env)
        assert slack.received == []  # a skip is not failing: no alert
    assert text.code == as_json.code == 0, text.err
    assert text.out.startswith(f"phase5 {FIRST_DATES}: PASS (15 passed, 1 skipped)")
    (line,) = [line for line in text.out.splitlines() if line.split()[:2] == [VOLUME, "SKIP"]]  # its table row
    assert "not judged: the last 1 game dates with predictions, fewer than 7" in line
    assert f"{VOLUME} (SKIP):\n  not judged: the last 1 game dates" in text.out

    document = as_json.json()
    volume = check_of(document, VOLUME)
    assert volume["status"] == "skip" and volume["severity"] == "warning" and volume["success"] is True
    assert volume["skip_reason"] == "the last 1 game dates with predictions, fewer than 7"
    assert volume["observed"][0]["active_predictions"] > 0  # still measured and shown
    assert volume["page"] == document["data_docs"]
    assert document["status"] == "pass" and document["counts"] == {"pass": 15, "warn": 0, "fail": 0, "error": 0,
                                                                   "skip": 1}  # fmt: skip

    assert history_statuses(seeded, VOLUME) == [(FIRST_DATES, True, "skip")] * 2

    page = Page(Path(volume["page"]))
    label, expected, observed = check_row(page, VOLUME)
    assert label == "skipped" and observed.startswith("skipped, not judged (measured: active_predictions=")
    assert expected == f"{VOLUME} [warning]: skipped, not judged: the last 1 game dates with predictions, fewer than 7"
    icons = status_icons(page)  # the overview's green check, 14 passed checks, and the skip: no green check
    assert icons.count("fas fa-minus-circle text-secondary skipped") == 1
    assert sum("fa-check-circle" in icon for icon in icons) == 1 + 14 and len(icons) == 16

    index = (seeded.root / SITE / "index.html").read_text()
    (row,) = matrix_rows(index)
    assert row["phase5"][0] == "pass"  # a skip is not a failure: the date's cell stays pass
    assert "pass: 0 of 16 checks not passed, 1 skipped" in index  # the runs table says what was skipped


@pytest.mark.acceptance
def test_the_volume_check_with_history_passes_and_a_failed_warning_is_warn(seeded: Workspace) -> None:
    judged = seeded.cli("run", "--phase", "5", "--date", WITH_HISTORY, "--json")
    assert judged.code == 0 and check_of(judged.json(), VOLUME)["status"] == "pass"
    assert "skip_reason" not in check_of(judged.json(), VOLUME)

    warned = seeded.cli("run", "--phase", "5", "--date", SHADOW_VOLUME, "--json")
    assert warned.code == 0 and warned.json()["status"] == "pass"  # a warning never fails the run
    volume = check_of(warned.json(), VOLUME)
    assert volume["status"] == "warn" and volume["success"] is False and volume["severity"] == "warning"
    assert warned.json()["counts"]["warn"] == 1
    text = seeded.cli("run", "--phase", "5", "--date", SHADOW_VOLUME)
    assert text.code == 0 and text.out.startswith(f"phase5 {SHADOW_VOLUME}: PASS (15 passed, 1 warned)")
    assert f"{VOLUME} (WARN):" in text.out
    icons = status_icons(Page(Path(volume["page"])))
    assert icons.count("fas fa-exclamation-circle text-warning warning") == 1  # the warning's own icon


# Claims the platform's messages do not carry, through real checkpoint runs.


def run_claims(workspace: Workspace, key: str, claims: PhaseClaims) -> RunSummary:
    summary = run_phase(workspace.settings, key, CLAIMS_DAY, simulated_run_time(CLAIMS_DAY), claims=claims)
    assert summary.error is None, summary.error
    return summary


def claim(summary: RunSummary, name: str) -> Any:
    return next(check for check in summary.checks if check.name == name)


@pytest.mark.acceptance
def test_a_claim_field_the_message_does_not_carry_is_skip_and_one_it_carries_is_judged(seeded: Workspace) -> None:
    coordinator = truthful(seeded)["5"].reports[0]
    live = {k: v for k, v in coordinator.details.items() if k not in ("stall_detected", "failed_predictions")}
    summary = run_claims(seeded, "5", PhaseClaims((replace(coordinator, details=live),)))
    stalled = claim(summary, "claim_batch_not_stalled")
    assert stalled.status == SKIP and "the message carries no stall_detected" in stalled.skip_reason
    assert claim(summary, "claim_batch_no_failed_predictions").status == SKIP
    assert claim(summary, "claim_batch_complete").status == "pass" and summary.status == "pass"
    assert "claim_batch_not_stalled" not in {check.name for check in summary.failed()}

    carried = run_claims(seeded, "5", truthful(seeded)["5"])
    assert claim(carried, "claim_batch_not_stalled").status == "pass"
    stall = PhaseClaims((replace(coordinator, details={**coordinator.details, "stall_detected": True}),))
    assert claim(run_claims(seeded, "5", stall), "claim_batch_not_stalled").status == "fail"


@pytest.mark.acceptance
def test_claims_of_tables_nba_dq_does_not_read_leave_the_table_and_count_checks_skipped(seeded: Workspace) -> None:
    team = ProcessorReport("TeamDefenseGameSummaryProcessor", "success", "team_defense_game_summary", 18, {})
    summary = run_claims(seeded, "3", PhaseClaims((team,)))
    known, landed = claim(summary, "claim_table_known"), claim(summary, "claim_rows_landed")
    assert known.status == landed.status == SKIP
    assert "team_defense_game_summary is not in the nba-dq catalog" in known.skip_reason
    assert landed.skip_reason == "the messages claim nothing this check judges"
    assert claim(summary, "claim_status_success").status == "pass" and summary.status == "pass"


@pytest.mark.acceptance
def test_a_halted_tonight_file_leaves_the_players_per_game_floor_skipped(seeded: Workspace) -> None:
    """2025-12-19: a halt is active and one game lists 5 players, allowed while halted: not judged, not a pass."""
    day = "2025-12-19"
    result = seeded.cli("run", "--phase", "6", "--date", day, "--now", simulated_run_time(date.fromisoformat(day))
                        .isoformat(), "--json")  # fmt: skip
    assert result.code == 0, result.err
    floor = check_of(result.json(), "export_players_per_game")
    assert floor["status"] == "skip" and "a halt is active" in floor["skip_reason"]
    assert {check["status"] for check in result.json()["checks"] if check["name"] != "export_players_per_game"} == {
        "pass"
    }
    # GX's own expectation (Phase 6's frame checks) is drawn as skipped too, never with the green check.
    page = Page(Path(floor["page"]))
    rows = [row for header, rows in page.tables if header[:2] == ["Status", "Expectation"] for row in rows]
    assert [row[0] for row in rows if row[1].startswith("export_players_per_game: skipped, not judged")] == ["skipped"]
    icons = status_icons(page)  # the overview's green check, the passed checks, and the skip
    assert icons.count("fas fa-minus-circle text-secondary skipped") == 1
    assert sum("fa-check-circle" in icon for icon in icons) == len(icons) - 1


def test_with_no_readable_export_file_the_checks_of_their_contents_are_skipped() -> None:
    """Both files missing: export_files_readable fails; halt fields, games and freshness have nothing to judge."""
    files = (PREDICTIONS_EXPORT, TONIGHT_EXPORT)
    missing = {export.folder: ExportRead(export.path("2025-12-07"), "missing: not there") for export in files}
    facts = ExportFacts(files=missing, games=(), predicted_players=frozenset({"a"}))
    skipped = unjudged(facts)
    assert set(skipped) == {"export_halt_fields", "export_no_empty_games", "export_fresh", "export_players_per_game"}
    assert all("export_files_readable fails" in why for why in skipped.values())
    readable = ExportRead(TONIGHT_EXPORT.path("2025-12-07"), "ok", {"games": [], "halt_active": False})
    assert unjudged(replace(facts, files={**missing, TONIGHT_EXPORT.folder: readable})) == {}
