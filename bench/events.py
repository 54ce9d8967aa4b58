"""Event-to-verdict latency per phase, on DuckDB and on the BigQuery emulator, and the service's memory.

`nba-dq serve` runs as a real process on 127.0.0.1 (no push token check), verdicts go to Google's
Pub/Sub emulator. Events are the platform's real completion messages (tests/fixtures/pubsub) for
several seeded dates, POSTed as push envelopes one by one, phase after phase, as the platform sends
them. A phase's latency is timed from the POST of the message that completes its processor set to
(a) the HTTP answer and (b) its verdict pulled from the verdict topic; p50 and p95 over the dates.
The service's CPU seconds (its processes, from /proc) are printed too, as wall time is noisy here.

Memory: a fresh service's resident set (all its processes) after 0, 50, 100, 150 and 200 events
(successive dates' messages, every one a new event, a run per completed phase): it must not grow
with the number of events; the slope (KiB per event) is printed over 50..200, and over each half of that
range (a leak keeps its slope; a process settling after its first runs flattens).
Run: `make bench` or `python -m bench.events [--dates N] [--bigquery-dates N] [--rss-events N]`.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bench.common import private_workspace
from tests.bigquery_emulator import PROJECT as BIGQUERY_PROJECT
from tests.bigquery_emulator import bigquery_emulator
from tests.platform_messages import PlatformMessage, all_messages
from tests.pubsub_emulator import Emulator, create_pull_subscription, create_topic, pubsub_emulator, pull
from tests.service_process import ServiceProcess, service_env
from warehouse.seed import seed_duckdb
from warehouse.seed.bigquery import load_into_bigquery
from warehouse.settings import Settings, load_settings

FIRST_DATE = date(2025, 12, 2)
PHASES = ("phase3", "phase4", "phase5", "phase5b", "phase6")
RSS_EVERY = 50


@dataclass
class Latencies:
    answer: dict[str, list[float]] = field(default_factory=lambda: {phase: [] for phase in PHASES})
    verdict: dict[str, list[float]] = field(default_factory=lambda: {phase: [] for phase in PHASES})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {phase: [] for phase in PHASES})


def dates(count: int, start: date = FIRST_DATE) -> list[date]:
    return [start + timedelta(days=offset) for offset in range(count)]


def workspace_env(settings: Settings) -> dict[str, str]:
    return {
        "NBA_DQ_WAREHOUSE": settings.warehouse_url,
        "NBA_DQ_GX_ROOT": str(settings.gx_root),
        "NBA_DQ_EXPORT_ROOT": settings.export_root,
        **({"NBA_DQ_BIGQUERY_ENDPOINT": settings.bigquery_endpoint} if settings.bigquery_endpoint else {}),
    }


def fresh_gx(env: dict[str, str], name: str) -> dict[str, str]:
    """`env` with a GX folder of its own beside the workspace's: a service that has seen no event yet."""
    gx_root = Path(env["NBA_DQ_GX_ROOT"])
    fresh = gx_root.with_name(f"gx-{name}")
    fresh.mkdir()
    shutil.copy(gx_root / "great_expectations.yml", fresh)
    return {**env, "NBA_DQ_GX_ROOT": str(fresh)}


class Bench:
    """One service against one warehouse, its verdicts pulled from one subscription."""

    def __init__(self, service: ServiceProcess, verdicts: str) -> None:
        self.service, self.verdicts = service, verdicts
        self.events = 0

    def post(self, message: PlatformMessage) -> tuple[int, float]:
        self.events += 1
        started = time.perf_counter()
        status, body = self.service.push(message.data, f"bench-{self.events}-{time.time_ns()}")
        if status >= 300:
            raise SystemExit(f"{message.processor} {message.body.get('game_date')}: {status} {body[:300]}")
        return status, time.perf_counter() - started

    def phase_latency(self, messages: list[PlatformMessage], into: Latencies, phase: str) -> None:
        for message in messages[:-1]:
            self.post(message)
        cpu = self.service.cpu_seconds()
        started = time.perf_counter()
        _, answered = self.post(messages[-1])
        pulled = pull(self.verdicts, expect=1, timeout=300)
        if len(pulled) != 1 or pulled[0].attributes["phase"] != phase:
            raise SystemExit(f"{phase}: expected its one verdict, pulled {[m.attributes for m in pulled]}")
        into.answer[phase].append(answered)
        into.verdict[phase].append(time.perf_counter() - started)
        into.cpu[phase].append(self.service.cpu_seconds() - cpu)


@contextmanager
def running_service(env: dict[str, str], emulator: Emulator, log: Path, name: str) -> Iterator[Bench]:
    topic = create_topic(emulator, f"verdicts-{name}")
    verdicts = create_pull_subscription(emulator, topic, f"verdicts-{name}-pull")
    service = ServiceProcess(service_env(env, emulator.host, topic, slack_url=None), log).start()
    try:
        yield Bench(service, verdicts)
    finally:
        service.stop()


def latencies(bench: Bench, days: list[date]) -> tuple[Latencies, Latencies]:
    """(the first date's: a fresh process, GX and the warehouse connection built on its first event;
    the other dates')."""
    first, measured = Latencies(), Latencies()
    for day in days:
        messages = all_messages(day)
        for key, phase in zip(("3", "4", "5", "5b", "6"), PHASES, strict=True):
            bench.phase_latency(
                [m for m in messages if m.phase_key == key], first if day == days[0] else measured, phase
            )
    return first, measured


def memory(bench: Bench, events: int) -> list[tuple[int, int]]:
    """(events so far, resident KiB) every RSS_EVERY events."""
    series = [(0, bench.service.rss_kib())]
    day = FIRST_DATE
    while bench.events < events:
        for message in all_messages(day):
            bench.post(message)
            if bench.events % RSS_EVERY == 0:
                series.append((bench.events, bench.service.rss_kib()))
            if bench.events >= events:
                break
        day += timedelta(days=1)
    pull(bench.verdicts, expect=10_000, timeout=5)  # drain
    return series


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value at least `share` of the values do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def print_latencies(title: str, timed: tuple[Latencies, Latencies]) -> None:
    first, measured = timed
    count = len(measured.answer[PHASES[0]])
    cold = ", ".join(f"{phase} {first.answer[phase][0]:.2f}" for phase in PHASES)
    print(f"{title}: a fresh service's first date, HTTP answer seconds: {cold}")
    print(f"{title}: event-to-verdict seconds over the next {count} dates (p50 / p95)")
    print(f"{'phase':<9}{'HTTP answer':>16}{'verdict pulled':>18}{'service CPU s':>16}")
    for phase in PHASES:
        answer, verdict, cpu = measured.answer[phase], measured.verdict[phase], measured.cpu[phase]
        print(
            f"{phase:<9}{percentile(answer, 0.5):>8.2f} / {percentile(answer, 0.95):<5.2f}"
            f"{percentile(verdict, 0.5):>10.2f} / {percentile(verdict, 0.95):<5.2f}"
            f"{statistics.median(cpu):>10.2f} / {percentile(cpu, 0.95):<5.2f}"
        )


def print_memory(series: list[tuple[int, int]]) -> None:
    print("service resident memory (all its processes) after N events")
    print("  ".join(f"{events}: {kib / 1024:.0f} MiB" for events, kib in series))
    later = [(events, kib) for events, kib in series if events >= RSS_EVERY]  # after the first runs loaded GX
    halves = (later, later[: (len(later) + 1) // 2], later[len(later) // 2 :]) if len(later) >= 4 else (later,)
    for part in halves:
        if len(part) >= 2:
            slope = statistics.linear_regression([e for e, _ in part], [k for _, k in part]).slope
            print(f"slope over {part[0][0]}..{part[-1][0]} events: {slope:.1f} KiB per event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dates", type=int, default=11, help="dates timed on DuckDB (the first is the warm-up; 0: none)"
    )
    parser.add_argument("--bigquery-dates", type=int, default=4, help="dates timed on the BigQuery emulator (0: none)")
    parser.add_argument("--rss-events", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("NO_GCE_CHECK", "True")
    with private_workspace() as workspace, pubsub_emulator(workspace.root / "pubsub.log") as emulator:
        seed_duckdb(workspace.warehouse, workspace.settings)
        env = workspace_env(workspace.settings)
        on_duckdb = None
        if args.dates:
            with running_service(env, emulator, workspace.root / "duckdb.log", "duckdb") as bench:
                on_duckdb = latencies(bench, dates(args.dates))
        with running_service(fresh_gx(env, "memory"), emulator, workspace.root / "memory.log", "memory") as bench:
            series = memory(bench, args.rss_events)
        on_bigquery = None
        if args.bigquery_dates:
            with bigquery_emulator(workspace.root / "bigquery.log") as endpoint:
                emulated = load_settings({**env, "NBA_DQ_WAREHOUSE": f"bigquery://{BIGQUERY_PROJECT}",
                                          "NBA_DQ_BIGQUERY_ENDPOINT": endpoint})  # fmt: skip
                load_into_bigquery(workspace.warehouse, emulated)
                bigquery_env = fresh_gx(workspace_env(emulated), "bigquery")
                with running_service(bigquery_env, emulator, workspace.root / "bigquery-service.log", "bq") as bench:
                    on_bigquery = latencies(bench, dates(args.bigquery_dates))
    if on_duckdb is not None:
        print_latencies("DuckDB", on_duckdb)
    if on_bigquery is not None:
        print_latencies("BigQuery emulator", on_bigquery)
    print_memory(series)


if __name__ == "__main__":
    main()
