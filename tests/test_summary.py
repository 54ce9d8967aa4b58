"""The verdict: pass/fail/error per check and the exit code, from GX results (faked here: pure function)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from checkpoints.run_text import render_text
from checkpoints.summary import summarize, to_json
from warehouse.errors import ExitCode


def result(name: str, success: bool, severity: str = "critical", exception: Any = None, **observed: Any) -> Any:
    config = SimpleNamespace(type="x", meta={"check": name, "severity": severity, "expected": "something"})
    return SimpleNamespace(expectation_config=config, success=success, result=observed, exception_info=exception)


RAISED = {"metric-id": {"exception_message": "Binder Error: column nope not found\nLINE 1", "raised_exception": True}}


def test_all_passing_is_exit_0() -> None:
    summary = summarize("phase5", date(2025, 12, 2), [result("a", True, observed_value=3)], ())
    assert summary.exit_code == ExitCode.PASSED and summary.status == "pass"


def test_a_failed_warning_still_passes() -> None:
    summary = summarize("phase5", date(2025, 12, 2), [result("a", False, severity="warning", observed_value=3)], ())
    assert summary.exit_code == ExitCode.PASSED
    assert "WARN" in render_text(summary)


def test_a_failed_critical_check_is_exit_1() -> None:
    summary = summarize("phase5", date(2025, 12, 2), [result("a", True), result("b", False, observed_value=0)], ())
    assert summary.exit_code == ExitCode.CHECK_FAILED and summary.status == "fail"


def test_a_check_that_raised_is_exit_2_never_a_pass_or_a_data_failure() -> None:
    raised = result("b", False, exception=RAISED)
    summary = summarize("phase5", date(2025, 12, 2), [result("a", False, observed_value=0), raised], ())
    assert summary.exit_code == ExitCode.COULD_NOT_RUN and summary.status == "error"
    check = summary.checks[1]
    assert check.status == "error" and check.error == "Binder Error: column nope not found"


def test_a_raised_exception_counts_even_when_gx_says_success() -> None:
    summary = summarize("phase5", date(2025, 12, 2), [result("a", True, exception=RAISED)], ())
    assert summary.exit_code == ExitCode.COULD_NOT_RUN


def test_gx_flat_exception_info_without_exception_is_fine() -> None:
    flat = {"raised_exception": False, "exception_traceback": None, "exception_message": None}
    summary = summarize("phase5", date(2025, 12, 2), [result("a", True, exception=flat, observed_value=1)], ())
    assert summary.exit_code == ExitCode.PASSED


def test_json_shape_and_row_observations() -> None:
    rows = {"details": {"unexpected_rows": [{"coverage": Decimal("0.5"), "first_50_missing": "a, b", "failed": True}]}}
    summary = summarize("phase5", date(2025, 12, 2), [result("player_coverage", False, **rows)], ("/x.html",))
    document = to_json(summary)
    assert set(document) == {"status", "phase", "game_date", "counts", "checks", "data_docs", "data_docs_pages"}
    assert document["checks"] == [
        {
            "name": "player_coverage",
            "status": "fail",
            "success": False,
            "severity": "critical",
            "observed": [{"coverage": 0.5, "first_50_missing": "a, b"}],
            "expected": "something",
            "notes": "",
            "page": None,
        }
    ]
    assert document["counts"] == {"pass": 0, "warn": 0, "fail": 1, "error": 0, "skip": 0}
    assert document["game_date"] == "2025-12-02" and document["data_docs"] == "/x.html"
    assert document["data_docs_pages"] == ["/x.html"]
