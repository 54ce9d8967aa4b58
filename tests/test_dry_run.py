"""`run --dry-run` lists the statements a run issues, with their labels, and runs none of the checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Workspace, make_workspace
from warehouse.seed import simulated_run_time
from warehouse.statements import capturing_statements

pytestmark = pytest.mark.acceptance
DAY = date(2025, 12, 12)  # the orphaned staging table's date: a run fails a critical check
NOW = simulated_run_time(DAY).isoformat()


def test_dry_run_lists_the_checks_statements_a_run_issues_and_runs_none(seeded_file: Path, tmp_path: Path) -> None:
    seeded = make_workspace(tmp_path, seeded_file)
    with capturing_statements() as issued_by_dry_run:
        dry = seeded.cli("run", "--phase", "all", "--date", str(DAY), "--now", NOW, "--dry-run", "--json")
    assert dry.code == 0, dry.err  # the run itself exits 1 on this date: a dry run judges nothing
    planned = dry.json()["statements"]
    not_run = [s for s in planned if not s["ran"]]
    assert {s["labels"]["table"] for s in not_run} == {
        "upcoming_player_game_context", "player_game_summary", "ml_feature_store_v2", "player_prop_predictions",
        "staging_tables", "prediction_accuracy",
    }  # fmt: skip
    for statement in planned:
        assert statement["labels"]["app"] == "nba-dq" and statement["labels"]["command"] == "run"
        assert statement["labels"]["phase"] == statement["phase"]
        assert statement["bytes_processed"] is None  # DuckDB bills nothing
    assert {s["sql"] for s in planned if s["ran"]} == {text.strip() for text in issued_by_dry_run.texts}
    labelled_checks = {key.removeprefix("check_") for s in not_run for key in s["labels"] if key.startswith("check_")}
    assert not (seeded.root / "gx" / "uncommitted" / "validations").exists()  # no results, no Data Docs

    with capturing_statements() as issued_by_run:
        run = seeded.cli("run", "--phase", "all", "--date", str(DAY), "--now", NOW, "--json")
    assert run.code == 1
    assert [s["sql"] for s in planned] == [text.strip() for text in issued_by_run.texts]
    warehouse_checks = {c["name"] for p in run.json()["phases"] if p["phase"] != "phase6" for c in p["checks"]}
    assert labelled_checks == warehouse_checks  # every check is named on the job that runs it


def test_the_listed_statements_are_runnable_sql(seeded: Workspace) -> None:
    dry = seeded.cli("run", "--phase", "5", "--date", str(DAY), "--now", NOW, "--dry-run")
    assert dry.code == 0, dry.err
    script = dry.out
    assert "-- labels: app=nba-dq, command=run, phase=phase5, table=player_prop_predictions" in script
    statements = [part.strip() for part in script.split(";") if "SELECT" in part]
    engine = sa.create_engine(f"duckdb:///{seeded.warehouse}", connect_args={"read_only": True})
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(sa.text(statement)).fetchall()
    finally:
        engine.dispose()
    assert len(statements) == 5


def test_dry_run_of_a_date_without_games_is_one_line_and_exit_2(seeded: Workspace) -> None:
    dry = seeded.cli("run", "--phase", "3", "--date", "2025-12-24", "--dry-run")
    assert dry.code == 2
    assert dry.err.strip().count("\n") == 0 and "no games scheduled" in dry.err
