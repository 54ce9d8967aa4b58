"""`nba-dq demo` on a fresh folder, Data Docs pages, and runs that leave gx/ as it was."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import Workspace, make_workspace
from warehouse.seed import simulated_run_time

pytestmark = pytest.mark.acceptance


def test_demo_seeds_when_needed_and_shows_a_clean_and_a_faulty_date(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, tmp_path / "gx" / "uncommitted" / "warehouse.duckdb")
    result = workspace.cli("demo")
    assert result.code == 0, result.err
    assert "seeding" in result.out
    assert "phase5 2025-12-02: PASS" in result.out
    assert "phase5 2025-12-05: FAIL" in result.out and "player_coverage (FAIL)" in result.out
    index = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert f"Data Docs index: {index}" in result.out and index.is_file()


def test_each_run_prints_its_validation_page_which_shows_the_failure(seeded: Workspace) -> None:
    day = date(2025, 12, 5)
    result = seeded.cli(
        "run", "--phase", "5", "--date", str(day), "--now", simulated_run_time(day).isoformat(), "--json"
    )
    page = Path(result.json()["data_docs"])
    assert page.is_file() and page.suffix == ".html"
    assert "phase5-2025-12-05" in str(page)
    html = page.read_text()
    assert "player_coverage" in html or "Expected players" in html


def test_runs_change_no_committed_file_under_gx(seeded: Workspace) -> None:
    config = seeded.root / "gx" / "great_expectations.yml"
    before = hashlib.sha256(config.read_bytes()).hexdigest()
    for _ in range(2):
        assert seeded.cli("run", "--phase", "5", "--date", "2025-12-02").code == 0
    assert hashlib.sha256(config.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in (seeded.root / "gx").iterdir()) == ["great_expectations.yml", "uncommitted"]


def test_seed_lists_its_fault_catalogue(seeded: Workspace) -> None:
    result = seeded.cli("seed", "--list-faults")
    assert result.code == 0
    for name in (
        "coverage_drop",
        "duplicate_active_prediction",
        "consolidation_key_duplicate",
        "orphaned_staging_table",
        "staging_in_flight",
        "zero_predictions",
        "silent_system",
        "points_out_of_range",
    ):
        assert name in result.out
