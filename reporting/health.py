"""`nba-dq health`: the daily health check the platform lacked, one row per game date of a window.

The window's per-date figures of Phases 5 and 5B as the season audit computes them (a few set-based
game_date BETWEEN statements), the latest checkpoint status per phase from the results history (a
latest run that failed or errored makes its date unhealthy), and every staging table of the predictions
dataset that the staging rule fails (warehouse.dialect, the rule `run` and `audit` apply).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from checkpoints.phases import PHASES
from checkpoints.summary import CRITICAL, ERROR, FAIL, PASS
from expectations.ranges import RangeRequest, as_date
from reporting.history import read_history
from reporting.terminal import printable
from warehouse.catalog import (
    DQ_CHECK_RESULTS,
    PREDICTION_ACCURACY,
    PREDICTIONS,
)
from warehouse.connection import open_warehouse
from warehouse.dialect import date_literal, staging_tables_query
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

P = PREDICTIONS.c
G = PREDICTION_ACCURACY.c
H = DQ_CHECK_RESULTS.c
NOT_RUN = "-"  # no recorded run: shown, not a problem in itself (a new install, or a date run elsewhere)
WARN = "warn"  # the latest run passed with failed warnings: still ok


@dataclass
class DateHealth:
    game_date: date
    games: int
    expected_players: int = 0  # production-ready, status not out/doubtful: the coverage denominator
    predicted_players: int = 0  # distinct players with an active prediction
    covered_players: int = 0  # expected players with an active prediction
    expected_predictions: int = 0  # expected players x the era's systems
    covered_predictions: int = 0  # of those, with an active prediction
    duplicate_keys: int = 0  # (game_id, player_lookup, system_id) with more than one active row
    systems_short: str = ""  # the era's systems under min_system_coverage, in words (as the audit says it)
    gradable: int = 0
    graded: int = 0
    statuses: dict[str, str] = field(default_factory=dict)  # checkpoint -> latest status in the history
    problems: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        return self.covered_players / self.expected_players if self.expected_players else None

    @property
    def missing_players(self) -> int:
        return self.expected_players - self.covered_players

    @property
    def data_loss(self) -> float | None:
        """Share of the expected (player, system) predictions that are missing."""
        if not self.expected_predictions:
            return None
        return 1 - self.covered_predictions / self.expected_predictions

    @property
    def graded_share(self) -> float | None:
        return self.graded / self.gradable if self.gradable else None


@dataclass(frozen=True)
class StagingTable:
    name: str
    batch_date: date | None
    age_minutes: float | None
    status: str  # the staging rule's verdict: orphaned, unknown age, created after the run time


@dataclass(frozen=True)
class HealthReport:
    start: date
    end: date
    now: datetime
    dates: list[DateHealth]
    orphaned_staging_tables: list[StagingTable]

    @property
    def healthy(self) -> bool:
        return not self.orphaned_staging_tables and not any(day.problems for day in self.dates)


def health_report(settings: Settings, end: date, days: int, now: datetime) -> HealthReport:
    if days < 1:
        raise CouldNotRun(f"--days {days}: give at least 1")
    start = end - timedelta(days=days - 1)
    warehouse = open_warehouse(settings, {"command": "health"})
    request = RangeRequest(start, end, now, warehouse.engine_name, warehouse.datasets)
    # The same per-date figures the season audit judges (three game_date BETWEEN statements).
    from expectations import phase5_predictions, phase5b_grading  # the suites import GX: only when asked

    predictions = phase5_predictions.coverage_figures(request, settings, warehouse)
    grading = phase5b_grading.audit(request, settings.phase5b, warehouse).figures
    if predictions.empty:
        raise CouldNotRun(f"no games scheduled from {start} to {end}: nothing to check (move --end)")
    dates = {
        row.game_date: DateHealth(
            row.game_date, int(row.games), int(row.expected_players), int(row.predicted_players),
            int(row.covered_players), int(row.expected_predictions), int(row.covered_predictions),
            int(row.active_duplicate_keys), str(row.systems_short),
        )
        for row in predictions.itertuples()
    }  # fmt: skip
    for row in grading.itertuples():
        dates[row.game_date].gradable, dates[row.game_date].graded = int(row.gradable), int(row.graded)
    # Batches after --end are not the window's: replaying a past window, they would look created after --now.
    staging = staging_tables_query(
        warehouse.engine_name,
        warehouse.datasets[PREDICTIONS.dataset_role],
        settings.phase5.staging_grace_minutes,
        now,
        through=end,
    )
    with warehouse.connect() as connection:
        orphaned = [
            StagingTable(name, as_date(batch) if batch is not None else None, age, status)
            for name, batch, age, status, failed in connection.execute(sa.text(f"{staging} ORDER BY table_name"))
            if failed
        ]
    _latest_statuses(settings, dates, start, end)
    for day in dates.values():
        day.problems = _problems(day, settings)
    return HealthReport(start, end, now, [dates[day] for day in sorted(dates)], orphaned)


def _problems(day: DateHealth, settings: Settings) -> list[str]:
    problems = []
    if day.coverage is None or day.coverage < settings.phase5.min_player_coverage:
        shown = "no expected players" if day.coverage is None else f"coverage {day.coverage:.0%}"
        problems.append(f"{shown} < {settings.phase5.min_player_coverage:.0%}")
    if day.graded_share is not None and day.graded_share < settings.phase5b.min_grading_coverage:
        problems.append(f"graded {day.graded_share:.0%} < {settings.phase5b.min_grading_coverage:.0%}")
    if day.duplicate_keys:
        problems.append(f"{day.duplicate_keys} duplicated active keys")
    if day.systems_short:
        problems.append(day.systems_short)
    for checkpoint in (phase.checkpoint for phase in PHASES.values()):  # pipeline order
        if day.statuses.get(checkpoint) in (FAIL, ERROR):
            problems.append(f"{checkpoint} {day.statuses[checkpoint]} in its latest run")
    return problems


def _latest_statuses(settings: Settings, dates: dict[date, DateHealth], start: date, end: date) -> None:
    """Each checkpoint's status in its latest recorded run per date (`-` when never run)."""
    # run_at as text (ISO order on both engines): DuckDB hands TIMESTAMPTZ to Python only through pytz.
    sql = (
        f"SELECT {H.run_id}, CAST({H.run_at} AS STRING), {H.phase}, {H.game_date}, {H.status}, {H.severity}"
        f" FROM {DQ_CHECK_RESULTS.qualified(settings.datasets)}"
        f" WHERE {H.game_date} BETWEEN {date_literal(start)} AND {date_literal(end)}"
    )
    found = read_history(settings, sql, "health")  # none before the first run wrote the history
    latest: dict[tuple[date, str], tuple[Any, str]] = {}
    verdicts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for run_id, run_at, phase, day, status, severity in found:
        verdicts[run_id].append((status, severity))
        key = (as_date(day), phase)
        if key not in latest or run_at > latest[key][0]:
            latest[key] = (run_at, run_id)
    for (day, phase), (_, run_id) in latest.items():
        if day in dates:
            dates[day].statuses[phase] = _run_status(verdicts[run_id])
    for day in dates.values():
        for phase in PHASES.values():
            day.statuses.setdefault(phase.checkpoint, NOT_RUN)


def _run_status(checks: list[tuple[str, str]]) -> str:
    """A run's verdict as `run` gives it: error, fail (a critical check), warn (warnings only) or pass."""
    if any(status == ERROR for status, _ in checks):
        return ERROR
    if any(status == FAIL and severity == CRITICAL for status, severity in checks):
        return FAIL
    if any(status == FAIL for status, _ in checks):
        return WARN
    return PASS


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def render_health(report: HealthReport) -> str:
    phases = [phase.checkpoint for phase in PHASES.values()]
    header = ("game_date", "games", "ready", "predicted", "coverage", "missing", "data_loss", "dup_keys", "graded",
              *phases, "problems")  # fmt: skip
    rows = [
        (
            str(day.game_date),
            str(day.games),
            str(day.expected_players),
            str(day.predicted_players),
            _percent(day.coverage),
            str(day.missing_players),
            _percent(day.data_loss),
            str(day.duplicate_keys),
            _percent(day.graded_share),
            *(day.statuses[phase] for phase in phases),
            printable("; ".join(day.problems) or "ok"),
        )  # fmt: skip
        for day in report.dates
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [f"health {report.start}..{report.end}: {'OK' if report.healthy else 'UNHEALTHY'}"]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
              for row in [header, *rows]]  # fmt: skip
    tables = report.orphaned_staging_tables
    lines.append(f"\nstaging tables failing in the predictions dataset ({len(tables)}, batches up to {report.end}):")
    lines += [
        f"  {printable(table.name)}  {table.status}, age {'?' if table.age_minutes is None else table.age_minutes} min"
        for table in tables
    ]
    if not tables:
        lines.append("  none")
    return "\n".join(lines)


def health_json(report: HealthReport) -> dict[str, Any]:
    return {
        "status": "pass" if report.healthy else "fail",
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "now": report.now.isoformat(),
        "dates": [
            {
                "game_date": day.game_date.isoformat(),
                "games": day.games,
                "production_ready_players": day.expected_players,
                "predicted_players": day.predicted_players,
                "coverage": day.coverage,
                "missing_players": day.missing_players,
                "data_loss_rate": day.data_loss,
                "duplicate_active_keys": day.duplicate_keys,
                "gradable": day.gradable,
                "graded": day.graded,
                "graded_share": day.graded_share,
                "latest_status": day.statuses,
                "problems": day.problems,
            }
            for day in report.dates
        ],
        "orphaned_staging_tables": [
            {
                "table": table.name,
                "batch_date": table.batch_date.isoformat() if table.batch_date else None,
                "age_minutes": table.age_minutes,
                "status": table.status,
            }
            for table in report.orphaned_staging_tables
        ],
    }
