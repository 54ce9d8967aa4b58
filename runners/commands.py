"""What each CLI command does, once its arguments are parsed. Returns exit codes; prints results.

The modules that load pandas (the audit, health, the seed) are imported by their command only: every
command's start-up pays for what it uses, and `run` reaches its preflight statements before pandas
or GX load (tests/test_startup_imports.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from checkpoints.dry_run import plan, plan_json, render_plan
from checkpoints.phases import ALL_PHASES, AUDITED, PHASES
from checkpoints.run import run_phases
from checkpoints.run_text import render_combined, render_text
from checkpoints.summary import ERROR, RunSummary, combined_json, dumps, to_json, worst_exit_code
from reporting.charts import Point, coverage_chart
from reporting.data_docs import site_folder, site_index
from reporting.history import recorder
from reporting.reporter import NO_REPORTING, Reporting, alerter_from_env
from reporting.slack import BOT_TOKEN, WEBHOOK_DEFAULT, WEBHOOK_ERROR
from reporting.terminal import printable
from reporting.verdicts import shared_publisher
from runners.doctor import doctor, doctor_json, render_doctor
from runners.doctor import exit_code as doctor_exit_code
from warehouse.connection import DUCKDB_PREFIX
from warehouse.environment import ENVIRONMENT, PRODUCTION
from warehouse.errors import CouldNotRun, ExitCode, one_line, os_problem
from warehouse.settings import Settings

if TYPE_CHECKING:
    from checkpoints.audit import AuditReport

DEMO_CLEAN_DATE = date(2025, 12, 2)
DEMO_FAULT = "coverage_drop"


def dispatch(
    args: argparse.Namespace, settings: Settings, env: Mapping[str, str], out: TextIO, err: TextIO
) -> ExitCode:
    if args.command == "run":
        now = args.now or settings.run_time(args.game_date, datetime.now(timezone.utc))
        if args.dry_run:
            return dry_run(settings, args.phase, args.game_date, now, args.json, out)
        reporting = build_reporting(settings, env, err)  # before any check: production needs a destination
        return run(settings, args.phase, args.game_date, now, args.json, out, reporting, err)
    if args.command == "seed":
        return seed(settings, args, out)
    if args.command == "docs":
        return docs(settings, out)
    if args.command == "health":
        return health(settings, args, out, err)
    if args.command == "audit":
        return audit(settings, args, out, err)
    if args.command in ("serve", "sweep"):
        from runners.service import service_command  # Flask and gunicorn: only for these two

        return service_command(args, settings, env, out, err)
    if args.command == "doctor":
        findings = doctor(settings, env)
        print(dumps(doctor_json(findings)) if args.json else render_doctor(findings), file=out)
        return doctor_exit_code(findings)
    return demo(settings, out, build_reporting(settings, env, err))


def run(
    settings: Settings,
    phase: str,
    game_date: date,
    now: datetime,
    as_json: bool,
    out: TextIO,
    reporting: Reporting = NO_REPORTING,
    err: TextIO | None = None,
) -> ExitCode:
    summaries = run_phases(settings, list(PHASES) if phase == ALL_PHASES else [phase], game_date, now, reporting)
    if phase != ALL_PHASES:
        summary = summaries[0]
        if summary.error:
            _print_unrecorded(reporting, err or sys.stderr)
            raise CouldNotRun(summary.error)
        print(dumps(to_json(summary)) if as_json else render_text(summary), file=out)
        code = summary.exit_code
    else:
        print(dumps(combined_json(summaries)) if as_json else render_combined(summaries), file=out)
        code = worst_exit_code(summaries)
    _print_published_site(settings, as_json, out)
    stream = err or sys.stderr
    for line in _could_not_run_lines(summaries):
        print(f"nba-dq: error: {printable(line)}", file=stream)
    if _print_unrecorded(reporting, stream) and code == ExitCode.PASSED:
        return ExitCode.COULD_NOT_RUN  # fail closed: a pass whose results are not kept is not a clean pass
    return code


def _print_unrecorded(reporting: Reporting, err: TextIO) -> bool:
    """One line on stderr naming what the verdicts could not be recorded in; whether there was any."""
    if reporting.unrecorded:
        print(f"nba-dq: results could not be recorded: {printable('; '.join(reporting.unrecorded))}", file=err)
    return bool(reporting.unrecorded)


def _could_not_run_lines(summaries: list[RunSummary]) -> list[str]:
    """One line per phase without a verdict (it could not run, or a check raised), as for any other error."""
    lines = []
    for summary in summaries:
        raised = [check for check in summary.checks if check.status == ERROR]
        if summary.error:
            lines.append(f"{summary.phase} {summary.game_date}: could not run: {one_line(summary.error)}")
        elif raised:
            checks = ", ".join(f"{check.name} ({one_line(check.error or 'no message')})" for check in raised)
            lines.append(f"{summary.phase} {summary.game_date}: a check raised: {checks}")
    return lines


def dry_run(settings: Settings, phase: str, game_date: date, now: datetime, as_json: bool, out: TextIO) -> ExitCode:
    """The statements a run would issue, without running its checks, writing results or alerting."""
    planned = plan(settings, list(PHASES) if phase == ALL_PHASES else [phase], game_date, now)
    print(dumps(plan_json(planned, game_date)) if as_json else render_plan(planned, game_date), file=out)
    return ExitCode.PASSED


def _print_published_site(settings: Settings, as_json: bool, out: TextIO) -> None:
    if settings.data_docs.bucket and not as_json:
        print(f"Data Docs site: {site_index(settings)}", file=out)


def build_reporting(settings: Settings, env: Mapping[str, str], err: TextIO) -> Reporting:
    """History always; Slack when the environment names a destination (else a warning, or exit 2 in production);
    the verdict topic when `[service] verdict_topic` (NBA_DQ_VERDICT_TOPIC) names one."""
    alerter = alerter_from_env(settings, env)
    if alerter is None:
        if settings.production:
            raise CouldNotRun(
                f"{ENVIRONMENT}={PRODUCTION} but no Slack destination is set: alerts would go nowhere"
                f" (set {WEBHOOK_DEFAULT}, {WEBHOOK_ERROR} or {BOT_TOKEN})"
            )
        print(
            f"nba-dq: warning: no Slack destination ({WEBHOOK_DEFAULT} or {BOT_TOKEN} unset): alerts go nowhere",
            file=err,
        )
    publish = shared_publisher(settings.service.verdict_topic) if settings.service.verdict_topic else None
    return Reporting(record=recorder(settings), alert=alerter.notify if alerter else None, publish=publish)


def health(settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitCode:
    """The window's health table and coverage chart; exit 1 when a date is below its threshold."""
    from reporting.health import health_json, health_report, render_health

    clock = datetime.now(timezone.utc)
    end = args.end or clock.date()
    report = health_report(settings, end, args.days, args.now or settings.run_time(end, clock))
    points = [Point(day.game_date, day.coverage, bool(day.problems)) for day in report.dates]
    chart = _written_chart(
        err,
        lambda: coverage_chart(
            site_folder(settings.gx_root) / "health" / f"coverage-{report.start}-{report.end}.html",
            f"nba-dq player coverage {report.start} to {report.end}",
            points,
            settings.phase5.min_player_coverage,
        ),
    )
    if args.json:
        print(dumps({**health_json(report), "chart": str(chart) if chart else None}), file=out)
    else:
        print(f"{render_health(report)}\n\nCoverage chart: {chart or 'not written'}", file=out)
    return ExitCode.PASSED if report.healthy else ExitCode.CHECK_FAILED


def audit(settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitCode:
    """The range's failing dates per phase, one GX validation each, and the coverage chart."""
    from checkpoints.audit import audit as audit_range
    from reporting.audit_output import audit_json, render_audit

    keys = AUDITED if args.phase == ALL_PHASES else [args.phase]
    progress = (lambda line: print(line, file=err, flush=True)) if err.isatty() else None
    clock = args.now or datetime.now(timezone.utc)
    report = audit_range(settings, keys, args.start, args.end, clock, progress)
    chart = _written_chart(err, lambda: _audit_chart(settings, report))
    if args.json:
        print(dumps({**audit_json(report), "chart": str(chart) if chart else None}), file=out)
    else:
        audited_5 = report.phase(PHASES["5"].checkpoint) is not None
        shown = (
            f"Coverage chart: {chart or 'not written'}" if audited_5 else "No coverage chart: Phase 5 was not audited."
        )
        print(f"{render_audit(report)}\n\n{shown}", file=out)
    for phase in report.phases:
        if phase.error:
            reason = printable(one_line(phase.error))
            print(f"nba-dq: error: audit {phase.checkpoint}: could not run: {reason}", file=err)
    return report.exit_code


def _written_chart(err: TextIO, write: Callable[[], Path | None]) -> Path | None:
    """A chart's path, or None with a warning when it cannot be written (a read-only or full gx/ folder):
    the table or JSON is the verdict, the chart only a view of it."""
    try:
        return write()
    except OSError as error:
        print(f"nba-dq: warning: coverage chart not written: {printable(os_problem(error))}", file=err)
        return None


def _audit_chart(settings: Settings, report: AuditReport) -> Path | None:
    predictions = report.phase(PHASES["5"].checkpoint)
    if predictions is None or predictions.figures is None:
        return None
    failing = {day for phase in report.phases for day in phase.failing_dates}
    points = [
        Point(row.game_date, row.covered_players / row.expected_players if row.expected_players else None,
              row.game_date in failing)
        for row in predictions.figures.itertuples()
    ]  # fmt: skip
    return coverage_chart(
        site_folder(settings.gx_root) / "audit" / f"coverage-{report.start}-{report.end}.html",
        f"nba-dq player coverage {report.start} to {report.end} (red: failing in any audited phase)",
        points,
        settings.phase5.min_player_coverage,
    )


def docs(settings: Settings, out: TextIO) -> ExitCode:
    """Rebuild the Data Docs site from the stored validation results; print where it is."""
    from reporting.site_index import rebuild_site  # imports GX's renderers: not at start-up

    print(f"Data Docs index: {rebuild_site(settings)}", file=out)
    return ExitCode.PASSED


def seed(settings: Settings, args: argparse.Namespace, out: TextIO) -> ExitCode:
    from warehouse import seed as seeding

    if args.list_faults:
        print(fault_catalogue(), file=out)
        return ExitCode.PASSED
    start = args.start or seeding.DEFAULT_START
    end = args.end or seeding.DEFAULT_END
    if start > end:
        raise CouldNotRun(f"--start {start} is after --end {end}")
    seed_number = seeding.DEFAULT_SEED if args.seed is None else args.seed
    report = seeding.seed_duckdb(duckdb_path(settings), settings, start, end, seed_number, force=args.force)
    rows = ", ".join(f"{table} {count}" for table, count in report.rows.items())
    print(f"seeded {printable(report.path)} with {report.start}..{report.end} (seed {report.seed}): {rows}", file=out)
    print(f"exports: {report.export_files} files under {printable(report.export_root)}", file=out)
    print(f"faults seeded: {', '.join(f'{f.name} ({f.game_date})' for f in report.faults) or 'none'}", file=out)
    gaps = ", ".join(f"{gap.name} ({gap.start}..{gap.end}: {', '.join(gap.lost_phases)})" for gap in report.gaps)
    print(f"gaps seeded: {gaps or 'none'}", file=out)
    return ExitCode.PASSED


def demo(settings: Settings, out: TextIO, reporting: Reporting = NO_REPORTING) -> ExitCode:
    """Seed if needed, then one clean and one faulty date: what nba-dq shows a data engineer."""
    from warehouse import seed as seeding

    path = duckdb_path(settings)
    if not path.is_file():
        print(f"no warehouse at {printable(path)}: seeding the default month ...", file=out)
        seeding.seed_duckdb(path, settings)
    fault = next(f for f in seeding.FAULTS if f.name == DEMO_FAULT)
    clock = datetime.now(timezone.utc)
    codes = []
    for label, game_date in (("clean date", DEMO_CLEAN_DATE), (f"seeded fault {fault.name}", fault.game_date)):
        print(f"\n=== nba-dq run --phase all --date {game_date}   ({label})", file=out)
        summaries = run_phases(settings, list(PHASES), game_date, settings.run_time(game_date, clock), reporting)
        print(render_combined(summaries), file=out)
        codes.append(worst_exit_code(summaries))
    print(f"\nData Docs index: {site_index(settings)}", file=out)
    return ExitCode.COULD_NOT_RUN if ExitCode.COULD_NOT_RUN in codes else ExitCode.PASSED


def fault_catalogue() -> str:
    from warehouse import seed as seeding

    lines = [
        "Each fault sits on its own date; every other date is clean. Staging ages and export freshness are",
        "as of the simulated run, 18:00 UTC on the date: what `nba-dq run` judges a past date by (dq.toml",
        "[run] replay_hour_utc; --now overrides).",
        "",
        "date        fault                        failing checks / what it mirrors",
    ]
    for fault in seeding.FAULTS:
        failing = [(phase, fault.failing_checks(phase)) for phase in seeding.PHASES]
        checks = "; ".join(f"{phase}: {', '.join(sorted(names))}" for phase, names in failing if names)
        checks = checks or "(none: must pass)"
        lines.append(f"{fault.game_date}  {fault.name:<28} {checks}\n{'':<42}{fault.summary}")
    lines += ["", "Gaps (game dates where what the phases named write is missing; the schedule stays):", ""]
    for gap in seeding.GAPS:
        lines.append(f"{gap.start}..{gap.end}  {gap.name:<28} {gap.days} days: {', '.join(gap.lost_phases)} missing")
        lines.append(f"{'':<42}{gap.summary}")
    return "\n".join(lines)


def duckdb_path(settings: Settings) -> Path:
    if not settings.warehouse_url.startswith(DUCKDB_PREFIX):
        raise CouldNotRun(f"seed builds the embedded DuckDB warehouse; NBA_DQ_WAREHOUSE is {settings.warehouse_url}")
    return Path(settings.warehouse_url[len(DUCKDB_PREFIX) :])
