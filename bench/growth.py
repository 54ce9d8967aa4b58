"""A run's cost against the history before it: run 1, run 100 and run 1,000 of one `--phase all` run a day.

Each measured run is a fresh `nba-dq run --phase all` process; its CPU time includes its children
(getrusage), as wall time is noisy on shared cores. The history before runs 100 and 1,000 is synthesized
by cloning the state the first real run left (its history rows, stored validation results and pages)
with renamed run ids and run times one day apart going back: what a year or three of daily runs leaves,
without running them. Where the code has a retention setting ([data_docs] retention_days), clones
older than it get history rows only, as pruning leaves them, and `nba-dq docs` (unmeasured) writes the
monthly index pages those runs would have written. Also prints the site's size and the
gx/uncommitted file count, and `nba-dq docs` at the last size.
Run: `make bench` or `python -m bench.growth [--repeats N] [--sizes 1,100,1000]`.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from bench.common import private_workspace
from warehouse.seed import seed_duckdb
from warehouse.settings import Settings

DAY = date(2025, 12, 2)
RUN_TIME = re.compile(r"\d{8}T\d{6}\.\d{6}Z")  # GX's run_time folder (and in the pages' URLs)
RUN_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"
CLI = "import sys; from runners.cli import entry; entry()"


@dataclass(frozen=True)
class Template:
    """What the first real run left: its stored results and pages, and its history rows."""

    files: list[Path]
    rows: list[tuple[object, ...]]


def cpu_of(args: list[str], env: dict[str, str], cwd: Path) -> float:
    """CPU seconds (user + system) of a fresh process and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", CLI, *args], env=env, cwd=cwd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"nba-dq {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def site_of(settings: Settings) -> Path:
    return settings.gx_root / "uncommitted" / "data_docs" / "local_site"


def sizes(settings: Settings) -> str:
    site = site_of(settings)
    pages = [p for p in site.rglob("*.html")] if site.is_dir() else []
    index = site / "index.html"
    biggest_index = max((p.stat().st_size for p in pages if p.parent == site), default=0)
    files = [p for p in (settings.gx_root / "uncommitted").rglob("*") if p.is_file()]
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    return (
        f"index.html {index.stat().st_size / 1e3 if index.is_file() else 0:.0f} KB"
        f" (largest index page {biggest_index / 1e3:.0f} KB), site pages {len(pages)},"
        f" gx/uncommitted {len(files)} files {megabytes:.0f} MB"
    )


def history_table(settings: Settings) -> str:
    return f"{settings.datasets['monitoring']}.dq_check_results"


def take_template(settings: Settings) -> Template:
    uncommitted = settings.gx_root / "uncommitted"
    files = [
        p
        for folder in (uncommitted / "validations", site_of(settings) / "validations")
        for p in folder.rglob("*")
        if p.is_file() and RUN_TIME.fullmatch(p.parent.name)
    ]
    with duckdb.connect(str(settings.history.duckdb_file), read_only=True) as connection:
        rows = connection.execute(
            f"SELECT run_id, CAST(run_at AS VARCHAR), phase, game_date, check_name, success, status, severity,"
            f" observed, expected, data_docs_url, warehouse FROM {history_table(settings)}"
        ).fetchall()
    return Template(files, rows)


def clone(settings: Settings, template: Template, days_back: range, retention_days: int | None) -> None:
    """History rows for every clone; results and pages for those within the retention (all without one)."""
    for file in template.files:
        stamp = datetime.strptime(file.parent.name, RUN_TIME_FORMAT)
        for k in days_back:
            if retention_days is not None and k >= retention_days:
                continue
            target = file.parent.parent / (stamp - timedelta(days=k)).strftime(RUN_TIME_FORMAT) / file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
    cloned = []
    for row in template.rows:
        run_id, run_at, *rest = row
        url = rest[8]
        for k in days_back:
            at = datetime.fromisoformat(str(run_at)) - timedelta(days=k)
            new_url = url
            if url and (found := RUN_TIME.search(url)):
                shifted = datetime.strptime(found.group(0), RUN_TIME_FORMAT) - timedelta(days=k)
                new_url = url.replace(found.group(0), shifted.strftime(RUN_TIME_FORMAT))
            cloned.append((f"{run_id}-clone{k}", at.isoformat(), *rest[:8], new_url, rest[9]))
    import pandas as pd

    columns = ["run_id", "run_at", "phase", "game_date", "check_name", "success", "status", "severity",
               "observed", "expected", "data_docs_url", "warehouse"]  # fmt: skip
    frame = pd.DataFrame(cloned, columns=columns)
    with duckdb.connect(str(settings.history.duckdb_file)) as connection:
        connection.register("clones", frame)
        connection.execute(f"INSERT INTO {history_table(settings)} SELECT * FROM clones")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="measured runs per size (median)")
    parser.add_argument("--sizes", default="1,100,1000", help="runs of history at which to measure")
    args = parser.parse_args()
    targets = [int(size) for size in args.sizes.split(",")]
    cwd = Path.cwd()
    with private_workspace() as workspace:
        settings = workspace.settings
        seed_duckdb(workspace.warehouse, settings)
        env = {**os.environ, "NBA_DQ_WAREHOUSE": f"duckdb:///{workspace.warehouse}",
               "NBA_DQ_GX_ROOT": str(settings.gx_root), "NBA_DQ_EXPORT_ROOT": str(settings.export_root)}  # fmt: skip
        env.pop("NBA_DQ_CONFIG", None)
        retention_days = getattr(settings.data_docs, "retention_days", None)
        run = ["run", "--phase", "all", "--date", str(DAY)]
        runs, cloned_days, template, medians = 0, 0, None, {}
        for target in targets:
            if template is not None and target - 1 > runs:
                more = target - 1 - runs
                clone(settings, template, range(cloned_days + 1, cloned_days + 1 + more), retention_days)
                cloned_days, runs = cloned_days + more, runs + more
                if retention_days is not None:  # the monthly index pages those runs would have written
                    cpu_of(["docs"], env, cwd)
            cpus = []
            for _ in range(args.repeats):
                cpus.append(cpu_of(run, env, cwd))
                runs += 1
                if template is None:
                    template = take_template(settings)
            medians[target] = statistics.median(cpus)
            print(
                f"growth: run {target:>5}: CPU {medians[target]:6.1f} s (median of {args.repeats},"
                f" {', '.join(f'{c:.1f}' for c in cpus)}); {sizes(settings)}",
                flush=True,
            )
        first, last = targets[0], targets[-1]
        print(f"growth: run {last}/run {first} CPU ratio {medians[last] / medians[first]:.2f} (goal <= 1.10)")
        docs = cpu_of(["docs"], env, cwd)
        print(f"growth: nba-dq docs with {runs} runs of history: CPU {docs:.1f} s; {sizes(settings)}")


if __name__ == "__main__":
    main()
