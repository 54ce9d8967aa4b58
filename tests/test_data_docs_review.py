"""Data Docs pages a reviewer can read: failing rows as a table, the check's severity and why, and a
site with no link to another host and no link that leads nowhere."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from expectations.failing_rows_render import ROWS_SHOWN
from tests.conftest import Workspace
from tests.test_phase6_exports import HOSTILE
from warehouse.seed import simulated_run_time
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance
FAILING_DAY = "2025-12-05"  # the seeded month's coverage drop: player_coverage fails
PREDICTIONS = "nba_predictions.player_prop_predictions"
SITE = Path("gx/uncommitted/data_docs/local_site")


class Page(HTMLParser):
    """A page's links (tag, attribute, URL), its tables (header cells, body rows; nested ones apart) and
    its text."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self.text: list[str] = []
        self._open: list[tuple[list[str], list[list[str]], list[str], list[str] | None]] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.links += [(tag, name, value) for name, value in attrs if name in ("href", "src", "action") and value]
        if tag == "table":
            self._open.append(([], [], [], None))
        elif tag == "tr" and self._open:
            header, body, _, _ = self._open[-1]
            self._open[-1] = (header, body, [], None)
        elif tag in ("td", "th") and self._open:
            header, body, row, _ = self._open[-1]
            self._open[-1] = (header, body, row, [])

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        header, body, row, cell = self._open[-1]
        if tag in ("td", "th") and cell is not None:
            row.append(" ".join("".join(cell).split()))
            self._open[-1] = (header, body, row, None)
            if tag == "th":
                header.append(row.pop())
        elif tag == "tr" and row:
            body.append(row)
            self._open[-1] = (header, body, [], None)
        elif tag == "table":
            self._open.pop()
            self.tables.append((header, body))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for _, _, _, cell in self._open:
            if cell is not None:
                cell.append(data)

    def body_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    def table_with(self, column: str) -> tuple[list[str], list[list[str]]]:
        return next(table for table in self.tables if column in table[0])


def run_time(day: str) -> str:
    return simulated_run_time(date.fromisoformat(day)).isoformat()


def validation_page(workspace: Workspace, table: str) -> Page:
    (path,) = (workspace.root / SITE / "validations").rglob(f"findings-{table}.html")
    return Page(path)


def test_failing_rows_are_a_table_with_severity_expected_and_why(seeded: Workspace) -> None:
    result = seeded.cli("run", "--phase", "5", "--date", FAILING_DAY, "--json")
    assert "player_coverage" in result.failing()
    page = validation_page(seeded, "player_prop_predictions")
    header, rows = page.table_with("missing_players")
    assert header == ["coverage", "covered_players", "expected_players", "excluded_players", "missing_players",
                      "first_50_missing"]  # fmt: skip
    assert len(rows) == 1 and rows[0][:5] == ["0.6", "117", "195", "19", "78"]
    text = page.body_text()
    assert "player_coverage [critical]: expected coverage >= 90% of production-ready players" in text
    assert "Why: On 2025-12-29 a DML concurrency limit lost 57% of predictions" in text
    assert "1 failing of 1 rows" in text
    assert "active_prediction_volume [warning]" in text  # dq.toml: a warning check is shown as one


def test_gx_severity_field_is_the_checks_severity(seeded: Workspace) -> None:
    seeded.cli("run", "--phase", "5", "--date", FAILING_DAY)
    (stored,) = (seeded.root / "gx/uncommitted/validations").rglob("findings-player_prop_predictions.json")
    configs = [outcome["expectation_config"] for outcome in json.loads(stored.read_text())["results"]]
    severities = {config["meta"]["check"]: config["severity"] for config in configs}
    assert severities["active_prediction_volume"] == "warning"
    assert severities["player_coverage"] == "critical"
    assert all(config["severity"] == config["meta"]["severity"] for config in configs)


def failing_day_page(workspace: Workspace) -> Page:
    """Phase 5 run on the failing day, its duplicated active keys failing: the predictions table's page."""
    result = workspace.cli("run", "--phase", "5", "--date", FAILING_DAY, "--now", run_time(FAILING_DAY), "--json")
    assert "active_key_unique" in result.failing()
    return validation_page(workspace, "player_prop_predictions")


def test_rows_beyond_the_shown_ones_are_counted(scratch: Workspace, sql: Callable[[str], None]) -> None:
    duplicated = ROWS_SHOWN + 7
    sql(
        f"INSERT INTO {PREDICTIONS} SELECT * FROM {PREDICTIONS} WHERE game_date = DATE '{FAILING_DAY}'"
        f" AND is_active = TRUE ORDER BY prediction_id LIMIT {duplicated}"
    )
    page = failing_day_page(scratch)
    header, rows = page.table_with("row_count")
    assert header == ["game_id", "player_lookup", "system_id", "row_count"]
    assert len(rows) == ROWS_SHOWN and all(row[-1] == "2" for row in rows)
    assert "+7 more failing rows" in page.body_text()
    assert f"{duplicated} failing of {duplicated} rows" in page.body_text()


def test_a_hostile_value_is_a_table_cell_of_text(scratch: Workspace, sql: Callable[[str], None]) -> None:
    for _ in range(2):  # the same active key twice: active_key_unique's failing row names the player
        sql(
            f"INSERT INTO {PREDICTIONS} SELECT * REPLACE ('{HOSTILE}' AS player_lookup) FROM {PREDICTIONS}"
            f" WHERE game_date = DATE '{FAILING_DAY}' AND is_active = TRUE ORDER BY prediction_id LIMIT 1"
        )
    page = failing_day_page(scratch)
    header, rows = page.table_with("row_count")
    assert [row[header.index("player_lookup")] for row in rows] == [HOSTILE]  # shown as text, in its column
    assert not any(tag == "img" and attrs.get("src") == "x" for tag, attrs in page.tags)


def site_pages(workspace: Workspace) -> list[Path]:
    site = workspace.root / SITE
    return sorted(page for page in site.rglob("*.html") if "static" not in page.relative_to(site).parts)


def assert_local_and_unbroken(workspace: Workspace) -> None:
    pages = site_pages(workspace)
    assert any("validations" in page.parts for page in pages) and any("expectations" in page.parts for page in pages)
    remote, broken = [], []
    for path in pages:
        page = Page(path)
        assert "newsletter" not in page.body_text().lower() and "Subscribe" not in page.body_text(), path
        for tag, attribute, url in page.links:
            parsed = urlparse(url)
            if parsed.scheme or parsed.netloc:
                remote.append((path.name, tag, attribute, url))
            elif parsed.path and not (path.parent / unquote(parsed.path)).is_file():
                broken.append((path.name, url))
    assert remote == [] and broken == []


def test_a_runs_pages_link_no_other_host_and_nothing_missing(seeded: Workspace) -> None:
    seeded.cli("run", "--phase", "5", "--date", FAILING_DAY)
    seeded.cli("run", "--phase", "3", "--date", FAILING_DAY)
    assert_local_and_unbroken(seeded)


def test_docs_rebuilds_suite_pages_its_validation_pages_link(seeded: Workspace) -> None:
    seeded.cli("run", "--phase", "5", "--date", FAILING_DAY)
    site = seeded.root / SITE
    shutil.rmtree(site)  # a new container, or a site removed by hand: `docs` rebuilds it
    assert seeded.cli("docs").code == 0
    assert (site / "expectations/phase5/player_prop_predictions.html").is_file()
    assert_local_and_unbroken(seeded)


def test_a_failed_warning_check_is_shown_as_a_warning(seeded: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "dq.toml"
    text = (PROJECT_ROOT / "dq.toml").read_text()
    config.write_text(text.replace("[phase5.severity]\n", '[phase5.severity]\nplayer_coverage = "warning"\n', 1))
    result = seeded.cli("run", "--phase", "5", "--date", FAILING_DAY, "--json", env={"NBA_DQ_CONFIG": str(config)})
    assert "player_coverage" in result.failing() and result.code == 0
    page = validation_page(seeded, "player_prop_predictions")
    assert "player_coverage [warning]: expected coverage" in page.body_text()
    icons = [attrs.get("class") or "" for tag, attrs in page.tags if tag == "i"]
    assert sum("text-warning" in icon and "fa-exclamation-circle" in icon for icon in icons) == 1
    # A red cross is left only on the suite's overview ("Status: Failed"), not on the check's row.
    assert sum("fa-times" in icon for icon in icons) == 1
