"""Fixtures: a real seeded DuckDB file (built once per session) and the real CLI driven in-process.

What is shared and why it is safe (`make test` runs the suite on several xdist workers; every worker
has a session, a seeded file and a temp folder of its own):
- `seeded_file`: one seeded month per worker session; runs only read it, fault tests copy it (`scratch`).
- `seeded`: the shared file with a GX folder of the test's own, so no test sees another's results and a
  run's cost does not grow with the results stored before it.
- `month_runs`: `run --phase all --json` on a seeded date, run once per date and worker; the tests that
  judge the same run (every date's verdicts, the emulator's agreement, the statements issued) share it.
  Their parameters carry `xdist_group` marks (`month_run_group`) so a date's tests meet on one worker.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from runners.cli import main
from warehouse.seed import seed_duckdb, simulated_run_time
from warehouse.settings import PROJECT_ROOT, Settings, load_settings
from warehouse.statements import capturing_statements


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)

    def failing(self) -> set[str]:
        return {check["name"] for check in self.json()["checks"] if not check["success"]}


@dataclass
class Workspace:
    """A warehouse file, its export folder and a GX folder of a test's own, and the env pointing at them."""

    root: Path
    warehouse: Path

    @property
    def exports(self) -> Path:
        """The seed writes the exports beside the warehouse file, like gx/uncommitted/exports/v1."""
        return exports_of(self.warehouse)

    @property
    def env(self) -> dict[str, str]:
        return {
            "NBA_DQ_CONFIG": str(PROJECT_ROOT / "dq.toml"),
            "NBA_DQ_WAREHOUSE": f"duckdb:///{self.warehouse}",
            "NBA_DQ_EXPORT_ROOT": str(self.exports),
            "NBA_DQ_GX_ROOT": str(self.root / "gx"),
        }

    @property
    def settings(self) -> Settings:
        return load_settings(self.env)

    def cli(self, *argv: str, env: dict[str, str] | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), env={**self.env, **(env or {})}, stdout=out, stderr=err)
        return CliResult(code, out.getvalue(), err.getvalue())


def exports_of(warehouse: Path) -> Path:
    return warehouse.parent / "exports" / "v1"


def make_workspace(root: Path, warehouse: Path) -> Workspace:
    (root / "gx").mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "gx" / "great_expectations.yml", root / "gx")
    return Workspace(root=root, warehouse=warehouse)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup` each grouped test's id must carry its group (xdist's tag), or the groups
    are silently ignored and every worker builds the groups' fixtures again: stop instead."""
    if not getattr(config.option, "loadgroup", False):
        return
    untagged = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if untagged:
        problem = (
            f"xdist_group ignored on {len(untagged)} tests (e.g. {untagged[0]}): this pytest-xdist cannot tag"
            " this pytest's node ids; install the versions pyproject.toml asks for (make refreshes .venv)"
        )
        sys.stderr.write(problem + "\n")  # a worker's UsageError reaches the terminal only as a crash
        raise pytest.UsageError(problem)


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default seeded month, built once; tests that change data work on a copy."""
    root = tmp_path_factory.mktemp("seeded")
    path = root / "warehouse.duckdb"
    seed_duckdb(path, make_workspace(root, path).settings)
    return path


@pytest.fixture
def seeded(seeded_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The seeded month (runs only read it) with a GX folder of the test's own.

    The warehouse file is shared by the session; the GX folder is not: a run's cost grows with the
    results stored before it (Data Docs are rebuilt from them), and no test may see another's runs."""
    return make_workspace(tmp_path_factory.mktemp("runs"), seeded_file)


@dataclass(frozen=True)
class MonthRun:
    """One `run --phase all --json` on a seeded date at its simulated run time, and the SQL it issued."""

    result: CliResult
    statements: tuple[str, ...]
    workspace: Workspace  # its own GX folder: the run's history, results and pages


class MonthRuns:
    """Each seeded date's `--phase all` run, made on first request (in a GX folder of its own) and kept."""

    def __init__(self, seeded_file: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._seeded_file = seeded_file
        self._tmp_path_factory = tmp_path_factory
        self._runs: dict[date, MonthRun] = {}

    def all_phases(self, game_date: date) -> MonthRun:
        if game_date not in self._runs:
            workspace = make_workspace(self._tmp_path_factory.mktemp(f"month-run-{game_date}"), self._seeded_file)
            now = simulated_run_time(game_date).isoformat()
            with capturing_statements() as captured:
                result = workspace.cli("run", "--phase", "all", "--date", str(game_date), "--now", now, "--json")
            self._runs[game_date] = MonthRun(result, tuple(captured.texts), workspace)
        return self._runs[game_date]


def month_run_group(game_date: date | str) -> pytest.MarkDecorator:
    """Tests judging one date's shared run go to one xdist worker, which runs it once."""
    return pytest.mark.xdist_group(f"month-run-{game_date}")


@pytest.fixture(scope="session")
def month_runs(seeded_file: Path, tmp_path_factory: pytest.TempPathFactory) -> MonthRuns:
    return MonthRuns(seeded_file, tmp_path_factory)


@pytest.fixture
def scratch(seeded_file: Path, tmp_path: Path) -> Workspace:
    """A private copy of the seeded month and its exports, for tests that inject faults by hand."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(seeded_file, copy)
    shutil.copytree(exports_of(seeded_file), exports_of(copy))
    return make_workspace(tmp_path, copy)


@pytest.fixture
def sql(scratch: Workspace) -> Callable[[str], None]:
    """Run statements against the scratch warehouse with a short-lived read-write connection."""
    import duckdb

    def execute(statement: str) -> None:
        connection = duckdb.connect(str(scratch.warehouse))
        try:
            connection.execute(statement)
        finally:
            connection.close()

    return execute
