"""SQL statements per phase for one date, on DuckDB and on the BigQuery emulator, per table read.

On BigQuery each statement is a job (~0.5-1.5 s, at least 10 MB billed per table referenced), so the
target is at most 2 statements per table a phase reads. Run: `python -m bench.statements` (seeds a
private warehouse; starts and stops the emulator on 127.0.0.1).
"""

from __future__ import annotations

import os
from datetime import date

from bench.common import Timing, private_workspace, timed
from checkpoints.phases import PHASES
from checkpoints.run import run_phase
from tests.bigquery_emulator import PROJECT, bigquery_emulator
from warehouse.seed import seed_duckdb, simulated_run_time
from warehouse.seed.bigquery import load_into_bigquery
from warehouse.settings import Settings, load_settings

ONE_DATE = date(2025, 12, 2)


REPEATS = 3


def per_phase(settings: Settings) -> dict[str, Timing]:
    now = simulated_run_time(ONE_DATE)
    return {key: timed(lambda key=key: run_phase(settings, key, ONE_DATE, now), REPEATS) for key in PHASES}


def main() -> None:
    os.environ.setdefault("NO_GCE_CHECK", "True")  # the emulator needs no Google credentials
    with private_workspace() as workspace:
        settings = workspace.settings
        seed_duckdb(workspace.warehouse, settings)
        per_phase(settings)  # warm-up
        on_duckdb = per_phase(settings)
        with bigquery_emulator(workspace.root / "emulator.log") as endpoint:
            emulated = load_settings({
                "NBA_DQ_WAREHOUSE": f"bigquery://{PROJECT}",
                "NBA_DQ_BIGQUERY_ENDPOINT": endpoint,
                "NBA_DQ_GX_ROOT": str(settings.gx_root),
                "NBA_DQ_EXPORT_ROOT": settings.export_root,
            })  # fmt: skip
            load_into_bigquery(workspace.warehouse, emulated)
            on_emulator = per_phase(emulated)
    print(f"statements per phase for {ONE_DATE} (target: at most 2 per table read); wall: median of {REPEATS}")
    print(f"{'phase':<9}{'tables':>7}{'DuckDB':>8}{'per table':>11}{'wall s':>8}", end="")
    print(f"{'emulator':>10}{'per table':>11}{'wall s':>8}")
    for key, phase in PHASES.items():
        tables, local, remote = len(phase.tables), on_duckdb[key], on_emulator[key]
        print(
            f"{phase.checkpoint:<9}{tables:>7}{local.statements:>8}{local.statements / tables:>11.1f}"
            f"{local.seconds:>8.2f}{remote.statements:>10}{remote.statements / tables:>11.1f}{remote.seconds:>8.2f}"
        )


if __name__ == "__main__":
    main()
