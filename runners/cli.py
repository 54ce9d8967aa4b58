"""The `nba-dq` command: parse, call, print, exit code. Nothing else lives here.

Start-up: this module imports only what parsing needs (argparse, the phase names), so `--help` and a
usage error never load pydantic, SQLAlchemy, pandas or GX. The settings (pydantic) load once the
arguments parse, and each command then imports its own modules (runners/commands.py).
tests/test_startup_imports.py guards this.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, NoReturn, TextIO

from checkpoints.phases import ALL_PHASES, AUDITED, PHASES
from reporting.terminal import printable
from warehouse.errors import CouldNotRun, ExitCode, one_line

if TYPE_CHECKING:
    from warehouse.settings import ConfigError

PHASE_CHOICES = (*PHASES, ALL_PHASES)  # checkpoints.phases imports no GX: --help stays fast


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2 through the same path as every other error."""

    def error(self, message: str) -> NoReturn:
        raise CouldNotRun(f"{message} (see `{self.prog} --help`)")


def _game_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD") from None


def _moment(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is UTC. A bare date is refused: midnight is rarely meant."""
    example = "e.g. 2025-12-15T18:00:00Z (a time without an offset is taken as UTC)"
    try:
        date.fromisoformat(text)
    except ValueError:
        pass
    else:
        raise argparse.ArgumentTypeError(f"invalid time {text!r}: give a time of day too, {example}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid time {text!r}: use ISO 8601, {example}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def build_parser() -> argparse.ArgumentParser:
    debug = _Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="log details and tracebacks")
    parser = _Parser(prog="nba-dq", description="Data-quality checkpoints for the NBA props platform.", parents=[debug])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", parents=[debug], help="run a phase's checkpoint for a game date")
    run.add_argument(
        "--phase", required=True, choices=PHASE_CHOICES, help="pipeline phase to check (all: 3, 4, 5, 5b, 6 in order)"
    )
    run.add_argument("--date", required=True, type=_game_date, dest="game_date", help="game date, YYYY-MM-DD")
    run.add_argument(
        "--now",
        type=_moment,
        help="the moment staging ages and export freshness are judged by, a date and a time, UTC unless an offset"
        " is given (default: the clock; for a past date, its daily run at [run] replay_hour_utc)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the statements the run would issue, with job labels and (BigQuery) bytes; run no check",
    )

    seed = commands.add_parser(
        "seed", parents=[debug], help="build the embedded DuckDB warehouse with a synthetic season"
    )
    seed.add_argument("--seed", type=int, default=None, help="random seed (default: fixed)")
    seed.add_argument("--start", type=_game_date, default=None, help="first game date (default 2025-12-01)")
    seed.add_argument("--end", type=_game_date, default=None, help="last game date (default 2025-12-31)")
    seed.add_argument("--list-faults", action="store_true", help="print the seeded fault catalogue and exit")
    seed.add_argument(
        "--force",
        action="store_true",
        help="replace a warehouse file seed did not make, and write the exports beside files it did not write"
        " (those are never deleted)",
    )

    commands.add_parser("demo", parents=[debug], help="seed if needed, then check a clean and a faulty date")
    commands.add_parser("docs", parents=[debug], help="rebuild the Data Docs site and print its index")

    health = commands.add_parser("health", parents=[debug], help="the daily health table of the last game dates")
    health.add_argument("--days", type=int, default=7, help="how many days back from --end (default 7)")
    health.add_argument("--end", type=_game_date, default=None, help="last date, YYYY-MM-DD (default: today, UTC)")
    health.add_argument("--now", type=_moment, help="the moment staging-table ages are judged by (as for run)")
    health.add_argument("--json", action="store_true", help="print one JSON object instead of the table")

    audit = commands.add_parser(
        "audit", parents=[debug], help="every phase's checks over a range of game dates, set-based (a season)"
    )
    audit.add_argument("--start", required=True, type=_game_date, help="first game date, YYYY-MM-DD")
    audit.add_argument("--end", required=True, type=_game_date, help="last game date, YYYY-MM-DD")
    audit.add_argument(
        "--phase",
        default=ALL_PHASES,
        choices=(*AUDITED, ALL_PHASES),
        help=f"phase to audit (default all: {', '.join(AUDITED)})",
    )
    audit.add_argument("--now", type=_moment, help="the clock each date's daily run is replayed against (as for run)")
    audit.add_argument("--json", action="store_true", help="print one JSON object instead of the table")

    serve = commands.add_parser(
        "serve", parents=[debug], help="the Pub/Sub push service: run each phase when its processors have reported"
    )
    serve.add_argument("--host", default=None, help="address (default 0.0.0.0 when PORT is set, else 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default: PORT from the environment, else 8080)")

    sweep = commands.add_parser(
        "sweep", parents=[debug], help="report phases whose processors are overdue for a date; run abandoned rounds"
    )
    sweep.add_argument("--date", type=_game_date, default=None, dest="game_date", help="game date (default yesterday)")
    sweep.add_argument("--now", type=_moment, help="the moment overdue is judged by (default: the clock)")
    sweep.add_argument("--json", action="store_true", help="print one JSON object instead of the lines")

    doctor = commands.add_parser(
        "doctor", parents=[debug], help="check the warehouse, tables, history, Slack, Data Docs and exports"
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON object instead of the lines")
    return parser


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the CLI in-process and return the exit code (tests drive this; `entry` exits with it)."""
    env = os.environ if env is None else env
    out, err = stdout or sys.stdout, stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    _configure_logging(err, debug)
    command = next((word for word in argv if not word.startswith("-")), None)
    try:
        args = build_parser().parse_args(argv)
        command = args.command
        from warehouse.settings import ConfigError, load_settings  # pydantic: not for --help

        try:
            settings = load_settings(env)  # a config error is reported before the slow imports
        except ConfigError as error:
            if command != "doctor":
                raise
            return _doctor_without_config(error, args.json, out)
        from runners import commands  # GX loads only once a command runs

        return int(commands.dispatch(args, settings, env, out, err))
    except CouldNotRun as error:
        if debug:
            logging.getLogger("nba_dq").exception("could not run")
        return _could_not_run(one_line(str(error)), command, "--json" in argv, out, err)
    except Exception as error:  # any other failure is still "could not run", never a pass
        if debug:
            logging.getLogger("nba_dq").exception("unexpected error")
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        line = f"{type(error).__name__}: {first} (rerun with --debug for the traceback)"
        return _could_not_run(line, command, "--json" in argv, out, err)


def _could_not_run(line: str, command: str | None, as_json: bool, out: TextIO, err: TextIO) -> int:
    """Exit 2: one line on stderr, and with --json the one error object every command prints on stdout."""
    print(f"nba-dq: error: {printable(line)}", file=err)  # an error may quote data (a table name)
    if as_json:
        print(json.dumps({"status": "error", "command": command, "error": line}, indent=2), file=out)
    return int(ExitCode.COULD_NOT_RUN)


def _doctor_without_config(error: ConfigError, as_json: bool, out: TextIO) -> int:
    """doctor reports a bad config like any other problem: a FAIL line each, the other probes skipped."""
    from runners.doctor import config_findings, doctor_json, exit_code, render_doctor

    findings = config_findings(error.problems)
    print(json.dumps(doctor_json(findings), indent=2) if as_json else render_doctor(findings), file=out)
    return int(exit_code(findings))


def _configure_logging(stream: TextIO, debug: bool) -> None:
    logging.basicConfig(
        stream=stream,
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )
    if not debug:
        # GX logs its own handled errors; we report them once, as a check in error.
        logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
    # slack_sdk logs request URLs at debug level, and a webhook URL is a secret.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)


def entry() -> NoReturn:
    sys.exit(main())
