"""One staging rule for `run`, `audit` and `health` (warehouse.dialect): in flight only when
0 <= age < grace; orphaned, unknown age and created after the run time fail, the same way in every path.

Staging tables are made by hand in a copy of the seeded month, named as the platform names them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone

import pytest

import expectations.phase5_predictions as phase5
from checkpoints.audit import AuditReport, CheckFindings, audit
from tests.conftest import Workspace
from tests.test_phase5_hand_faults import staging_name
from warehouse.dialect import STAGING_AFTER_RUN, STAGING_IN_FLIGHT, STAGING_UNKNOWN_AGE
from warehouse.seed import DEFAULT_END, DEFAULT_START

pytestmark = pytest.mark.acceptance
DAY = date(2025, 12, 3)  # a clean seeded date
SEEDED_ORPHAN = date(2025, 12, 12)  # the seeded orphaned_staging_table fault
CHECK = "no_orphaned_staging_tables"
CLOCK = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def staging_findings(report: AuditReport) -> CheckFindings:
    predictions = report.phase("phase5")
    assert predictions is not None and predictions.error is None, predictions
    return next(check for check in predictions.checks if check.name == CHECK)


def observed_staging(workspace: Workspace, day: date, *now: str) -> tuple[int, list[dict]]:
    """`run --phase 5` on a date (as of its daily run unless --now is given): exit code and the check's rows."""
    result = workspace.cli("run", "--phase", "5", "--date", str(day), *(("--now", *now) if now else ()), "--json")
    check = next(c for c in result.json()["checks"] if c["name"] == CHECK)
    assert result.failing() <= {CHECK}, result.out
    return result.code, check["observed"]


def test_a_table_created_after_the_run_time_fails_in_run_audit_and_health(
    scratch: Workspace, sql: Callable[[str], None]
) -> None:
    name = staging_name(DAY, -10 / 60)  # its batch started 10 minutes after the date's daily run
    sql(f"CREATE TABLE nba_predictions.{name} (x INTEGER)")
    code, rows = observed_staging(scratch, DAY)
    assert code == 1 and [(row["table_name"], row["status"]) for row in rows] == [(name, STAGING_AFTER_RUN)]
    assert rows[0]["age_minutes"] == -10
    staging = staging_findings(audit(scratch.settings, ["5"], DEFAULT_START, DEFAULT_END, CLOCK))
    assert set(staging.failures) == {DAY, SEEDED_ORPHAN}
    assert staging.failures[DAY] == f"{name} ({STAGING_AFTER_RUN}, -10 min)"
    health = scratch.cli("health", "--end", str(DAY), "--days", "1", "--json")
    assert health.code == 1
    assert [(t["table"], t["status"], t["age_minutes"]) for t in health.json()["orphaned_staging_tables"]] == [
        (name, STAGING_AFTER_RUN, -10)
    ]


@pytest.mark.parametrize("clock_second", [0, 45])
def test_a_table_just_under_the_grace_is_in_flight_whatever_the_clocks_seconds(
    scratch: Workspace, sql: Callable[[str], None], clock_second: int
) -> None:
    name = staging_name(DAY, 29.5 / 60)  # 29.5 minutes old at the daily run; the grace is 30
    assert scratch.settings.phase5.staging_grace_minutes == 30
    sql(f"CREATE TABLE nba_predictions.{name} (x INTEGER)")
    report = audit(scratch.settings, ["5"], DAY, DAY, CLOCK.replace(second=clock_second))
    assert staging_findings(report).failures == {} and report.exit_code == 0
    now = f"{DAY}T18:00:{clock_second:02d}Z"  # 29.5 and 30.25 minutes: the second one is orphaned
    code, rows = observed_staging(scratch, DAY, now)
    expected = (STAGING_IN_FLIGHT, 0) if clock_second == 0 else ("orphaned", 1)
    assert ([row["status"] for row in rows], code) == ([expected[0]], expected[1])


def test_a_table_without_a_batch_date_fails_every_audited_date_as_in_run(
    scratch: Workspace, sql: Callable[[str], None]
) -> None:
    sql("CREATE TABLE nba_predictions._staging_whatever (x INTEGER)")
    result = scratch.cli("audit", "--start", "2025-12-01", "--end", "2025-12-03", "--phase", "5", "--json")
    assert result.code == 1, result.err
    (predictions,) = result.json()["phases"]
    staging = next(check for check in predictions["checks"] if check["check"] == CHECK)
    assert predictions["failing_dates"] == ["2025-12-01", "2025-12-02", "2025-12-03"]
    assert set(staging["failures"].values()) == {f"_staging_whatever ({STAGING_UNKNOWN_AGE})"}
    code, rows = observed_staging(scratch, date(2025, 12, 2))
    assert code == 1 and [(row["table_name"], row["status"]) for row in rows] == [
        ("_staging_whatever", STAGING_UNKNOWN_AGE)
    ]
    health = scratch.cli("health", "--end", "2025-12-03", "--days", "3", "--json")
    assert [t["table"] for t in health.json()["orphaned_staging_tables"]] == ["_staging_whatever"]


def test_a_name_with_an_impossible_batch_date_is_a_table_without_a_batch_date(
    scratch: Workspace, sql: Callable[[str], None]
) -> None:
    name = staging_name(DAY, 3).replace("2025_12_03", "2025_13_45")  # a batch date no day has
    sql(f"CREATE TABLE nba_predictions.{name} (x INTEGER)")
    staging = staging_findings(audit(scratch.settings, ["5"], DAY, DAY, CLOCK))
    assert staging.failures == {DAY: f"{name} (orphaned, 180 min)"}
    code, rows = observed_staging(scratch, DAY)
    assert code == 1 and [(row["table_name"], row["batch_date"]) for row in rows] == [(name, None)]


def test_audit_json_is_printed_even_when_a_phase_raises(seeded: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> list[str]:
        raise ValueError("Invalid isoformat string: 'nan'")

    monkeypatch.setattr(phase5, "_orphaned_by_date", broken)
    result = seeded.cli("audit", "--start", "2025-12-01", "--end", "2025-12-03", "--json")
    assert result.code == 2
    document = result.json()
    assert document["status"] == "error"
    errors = {phase["phase"]: phase["error"] for phase in document["phases"]}
    assert errors == {"phase3": None, "phase4": None, "phase5": "ValueError: Invalid isoformat string: 'nan'",
                      "phase5b": None, "phase6": None}  # fmt: skip
