"""What `nba-dq serve` adds to a run, and what a push that runs nothing costs.

Prints, on a private seeded month with the local state store (Flask's test client, no socket):
- a push answered without a run (waiting for processors, a duplicate): median wall and CPU time per
  push and the state store operations it makes (reads, creates, replaces);
- a Phase 5 verdict through a push against the same run through `run_phases` (warm: the GX context
  built by an earlier run): median wall time, CPU time, SQL statements, and the ratio;
- one message delivered 8 times at once: how many runs and history runs, and the 8 answers.
Run: `make bench` or `python -m bench.service [--repeats N]` (seeds a month first, about half a minute).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from bench.common import private_workspace
from checkpoints.run import run_phases
from reporting.history import read_history
from runners.commands import build_reporting
from runners.events import PushContext
from runners.service import create_app
from state.store import LocalFiles, Stored
from warehouse.seed import seed_duckdb
from warehouse.statements import capturing_statements

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pubsub"
GAME_DATE = date(2025, 12, 30)
CLOCK = datetime(2025, 12, 31, 12, tzinfo=timezone.utc)


class CountingStore(LocalFiles):
    """The local store, counting its operations."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: Counter[str] = Counter()

    def read(self, name: str) -> Stored | None:
        self.calls["read"] += 1
        return super().read(name)

    def create(self, name: str, document: Any) -> bool:
        self.calls["create"] += 1
        return super().create(name, document)

    def replace(self, name: str, document: Any, version: str) -> bool:
        self.calls["replace"] += 1
        return super().replace(name, document, version)


def delivery(name: str, message_id: str, **changes: Any) -> dict[str, Any]:
    body = {**json.loads(next(FIXTURES.glob(f"*--{name}.json")).read_text()), **changes}
    return {"message": {"data": base64.b64encode(json.dumps(body).encode()).decode(), "messageId": message_id}}


def per_call(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of one call."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with private_workspace() as workspace:
        seed_duckdb(workspace.warehouse, workspace.settings)
        settings, env = replace(workspace.settings, push_auth=False), {}  # NBA_DQ_PUSH_AUTH=off
        store = CountingStore(workspace.root / "state")
        app = create_app(settings, env, context=PushContext(store, "bench", lambda: CLOCK))
        client = app.test_client()
        post = lambda message: client.post("/pubsub/push", json=message).get_json()["outcome"]  # noqa: E731

        waiting = delivery("PlayerGameSummaryProcessor", "1")
        assert post(waiting) == "waiting"
        store.calls.clear()
        wall, cpu = per_call(lambda: post(waiting), args.repeats * 20)
        operations = {key: value / (args.repeats * 20) for key, value in store.calls.items()}
        print(f"push answered without a run (duplicate while waiting): {wall * 1000:.1f} ms wall, "
              f"{cpu * 1000:.1f} ms CPU per push; state store per push: {operations}")  # fmt: skip

        direct = lambda: run_phases(settings, ["5"], GAME_DATE, settings.run_time(GAME_DATE, CLOCK),  # noqa: E731
                                    build_reporting(settings, env, io.StringIO()))  # fmt: skip
        direct()  # warm: the GX context, the suite
        numbers = iter(range(1000, 2000))

        def pushed() -> None:  # each a new batch execution: a re-report, so a new round and a run
            number = next(numbers)
            assert post(delivery("PredictionCoordinator", str(number), execution_id=f"batch_{number}")) == "verdict"

        timings = {}
        for label, action in (("run_phases", direct), ("push", pushed)):
            with capturing_statements() as statements:
                timings[label] = (*per_call(action, args.repeats), len(statements.texts) // args.repeats)
        for label, (wall, cpu, count) in timings.items():
            print(f"phase5 verdict via {label}: {wall:.2f} s wall, {cpu:.2f} s CPU, {count} statements (median)")
        print(f"push / run_phases: wall x{timings['push'][0] / timings['run_phases'][0]:.2f}, "
              f"CPU x{timings['push'][1] / timings['run_phases'][1]:.2f}")  # fmt: skip

        before = len(read_history(settings, "SELECT DISTINCT run_id FROM nba_monitoring.dq_check_results", "bench"))
        answers: list[str] = []
        gate = threading.Barrier(8)
        same = delivery("Phase5BGrading", "8888")

        def concurrent() -> None:
            gate.wait()
            answers.append(app.test_client().post("/pubsub/push", json=same).get_json()["outcome"])

        threads = [threading.Thread(target=concurrent) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = len(read_history(settings, "SELECT DISTINCT run_id FROM nba_monitoring.dq_check_results", "bench"))
        print(f"one message delivered 8 times at once: {dict(Counter(answers))}, history runs added: {after - before}")


if __name__ == "__main__":
    main()
