"""What nba-dq's state costs: a store operation on local files and on GCS (a fake GCS server on
127.0.0.1, so the figures are round trips to a local process, not to Google), and an alert's commit and
delivery (Alerter.notify with a stand-in sender that answers at once) on each.

Prints medians of wall and CPU time (this process; the fake server's CPU is not counted). Run:
`make bench` or `python -m bench.state_store [--repeats N]`. Skips the GCS lines, saying why, when the
fake server cannot run here.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import on_fake_gcs
from checkpoints.summary import CheckOutcome, RunSummary
from reporting.alerts import Alerter, RunLinks
from reporting.slack import DELIVERED, Answer, Destination, Routing
from state.store import LocalFiles, StateStore, update

DESTINATION = Destination("webhook", "SLACK_WEBHOOK_URL")
ROUTING = Routing(critical=DESTINATION, warning=DESTINATION, resolved=DESTINATION)
LINKS = RunLinks(data_docs_url=str, rerun_command=lambda summary: "nba-dq run", inspect_command=str)


class Instant:
    def send(self, destination: Destination, payload: dict[str, Any]) -> Answer:
        return DELIVERED


def median_ms(action: Callable[[int], object], repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for number in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        action(number)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def measure(label: str, store: StateStore, repeats: int) -> None:
    store.create("bench/doc.json", {"n": 0})
    lines = {
        "create": lambda n: store.create(f"bench/new-{n}.json", {"n": n}),
        "read": lambda n: store.read("bench/doc.json"),
        "update (read + compare-and-set)": lambda n: update(store, "bench/doc.json", lambda doc: {"n": n}),
        "list (20 documents)": lambda n: store.list("bench/new-"),
        "lock taken and given back": _lock_cycle(store),
    }
    for name, action in lines.items():
        wall, cpu = median_ms(action, repeats)
        print(f"state store {label:5} {name:32} {wall:7.2f} ms wall {cpu:6.2f} ms CPU (median of {repeats})")
    alerter = Alerter(ROUTING, Instant(), store, LINKS, repeat_after=timedelta(hours=6))
    verdicts = [_failing(date(2025, 12, 1) + timedelta(days=n)) for n in range(repeats)]
    wall, cpu = median_ms(lambda n: alerter.notify(verdicts[n]), repeats)
    print(f"state store {label:5} {'alert (commit + deliver + ledger)':32} {wall:7.2f} ms wall {cpu:6.2f} ms CPU")


def _lock_cycle(store: StateStore) -> Callable[[int], None]:
    def cycle(number: int) -> None:
        with store.locked("bench/.lock"):
            pass

    return cycle


def _failing(day: date) -> RunSummary:
    check = CheckOutcome("player_coverage", "fail", "critical", [{"coverage": 0.6}], ">= 90%")
    return RunSummary("phase5", day, (check,), data_docs=())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory(prefix="nba-dq-bench-state-") as folder:
        measure("local", LocalFiles(Path(folder)), repeats)
    on_fake_gcs("state store", lambda store: measure("gcs", store, repeats))


if __name__ == "__main__":
    main()
