"""The Data Docs index from the history: every run listed on bounded pages, a run's cost independent of
how many runs came before it, old results pruned by the retention while their runs stay listed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import urllib.parse
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from reporting import site_index, site_matrix
from reporting.history import History, read_history
from reporting.retention import prune
from reporting.site_index import build_site_index
from tests.conftest import MonthRuns, Workspace, make_workspace
from warehouse.seed import simulated_run_time
from warehouse.settings import PROJECT_ROOT

DAY = "2025-12-02"  # a clean date
SITE = Path("gx/uncommitted/data_docs/local_site")


def test_a_run_lists_no_stored_result_or_page(scratch: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """GX listed (and its index loaded) every stored result and page once per result a run wrote."""
    from great_expectations.data_context.store import TupleFilesystemStoreBackend

    assert scratch.cli("run", "--phase", "5", "--date", DAY).code == 0  # a run before this one

    def listing(self: object, *args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("a run listed every stored file")

    monkeypatch.setattr(TupleFilesystemStoreBackend, "list_keys", listing)
    result = scratch.cli("run", "--phase", "5", "--date", DAY, "--json")
    assert result.code == 0, result.err
    page = Path(result.json()["data_docs"])
    assert page.is_file() and "cdn" not in page.read_text()  # written, and offline
    index = (scratch.root / SITE / "index.html").read_text()
    assert index.count("'phase': 'phase5'") == 2  # both runs, from the history
    assert page.relative_to(scratch.root / SITE).as_posix() in index


def test_pruned_runs_stay_listed_and_say_so(scratch: Workspace) -> None:
    result = scratch.cli("run", "--phase", "5", "--date", DAY, "--json")
    page = Path(result.json()["data_docs"])
    results = scratch.root / "gx/uncommitted/validations"
    now = datetime.now(timezone.utc)
    assert not prune(scratch.settings, now + timedelta(days=89)).run_times  # within the 90 days of dq.toml
    assert page.is_file() and list(results.rglob("*.json"))
    pruned = prune(scratch.settings, now + timedelta(days=91))
    assert len(set(pruned.run_times)) == 1 and page in pruned.pages  # one run (of two tables)
    assert not page.exists() and not list(results.rglob("*.json"))
    build_site_index(scratch.settings, {f"{now:%Y-%m}"}, now + timedelta(days=91), "docs")
    for name in ("index.html", f"runs-{now:%Y-%m}.html"):
        listed = (scratch.root / SITE / name).read_text()
        assert "'phase': 'phase5'" in listed and "pruned (older than 90 days)" in listed
        assert page.name not in listed  # no link to a page that is gone


def run_rows(run_id: str, run_at: datetime, game_date: str) -> list[dict[str, object]]:
    return [
        {"run_id": run_id, "run_at": run_at.isoformat(), "phase": "phase5", "game_date": game_date,
         "check_name": check, "success": True, "status": "pass", "severity": "critical", "observed": "{}",
         "expected": '"x"', "data_docs_url": None, "warehouse": "duckdb:///w"}
        for check in ("player_coverage", "active_prediction_count")
    ]  # fmt: skip


def test_every_run_is_listed_on_bounded_pages(scratch: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_index, "RUNS_ON_INDEX", 2)
    monkeypatch.setattr(site_index, "RUNS_PER_PAGE", 2)
    runs = {  # run -> (when, game date): three in September, three in October, one in November
        f"run{n}": (datetime(2025, month, day, 18, tzinfo=timezone.utc), f"2025-{month:02d}-{day:02d}")
        for n, (month, day) in enumerate([(9, 1), (9, 2), (9, 3), (10, 1), (10, 2), (10, 3), (11, 1)])
    }
    history = History(scratch.settings)
    for run_id, (run_at, game_date) in runs.items():
        history.append(run_rows(run_id, run_at, game_date))
    now = datetime(2025, 11, 2, tzinfo=timezone.utc)
    written = build_site_index(scratch.settings, {"2025-09", "2025-10", "2025-11"}, now, "docs")
    site = scratch.root / SITE
    assert sorted(page.name for page in written) == [
        "index.html", "runs-2025-09-2.html", "runs-2025-09.html", "runs-2025-10-2.html", "runs-2025-10.html",
        "runs-2025-11.html",
    ]  # fmt: skip
    index = (site / "index.html").read_text()
    runs_tab = index[index.index('id="Runs"') :]  # the landing matrix before it shows every date
    assert "2025-11-01" in runs_tab and "2025-10-03" in runs_tab and "2025-10-02" not in runs_tab  # the latest two
    assert all(f"runs-2025-{month}.html" in index for month in ("09", "10", "11"))  # the archive tab
    listed = [day for page in written[:-1] for day in (d for _, d in runs.values()) if day in page.read_text()]
    assert sorted(listed) == sorted(day for _, day in runs.values())  # every run on exactly one month page
    assert "none (not written)" in runs_tab  # no recorded page: no link to one


def test_docs_in_a_fresh_process_rebuilds_every_page_and_sets_nothing_aside(scratch: Workspace) -> None:
    """`nba-dq docs` runs in a process that has declared no check: stored results name nba-dq's own
    expectation types, which it must register before loading them (it once exited 2 with
    ExpectationNotFoundError), and a result must never be set aside as unreadable for that."""
    result = scratch.cli("run", "--phase", "5", "--date", DAY, "--json")
    assert result.code == 0, result.err
    page = Path(result.json()["data_docs"])
    page.unlink()
    code = "import sys; from runners.cli import main; sys.exit(main(['docs']))"
    env = {**scratch.env, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert page.is_file()
    assert not (scratch.root / "gx" / "uncommitted" / "quarantine").exists()


MATRIX_DATES = ("2025-12-02", "2025-12-05", "2025-12-24", "2025-12-27")  # clean, phase5 fails, no games, a warning
PHASES = ("phase3", "phase4", "phase5", "phase5b", "phase6")


def month_site(month_runs: MonthRuns, tmp_path: Path) -> Workspace:
    """One GX folder holding the real `run --phase all` runs of MATRIX_DATES (each made in a folder of its
    own): their history rows appended to one history, their sites copied into one, the index rebuilt."""
    import duckdb

    runs = {day: month_runs.all_phases(date.fromisoformat(day)) for day in MATRIX_DATES}
    workspace = make_workspace(tmp_path, runs["2025-12-05"].workspace.warehouse)
    history = History(workspace.settings)
    for run in runs.values():
        shutil.copytree(run.workspace.root / SITE, workspace.root / SITE, dirs_exist_ok=True)  # pages, assets
        with duckdb.connect(str(run.workspace.settings.history.duckdb_file), read_only=True) as connection:
            cursor = connection.execute(
                "SELECT * REPLACE (CAST(run_at AS VARCHAR) AS run_at, CAST(game_date AS VARCHAR) AS game_date)"
                " FROM nba_monitoring.dq_check_results"
            )
            names = [column[0] for column in cursor.description]
            history.append([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
    build_site_index(workspace.settings, {"2025-12"}, datetime.now(timezone.utc), "docs")
    return workspace


def matrix_rows(index: str) -> list[dict[str, tuple[str, str | None]]]:
    """The landing matrix's rows as rendered: column -> (shown text, link or None)."""
    import ast

    pane = index[index.index('id="Verdicts-by-game-date"') :]
    line = next(line.strip() for line in pane.splitlines() if line.strip().startswith("data: ["))
    rows = ast.literal_eval(line.removeprefix("data: ").rstrip(","))

    def cell(html: str) -> tuple[str, str | None]:
        href = re.search(r'href="([^"]*)"', html)
        return re.sub(r"<[^>]*>", "", html).strip(), href.group(1) if href else None

    return [{column: cell(html) for column, html in row.items()} for row in rows]


def verdicts(rows: list[dict[str, tuple[str, str | None]]]) -> dict[str, dict[str, str]]:
    return {row["game_date"][0]: {phase: row[phase][0] for phase in PHASES} for row in rows}


def test_the_landing_matrix_shows_each_dates_latest_verdict_per_phase(
    month_runs: MonthRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = month_site(month_runs, tmp_path)
    site = workspace.root / SITE
    rows = matrix_rows((site / "index.html").read_text())
    assert [row["game_date"][0] for row in rows] == sorted(MATRIX_DATES, reverse=True)  # newest first
    passed = dict.fromkeys(PHASES, "pass")
    assert verdicts(rows) == {
        "2025-12-27": {**passed, "phase5": "warn"},  # a warning-level check only
        "2025-12-24": dict.fromkeys(PHASES, "error"),  # no games scheduled: could not run
        "2025-12-05": {**passed, "phase5": "fail"},  # the coverage drop
        "2025-12-02": passed,
    }
    failed_page = rows[2]["phase5"][1]
    assert failed_page and "phase5-2025-12-05" in failed_page and (site / failed_page).is_file()
    assert all(link is None or (site / link).is_file() for row in rows for _, link in row.values())

    # The latest run decides: a newer failing run of phase5 on a clean date, an older passing one on 12-05.
    history = History(workspace.settings)
    newer = run_rows("newer", datetime.now(timezone.utc) + timedelta(hours=1), "2025-12-02")
    history.append([{**row, "status": "fail", "success": False} for row in newer])
    history.append(run_rows("older", datetime(2025, 12, 1, tzinfo=timezone.utc), "2025-12-05"))
    statements: list[str] = []

    def recorded(settings: object, sql: str, command: str) -> list[object]:
        statements.append(sql)
        return read_history(settings, sql, command)  # type: ignore[arg-type]

    monkeypatch.setattr(site_index, "read_history", recorded)
    monkeypatch.setattr(site_matrix, "MATRIX_DATES", 3)  # bounded: only the newest dates
    build_site_index(workspace.settings, set(), datetime.now(timezone.utc), "docs")
    rows = matrix_rows((site / "index.html").read_text())
    assert [row["game_date"][0] for row in rows] == ["2025-12-27", "2025-12-24", "2025-12-05"]
    assert verdicts(rows)["2025-12-05"]["phase5"] == "fail"
    monkeypatch.setattr(site_matrix, "MATRIX_DATES", 366)
    build_site_index(workspace.settings, set(), datetime.now(timezone.utc), "docs")
    assert verdicts(matrix_rows((site / "index.html").read_text()))["2025-12-02"]["phase5"] == "fail"
    assert sum("DENSE_RANK" in sql for sql in statements) == 2  # one matrix statement per index
    assert all("game_date BETWEEN" in sql for sql in statements)


def test_the_landing_page_links_only_charts_the_site_holds(scratch: Workspace) -> None:
    assert scratch.cli("run", "--phase", "5", "--date", DAY).code == 0
    index = scratch.root / SITE / "index.html"
    assert "Coverage charts: none written yet" in index.read_text()
    health = scratch.cli("health", "--end", "2025-12-09", "--days", "3", "--now", "2025-12-09T18:00:00Z", "--json")
    chart = Path(health.json()["chart"])
    assert chart.is_file()
    assert scratch.cli("run", "--phase", "5", "--date", DAY).code == 0
    text = index.read_text()
    assert f'href="health/{chart.name}"' in text and "audit/" not in text and "none written yet" not in text


ORPHANED_STAGING = "2025-12-12"  # phase5 fails on its second page (staging tables); predictions all pass


def test_a_failing_runs_cell_and_row_link_the_page_of_its_failing_check(seeded: Workspace) -> None:
    """Every history row once carried the run's first page, so 12-12's cell opened the predictions page
    ("14/14" passed) and not the staging tables' page that shows the orphan."""
    now = simulated_run_time(date.fromisoformat(ORPHANED_STAGING)).isoformat()
    result = seeded.cli("run", "--phase", "5", "--date", ORPHANED_STAGING, "--now", now, "--json")
    assert result.failing() == {"no_orphaned_staging_tables"}
    pages = [Path(page) for page in result.json()["data_docs_pages"]]
    [staging] = [page for page in pages if "staging_tables" in page.as_posix()]
    assert pages[0] != staging  # the run's first page is the predictions page
    site = seeded.root / SITE
    index = (site / "index.html").read_text()
    [row] = [row for row in matrix_rows(index) if row["game_date"][0] == ORPHANED_STAGING]
    assert row["phase5"] == ("fail", urllib.parse.quote(staging.relative_to(site).as_posix()))
    runs_tab = index[index.index('id="Runs"') :]
    assert f"'_table_row_link_path': '{row['phase5'][1]}'" in runs_tab  # the runs table's row opens it too
    assert "no_orphaned_staging_tables" in staging.read_text()


def test_each_history_row_keeps_its_checks_own_page() -> None:
    from checkpoints.summary import CheckOutcome, RunSummary
    from reporting.history import history_rows

    checks = (
        CheckOutcome("active_prediction_count", "pass", "critical", 5, "x", page="/site/predictions.html"),
        CheckOutcome("no_orphaned_staging_tables", "fail", "critical", [], "x", page="/site/staging.html"),
        CheckOutcome("pageless", "pass", "critical", 1, "x"),
    )
    summary = RunSummary("phase5", date(2025, 12, 12), checks, ("/site/predictions.html", "/site/staging.html"))
    rows = history_rows(summary, datetime(2025, 12, 12, 18, tzinfo=timezone.utc), lambda p: f"file://{p}", "duckdb")
    assert [row["data_docs_url"] for row in rows] == [
        "file:///site/predictions.html", "file:///site/staging.html", "file:///site/predictions.html"
    ]  # fmt: skip
