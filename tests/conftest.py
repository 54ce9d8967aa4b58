"""Fixtures: a real seeded DuckDB file (built once per session) and the real CLI driven in-process."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runners.cli import main
from warehouse.seed import seed_duckdb
from warehouse.settings import PROJECT_ROOT, Settings, load_settings


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


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default seeded month, built once; tests that change data work on a copy."""
    root = tmp_path_factory.mktemp("seeded")
    path = root / "warehouse.duckdb"
    seed_duckdb(path, make_workspace(root, path).settings)
    return path


@pytest.fixture(scope="session")
def seeded(seeded_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A read-only view of the seeded month (runs only read it)."""
    return make_workspace(tmp_path_factory.mktemp("runs"), seeded_file)


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
