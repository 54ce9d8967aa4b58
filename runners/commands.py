"""What each CLI command does, once its arguments are parsed. Returns exit codes; prints results."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TextIO

from checkpoints.phases import ALL_PHASES, PHASES
from checkpoints.run import run_phase, run_phases
from checkpoints.summary import combined_json, dumps, render_combined, render_text, to_json, worst_exit_code
from warehouse import seed as seeding
from warehouse.connection import DUCKDB_PREFIX
from warehouse.errors import CouldNotRun, ExitCode
from warehouse.settings import Settings

DEMO_CLEAN_DATE = date(2025, 12, 2)
DEMO_FAULT = "coverage_drop"


def dispatch(args: argparse.Namespace, settings: Settings, out: TextIO) -> ExitCode:
    if args.command == "run":
        now = args.now or settings.run_time(args.game_date, datetime.now(timezone.utc))
        return run(settings, args.phase, args.game_date, now, args.json, out)
    if args.command == "seed":
        return seed(settings, args, out)
    return demo(settings, out)


def run(settings: Settings, phase: str, game_date: date, now: datetime, as_json: bool, out: TextIO) -> ExitCode:
    if phase == ALL_PHASES:
        summaries = run_phases(settings, list(PHASES), game_date, now)
        print(dumps(combined_json(summaries)) if as_json else render_combined(summaries), file=out)
        return worst_exit_code(summaries)
    summary = run_phase(settings, phase, game_date, now)
    print(dumps(to_json(summary)) if as_json else render_text(summary), file=out)
    return summary.exit_code


def seed(settings: Settings, args: argparse.Namespace, out: TextIO) -> ExitCode:
    if args.list_faults:
        print(fault_catalogue(), file=out)
        return ExitCode.PASSED
    start = args.start or seeding.DEFAULT_START
    end = args.end or seeding.DEFAULT_END
    if start > end:
        raise CouldNotRun(f"--start {start} is after --end {end}")
    report = seeding.seed_duckdb(
        duckdb_path(settings), settings, start, end, seeding.DEFAULT_SEED if args.seed is None else args.seed
    )
    rows = ", ".join(f"{table} {count}" for table, count in report.rows.items())
    print(f"seeded {report.path} with {report.start}..{report.end} (seed {report.seed}): {rows}", file=out)
    print(f"exports: {report.export_files} files under {report.export_root}", file=out)
    print(f"faults seeded: {', '.join(f'{f.name} ({f.game_date})' for f in report.faults) or 'none'}", file=out)
    return ExitCode.PASSED


def demo(settings: Settings, out: TextIO) -> ExitCode:
    """Seed if needed, then one clean and one faulty date: what nba-dq shows a data engineer."""
    path = duckdb_path(settings)
    if not path.is_file():
        print(f"no warehouse at {path}: seeding the default month ...", file=out)
        seeding.seed_duckdb(path, settings)
    fault = next(f for f in seeding.FAULTS if f.name == DEMO_FAULT)
    clock = datetime.now(timezone.utc)
    codes = []
    for label, game_date in (("clean date", DEMO_CLEAN_DATE), (f"seeded fault {fault.name}", fault.game_date)):
        print(f"\n=== nba-dq run --phase all --date {game_date}   ({label})", file=out)
        summaries = run_phases(settings, list(PHASES), game_date, settings.run_time(game_date, clock))
        print(render_combined(summaries), file=out)
        codes.append(worst_exit_code(summaries))
    print(f"\nData Docs index: {settings.gx_root / 'uncommitted/data_docs/local_site/index.html'}", file=out)
    return ExitCode.COULD_NOT_RUN if ExitCode.COULD_NOT_RUN in codes else ExitCode.PASSED


def fault_catalogue() -> str:
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
    return "\n".join(lines)


def duckdb_path(settings: Settings) -> Path:
    if not settings.warehouse_url.startswith(DUCKDB_PREFIX):
        raise CouldNotRun(f"seed builds the embedded DuckDB warehouse; NBA_DQ_WAREHOUSE is {settings.warehouse_url}")
    return Path(settings.warehouse_url[len(DUCKDB_PREFIX) :])
