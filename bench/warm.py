"""A warm nba-dq run against Soda Core's scan and the hand-written statement, for one date.

Warm: one process runs the date again and again (context, imports and first connections paid before
timing), as a service or an in-process loop would: declare, one statement per table, GX validation,
that run's Data Docs pages, the history. Soda scans the same date of the same file read-only, timed
inside its own process (bench/soda_yardstick.py). Prints medians of wall and CPU time, the share of
the run spent building Data Docs (GX's page rendering and the offline rewrite), the ratios, and
whether nba-dq and Soda give the same verdict per check on a clean date and every Phase 5 fault date.
Run: `make bench` or `python -m bench.warm [--repeats N]` (seeds a private warehouse).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.common import private_workspace
from bench.phase5 import ONE_DATE, hand_written
from bench.soda_yardstick import phase5_sodacl, scan, verdicts
from checkpoints.phases import PHASES
from checkpoints.run import run_phase, run_phases
from reporting.history import recorder
from reporting.reporter import Reporting
from warehouse.seed import FAULTS, seed_duckdb, simulated_run_time
from warehouse.settings import Settings

PHASE5 = "phase5"
LOOP_DATES = [date(2025, 12, n) for n in (2, 3, 4, 6, 7)]  # clean dates with games


@dataclass(frozen=True)
class Figures:
    wall: float  # medians, seconds
    cpu: float
    docs: float  # of the wall time, in GX's Data Docs build and the offline rewrite


@contextmanager
def docs_timer() -> Iterator[list[float]]:
    """Seconds spent in Data Docs per run: the run's pages (RunPagesAction: GX renders them, then they
    are made offline-safe) and the index from the history (finish_site), timed around the real functions."""
    import reporting.site_index as index_module
    from checkpoints.run_pages import RunPagesAction

    spent = [0.0]

    def timing(function: Callable[..., object]) -> Callable[..., object]:
        def timed(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return timed

    pages, finish = RunPagesAction.run, index_module.finish_site
    RunPagesAction.run = timing(pages)  # type: ignore[method-assign]
    index_module.finish_site = timing(finish)  # type: ignore[assignment]
    try:
        yield spent
    finally:
        RunPagesAction.run = pages  # type: ignore[method-assign]
        index_module.finish_site = finish


def measure(action: Callable[[], object], repeats: int) -> Figures:
    walls, cpus, docs = [], [], []
    with docs_timer() as spent:
        for _ in range(repeats):
            spent[0] = 0.0
            wall, cpu = time.perf_counter(), time.process_time()
            action()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            docs.append(spent[0])
    return Figures(statistics.median(walls), statistics.median(cpus), statistics.median(docs))


def fault_dates() -> list[date]:
    return sorted({fault.game_date for fault in FAULTS if PHASE5 in fault.failing})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (medians)")
    repeats = parser.parse_args().repeats
    with private_workspace() as workspace:
        seed_duckdb(workspace.warehouse, workspace.settings)
        _measure(workspace.warehouse, workspace.settings, repeats)


def _measure(path: Path, settings: Settings, repeats: int) -> None:
    now = simulated_run_time(ONE_DATE)
    history = Reporting(record=recorder(settings))  # as `nba-dq run`: the verdict goes to the history
    phase5 = lambda: run_phase(settings, "5", ONE_DATE, now, history)  # noqa: E731
    every_phase = lambda: run_phases(settings, list(PHASES), ONE_DATE, now, history)  # noqa: E731
    phase5(), every_phase()  # warm-up: imports, the context, first connections
    ours = measure(phase5, repeats)
    ours_all = measure(every_phase, repeats)
    # A loop over dates: each date's suites differ (volume bounds, run time), so each run registers them.
    days = iter(LOOP_DATES * repeats)

    def next_date() -> None:
        day = next(days)
        run_phase(settings, "5", day, simulated_run_time(day), history)

    ours_loop = measure(next_date, repeats)
    hand = measure(lambda: hand_written(path, ONE_DATE, ONE_DATE), repeats)
    soda = scan(path, {str(ONE_DATE): phase5_sodacl(settings, ONE_DATE, now)}, repeats)[str(ONE_DATE)]

    print(f"warm run, {ONE_DATE}, DuckDB; medians of {repeats} (wall and CPU s)")
    print(f"{'':<34}{'wall':>8}{'CPU':>8}{'docs':>8}{'vs Soda':>9}{'CPU vs Soda':>13}{'vs SQL':>8}")
    rows = (
        ("Soda Core scan, phase 5", soda.wall, soda.cpu, 0.0, 1),
        ("hand-written statement", hand.wall, hand.cpu, 0.0, 1),
        ("nba-dq run --phase 5", ours.wall, ours.cpu, ours.docs, 1),
        ("nba-dq run --phase 5, next date", ours_loop.wall, ours_loop.cpu, ours_loop.docs, 1),
        ("nba-dq run --phase all", ours_all.wall, ours_all.cpu, ours_all.docs, 5),
    )
    for name, wall, cpu, docs, scans in rows:
        versus, cpu_versus = wall / (scans * soda.wall), cpu / (scans * soda.cpu)
        print(
            f"{name:<34}{wall:>8.3f}{cpu:>8.3f}{docs:>8.3f}{versus:>8.2f}x{cpu_versus:>12.2f}x{wall / hand.wall:>7.0f}x"
        )
    print("  (--phase all against five Soda scans of phase 5's size; docs: wall s in Data Docs; CPU: process time")
    print("   incl. DuckDB's threads; Soda's is measured inside its process, after its imports)")
    without_docs = ours.wall - ours.docs
    print(f"nba-dq run --phase 5 without Data Docs: {without_docs:.3f} s = {without_docs / soda.wall:.2f}x Soda")
    _agreement(path, settings)


def _agreement(path: Path, settings: Settings) -> None:
    """nba-dq's and Soda's failing checks on a clean date and each Phase 5 fault date."""
    days = [ONE_DATE, *fault_dates()]
    texts = {str(day): phase5_sodacl(settings, day, simulated_run_time(day)) for day in days}
    soda = scan(path, texts, 1)
    agreed = 0
    for day in days:
        summary = run_phase(settings, "5", day, simulated_run_time(day))
        ours = {check.name for check in summary.failed()}
        theirs = {name for name, passed in verdicts(soda[str(day)].outcomes).items() if not passed}
        agreed += ours == theirs
        if ours != theirs:
            print(f"  {day}: nba-dq fails {sorted(ours)}, Soda fails {sorted(theirs)}")
    print(f"verdicts per check agree with Soda on {agreed} of {len(days)} dates (1 clean, {len(days) - 1} faulty)")


if __name__ == "__main__":
    main()
