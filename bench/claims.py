"""What reconciling the completion messages' claims costs a phase's run: statements and CPU time.

Each phase runs on a clean seeded date without claims (`nba-dq run`) and with truthful claims (what
`nba-dq serve` passes); the claims add one statement to a warehouse phase and none to Phase 6.
CPU time (this process) is reported beside wall time: the machine is shared. Run: `python -m bench.claims`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench.common import private_workspace
from checkpoints.phases import PHASES
from checkpoints.run import run_phase
from tests.conftest import Workspace as TestWorkspace
from tests.reconcile_claims import DAY, truthful
from warehouse.seed import seed_duckdb, simulated_run_time
from warehouse.statements import capturing_statements

REPEATS = 5


def measured(action: Callable[[], object]) -> tuple[int, float, float]:
    """Statements of one repeat, median CPU seconds and median wall seconds."""
    cpu, wall, count = [], [], 0
    for _ in range(REPEATS):
        with capturing_statements() as statements:
            started, started_cpu = time.perf_counter(), time.process_time()
            action()
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
        count = len(statements.texts)
    return count, statistics.median(cpu), statistics.median(wall)


def main() -> None:
    with private_workspace() as workspace:
        settings = workspace.settings
        seed_duckdb(workspace.warehouse, settings)
        claims = truthful(TestWorkspace(workspace.root, workspace.warehouse))
        now = simulated_run_time(DAY)
        rows = {}
        for key in PHASES:
            run_phase(settings, key, DAY, now, claims=claims[key])  # warm-up
            without = measured(lambda key=key: run_phase(settings, key, DAY, now))
            with_claims = measured(lambda key=key: run_phase(settings, key, DAY, now, claims=claims[key]))
            rows[key] = (without, with_claims)
    print(f"claims reconciled, {DAY} on DuckDB: statements, median CPU s and wall s of {REPEATS} runs")
    print(f"{'phase':<9}{'stmts':>6}{'+claims':>8}{'cpu s':>8}{'+claims':>8}{'ratio':>7}{'wall s':>8}{'+claims':>8}")
    for key, ((n0, cpu0, wall0), (n1, cpu1, wall1)) in rows.items():
        print(
            f"{PHASES[key].checkpoint:<9}{n0:>6}{n1:>8}{cpu0:>8.2f}{cpu1:>8.2f}{cpu1 / cpu0:>7.2f}"
            f"{wall0:>8.2f}{wall1:>8.2f}"
        )


if __name__ == "__main__":
    main()
