"""The Data Docs index from the history: every run listed on bounded pages, a run's cost independent of
how many runs came before it, old results pruned by the retention while their runs stay listed."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reporting import site_index
from reporting.history import History
from reporting.retention import prune
from reporting.site_index import build_site_index
from tests.conftest import Workspace
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
    assert "2025-11-01" in index and "2025-10-03" in index and "2025-10-02" not in index  # the latest two
    assert all(f"runs-2025-{month}.html" in index for month in ("09", "10", "11"))  # the archive tab
    listed = [day for page in written[:-1] for day in (d for _, d in runs.values()) if day in page.read_text()]
    assert sorted(listed) == sorted(day for _, day in runs.values())  # every run on exactly one month page
    assert "none (not written)" in index  # no recorded page: no link to one


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
