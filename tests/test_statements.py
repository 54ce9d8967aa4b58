"""Every statement a run issues is captured; each read of a partitioned table filters game_date.

BigQuery rejects queries on require_partition_filter tables without a game_date predicate, and GX's
batch discovery or temp tables would break that: this parses every statement with sqlglot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from checkpoints.phases import PHASES
from checkpoints.run import run_phase
from tests.conftest import MonthRuns, Workspace, month_run_group
from tests.reconcile_claims import DAY, truthful
from warehouse.catalog import ALL_TABLES, PARTITION_COLUMN
from warehouse.seed import FAULTS, simulated_run_time
from warehouse.statements import capturing_statements

pytestmark = pytest.mark.acceptance
PARTITIONED = {table.name for table in ALL_TABLES if table.partitioned}
RUN_DATES = [date(2025, 12, 2), *(fault.game_date for fault in FAULTS)]  # a clean date and every fault's


@pytest.fixture
def statements() -> Iterator[list[str]]:
    with capturing_statements() as captured:
        yield captured.texts


def constant(node: exp.Expression) -> bool:
    return not list(node.find_all(exp.Column))


def unpruned_reads(statement: str, dialect: str = "duckdb") -> list[str]:
    """Partitioned tables read by a SELECT whose WHERE has no `game_date = <constant>` or
    `game_date BETWEEN <constant> AND <constant>` (a trailing window or an audited range): the forms
    BigQuery prunes partitions on (never a function of the column)."""
    problems = []
    statement = re.sub(r"%\([^)]*\)s", "0", statement)  # sqlalchemy-bigquery's bound parameters: %(name:TYPE)s
    for tree in sqlglot.parse(statement, read=dialect):
        if tree is None:
            continue
        for table in tree.find_all(exp.Table):
            if table.name not in PARTITIONED:
                continue
            select = table.find_ancestor(exp.Select)
            where = select.args.get("where") if select else None
            pruned = where is not None and (
                any(
                    isinstance(eq.left, exp.Column) and eq.left.name == PARTITION_COLUMN and constant(eq.right)
                    for eq in where.find_all(exp.EQ)
                )
                or any(
                    isinstance(between.this, exp.Column)
                    and between.this.name == PARTITION_COLUMN
                    and constant(between.args["low"])
                    and constant(between.args["high"])
                    for between in where.find_all(exp.Between)
                )
            )
            if not pruned:
                problems.append(table.sql())
    return problems


@pytest.mark.parametrize("game_date", [pytest.param(d, marks=month_run_group(d)) for d in RUN_DATES], ids=str)
def test_every_partitioned_read_filters_game_date(month_runs: MonthRuns, game_date: date) -> None:
    run = month_runs.all_phases(game_date)  # `run --phase all` at the date's run time, every statement captured
    result, statements = run.result, list(run.statements)
    assert result.code in (0, 1), result.err
    assert len([s for s in statements if s.startswith("WITH batch AS")]) == 6  # one per table checked
    offenders = {s: unpruned_reads(s) for s in statements if unpruned_reads(s)}
    assert offenders == {}
    assert not [
        s for s in statements if s.lstrip().upper().startswith(("CREATE", "INSERT", "UPDATE", "DELETE", "DROP"))
    ]
    assert not [
        s
        for s in statements
        if "SELECT DISTINCT" in s.upper() and PARTITION_COLUMN in s.lower() and "WHERE" not in s.upper()
    ]


@pytest.mark.parametrize("key", list(PHASES), ids=lambda key: f"phase{key}")
def test_a_phase_issues_at_most_two_statements_per_table_it_reads(
    seeded: Workspace, statements: list[str], key: str
) -> None:
    result = seeded.cli(
        "run", "--phase", key, "--date", "2025-12-02", "--now", simulated_run_time(date(2025, 12, 2)).isoformat()
    )
    assert result.code == 0, result.err
    assert 0 < len(statements) <= 2 * len(PHASES[key].tables), statements


def test_the_checker_itself_catches_an_unfiltered_read() -> None:
    assert unpruned_reads("SELECT COUNT(*) FROM nba_predictions.player_prop_predictions")
    assert unpruned_reads(
        "SELECT * FROM nba_predictions.player_prop_predictions WHERE EXTRACT(year FROM game_date) = 2025"
    )
    assert not unpruned_reads(
        "SELECT * FROM (SELECT a FROM nba_predictions.player_prop_predictions WHERE game_date = DATE '2025-12-02') AS b"
    )
    assert not unpruned_reads(
        "SELECT * FROM nba_raw.nbac_schedule WHERE game_date BETWEEN DATE '2025-10-03' AND DATE '2025-12-02'"
    )
    assert unpruned_reads("SELECT * FROM nba_raw.nbac_schedule WHERE game_date BETWEEN DATE '2025-10-03' AND game_date")


@pytest.mark.parametrize(
    "argv",
    [
        ("audit", "--start", "2025-12-01", "--end", "2025-12-31"),
        ("health", "--end", "2025-12-09"),
        ("doctor",),
    ],
    ids=lambda argv: argv[0],
)
def test_range_commands_filter_game_date_too(seeded: Workspace, statements: list[str], argv: tuple[str, ...]) -> None:
    result = seeded.cli(*argv)
    assert result.code in (0, 1), result.err
    assert statements
    assert {s: unpruned_reads(s) for s in statements if unpruned_reads(s)} == {}


@pytest.mark.parametrize("key", list(PHASES), ids=lambda key: f"phase{key}")
def test_claims_add_at_most_one_statement_and_it_filters_game_date(seeded: Workspace, key: str) -> None:
    """The claims of a phase's completion messages (`nba-dq serve`) are read in one more statement,
    each count in it a read of one table's date partition; Phase 6's claims are facts of its frame."""
    day = DAY
    claims = truthful(seeded)[key]
    counted = []
    for with_claims in (None, claims):
        with capturing_statements() as captured:
            summary = run_phase(seeded.settings, key, day, simulated_run_time(day), claims=with_claims)
        assert summary.error is None and summary.status == "pass", summary.failed()
        counted.append(list(captured.texts))
    without, with_claims_ = counted
    assert {s: unpruned_reads(s) for s in with_claims_ if unpruned_reads(s)} == {}
    added = [s for s in with_claims_ if s not in without]
    assert len(with_claims_) == len(without) + (0 if key == "6" else 1)
    assert len(added) == (0 if key == "6" else 1)
    if key != "6":
        assert added[0].startswith("WITH batch AS") and "claim_rows_landed" in added[0]
