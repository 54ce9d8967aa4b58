"""What the benchmarks share: a private workspace, statement counting and median timing."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from state.store import StateStore
from warehouse.settings import PROJECT_ROOT, Settings, load_settings
from warehouse.statements import capturing_statements


@dataclass(frozen=True)
class Workspace:
    root: Path
    warehouse: Path
    settings: Settings


@contextmanager
def private_workspace() -> Iterator[Workspace]:
    """A warehouse path, GX folder and export folder of the benchmark's own (never the project's), removed after."""
    root = Path(tempfile.mkdtemp(prefix="nba-dq-bench-"))
    (root / "gx").mkdir()
    shutil.copy(PROJECT_ROOT / "gx" / "great_expectations.yml", root / "gx")
    path = root / "warehouse.duckdb"
    env = {
        "NBA_DQ_WAREHOUSE": f"duckdb:///{path}",
        "NBA_DQ_GX_ROOT": str(root / "gx"),
        "NBA_DQ_EXPORT_ROOT": str(root / "exports" / "v1"),
    }
    try:
        yield Workspace(root, path, load_settings(env))
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class Timing:
    seconds: float  # median wall time of the repeats
    statements: int  # SQL statements one repeat issued
    statement_seconds: float  # median time spent inside those statements


def timed(action: Callable[[], object], repeats: int) -> Timing:
    walls, inside, counts = [], [], []
    for _ in range(repeats):
        with capturing_statements() as statements:
            started = time.perf_counter()
            action()
            walls.append(time.perf_counter() - started)
        inside.append(statements.seconds)
        counts.append(len(statements.texts))
    return Timing(statistics.median(walls), counts[-1], statistics.median(inside))


def on_fake_gcs(label: str, measure: Callable[[StateStore], None]) -> None:
    """`measure` a GcsStore on a fake GCS server on 127.0.0.1, or one line saying why it cannot run here."""
    try:
        from tests.gcs_server import gcs_server

        with gcs_server() as server:
            from state.gcs import GcsStore

            measure(GcsStore(server.url("bench")))
    except BaseException as error:  # pytest.skip's exception included: the fake server cannot run here
        if isinstance(error, KeyboardInterrupt):
            raise
        print(f"{label} gcs   skipped: {str(error).splitlines()[0]}")
