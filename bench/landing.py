"""The site's index (the landing page) against the days of history before it: its size, the CPU time of
writing it, and the history statements it takes, after 30, 365 and 1,500 game dates of daily runs.

The history is synthesized: every phase run once a day on its own game date, each run's checks all
passing except phase5's coverage on one date in seven. No warehouse and no GX run: only what writing the
index costs (build_site_index, as every run's finish does). Medians of --repeats builds; CPU time
(time.process_time) as wall time is noisy on shared cores.
Run: `make bench` or `python -m bench.landing [--repeats N] [--days 30,365,1500]`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, datetime, timedelta, timezone

from bench.common import private_workspace
from checkpoints.phases import PHASES
from reporting import site_index
from reporting.history import History
from reporting.site_index import build_site_index

FIRST_DAY = date(2021, 10, 19)
CHECKS = ("one", "two", "three", "four")


def day_rows(day: date) -> list[dict[str, object]]:
    run_at = datetime(day.year, day.month, day.day, 18, tzinfo=timezone.utc) + timedelta(days=1)
    rows = []
    for phase in (phase.checkpoint for phase in PHASES.values()):
        failing = phase == "phase5" and day.toordinal() % 7 == 0
        for check in CHECKS:
            status = "fail" if failing and check == "one" else "pass"
            rows.append(
                {"run_id": f"{phase}-{day}", "run_at": run_at.isoformat(), "phase": phase, "game_date": str(day),
                 "check_name": check, "success": status == "pass", "status": status, "severity": "critical",
                 "observed": "{}", "expected": '"x"', "data_docs_url": None, "warehouse": "duckdb:///bench"}
            )  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="index builds per size (median)")
    parser.add_argument("--days", default="30,365,1500", help="game dates of history at which to measure")
    args = parser.parse_args()
    with private_workspace() as workspace:
        settings, history, written_days = workspace.settings, History(workspace.settings), 0
        statements: list[str] = []
        counted = site_index.read_history

        def counting(settings: object, sql: str, command: str) -> list[object]:
            statements.append(sql)
            return counted(settings, sql, command)  # type: ignore[arg-type]

        site_index.read_history = counting  # type: ignore[assignment]
        for days in (int(size) for size in args.days.split(",")):
            rows = [row for n in range(written_days, days) for row in day_rows(FIRST_DAY + timedelta(days=n))]
            history.append(rows)
            written_days = days
            now = datetime.combine(FIRST_DAY + timedelta(days=days), datetime.min.time(), timezone.utc)
            cpus = []
            for _ in range(args.repeats):
                statements.clear()
                started = time.process_time()
                build_site_index(settings, {f"{now:%Y-%m}"}, now, "bench")
                cpus.append(time.process_time() - started)
            index = settings.gx_root / "uncommitted" / "data_docs" / "local_site" / "index.html"
            print(
                f"landing: {days} game dates x {len(PHASES)} phases of runs:"
                f" index.html {index.stat().st_size / 1e3:.0f} KB,"
                f" writing the index pages {statistics.median(cpus):.2f} s CPU (median of {args.repeats}),"
                f" {len(statements)} history statements"
            )


if __name__ == "__main__":
    main()
