"""CLI process start-up: `--help`, and the time from process start to the first SQL statement.

Each figure is the median of N fresh processes (these machines are shared: medians, and CPU seconds
beside wall seconds). Goals (issue 13): `nba-dq --help` and every subcommand's --help below 0.5 s;
start-up before the first statement below 2 s for commands that need no GX yet (run's preflight,
health, audit, doctor). One full `run --phase 5` is reported too (wall and CPU of the whole process).
Run: `make bench` or `python -m bench.startup [--repeats N]` (seeds a private warehouse first).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import Workspace, private_workspace
from bench.first_statement import EXIT_AT_FIRST, OUT, STARTED
from warehouse.seed import seed_duckdb
from warehouse.settings import PROJECT_ROOT

HELP_GOAL = 0.5
FIRST_STATEMENT_GOAL = 2.0
CLI = "from runners.cli import entry; entry()"  # what the `nba-dq` script runs
SUBCOMMANDS = ("run", "seed", "demo", "docs", "health", "audit", "doctor")
FIRST_STATEMENT = {
    "run --phase 5": ["run", "--phase", "5", "--date", "2025-12-02"],
    "health": ["health", "--end", "2025-12-07", "--days", "7"],
    "audit --phase all": ["audit", "--start", "2025-12-01", "--end", "2025-12-31"],
    "doctor": ["doctor"],
}


@dataclass(frozen=True)
class Process:
    wall: float  # seconds from before the fork to the process's end
    cpu: float  # user + system seconds of the process (and its children)
    first_wall: float | None = None  # seconds from before the fork to the first SQL statement
    first_cpu: float | None = None  # the process's CPU seconds at its first SQL statement


def _environment(workspace: Workspace) -> dict[str, str]:
    """The benchmark's warehouse, a fresh GX folder per process (no history carried over), no Slack."""
    gx = Path(tempfile.mkdtemp(prefix="gx-", dir=workspace.root))
    shutil.copy(PROJECT_ROOT / "gx" / "great_expectations.yml", gx)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("NBA_DQ_", "SLACK_"))}
    return {
        **env,
        "NBA_DQ_WAREHOUSE": workspace.settings.warehouse_url,
        "NBA_DQ_GX_ROOT": str(gx),
        "NBA_DQ_EXPORT_ROOT": str(workspace.settings.export_root),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process(command: list[str], env: dict[str, str], expect: set[int]) -> Process:
    cpu_before = _children_cpu()
    started = time.monotonic()
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode not in expect:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return Process(wall, _children_cpu() - cpu_before)


def _probed(workspace: Workspace, args: list[str], exit_at_first: bool) -> Process:
    """One fresh CLI process run through bench.first_statement; its start-up to the first statement."""
    env = _environment(workspace)
    out = Path(env["NBA_DQ_GX_ROOT"]) / "first-statement.json"
    cpu_before = _children_cpu()
    env.update({OUT: str(out), EXIT_AT_FIRST: "1" if exit_at_first else "0", STARTED: repr(time.monotonic())})
    done = subprocess.run(
        [sys.executable, "-m", "bench.first_statement", *args], cwd=PROJECT_ROOT, env=env, capture_output=True
    )
    wall = time.monotonic() - float(env[STARTED])
    if not exit_at_first and done.returncode not in (0, 1):
        raise SystemExit(f"nba-dq {' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    if not out.is_file():
        raise SystemExit(f"nba-dq {' '.join(args)} issued no SQL statement (exit {done.returncode})")
    first = json.loads(out.read_text(encoding="utf-8"))
    return Process(wall, _children_cpu() - cpu_before, first["wall"], first["cpu"])


def _median(values: list[float | None]) -> float:
    return statistics.median(value for value in values if value is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per figure (median)")
    repeats = parser.parse_args().repeats
    with private_workspace() as workspace:
        seed_duckdb(workspace.warehouse, workspace.settings)
        _measure(workspace, repeats)


def _measure(workspace: Workspace, repeats: int) -> None:
    env = _environment(workspace)
    print(f"CLI start-up (fresh processes, medians of {repeats}; goals: --help {HELP_GOAL} s, "
          f"first statement {FIRST_STATEMENT_GOAL} s)")  # fmt: skip
    # CPU beside wall: on a loaded machine a process waits for a core, and CPU is what it cost.
    print(f"{'process':<40}{'wall s':>8}{'CPU s':>8}{'goal s':>8}{'wall/goal':>11}{'CPU/goal':>10}")

    def line(label: str, wall: float, cpu: float, goal: float | None) -> None:
        ratios = f"{wall / goal:>10.2f}x{cpu / goal:>9.2f}x" if goal else ""
        print(f"{label:<40}{wall:>8.2f}{cpu:>8.2f}{goal or '':>8}{ratios}")

    # The interpreter alone, for scale: what no import placement can save, and what load adds to it.
    bare = [_process([sys.executable, "-c", "pass"], env, {0}) for _ in range(repeats)]
    line("python -c pass (the interpreter)", _median([r.wall for r in bare]), _median([r.cpu for r in bare]), None)
    helps = {"--help": [sys.executable, "-c", CLI, "--help"]}
    helps.update({f"{name} --help": [sys.executable, "-c", CLI, name, "--help"] for name in SUBCOMMANDS})
    for label, command in helps.items():
        runs = [_process(command, env, {0}) for _ in range(repeats)]
        line(f"nba-dq {label}", _median([r.wall for r in runs]), _median([r.cpu for r in runs]), HELP_GOAL)
    for label, args in FIRST_STATEMENT.items():
        runs = [_probed(workspace, args, exit_at_first=True) for _ in range(repeats)]
        first_wall, first_cpu = _median([r.first_wall for r in runs]), _median([r.first_cpu for r in runs])
        line(f"{label}: to first statement", first_wall, first_cpu, FIRST_STATEMENT_GOAL)
    full = [_probed(workspace, FIRST_STATEMENT["run --phase 5"], exit_at_first=False) for _ in range(repeats)]
    line("run --phase 5: to first statement", _median([r.first_wall for r in full]),
         _median([r.first_cpu for r in full]), FIRST_STATEMENT_GOAL)  # fmt: skip
    line("run --phase 5: whole process", _median([r.wall for r in full]), _median([r.cpu for r in full]), None)


if __name__ == "__main__":
    main()
