"""Data Docs in a real headless Chromium: styled, no request to another host, data shown as text."""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from reporting.history import History
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import MonthRuns, Workspace
from tests.slack_server import slack_server
from tests.test_phase6_exports import DAY, HOSTILE, add_player, edit
from tests.test_site_index import month_site, run_rows
from warehouse.seed import simulated_run_time
from warehouse.settings import PROJECT_ROOT

pytestmark = [pytest.mark.acceptance, pytest.mark.xdist_group("browser")]  # one Chromium
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SITE = Path("gx/uncommitted/data_docs/local_site")
DUPLICATE_KEY_DAY = "2025-12-08"  # the seeded fault: one active prediction key twice (active_key_unique)
LOCAL_HOSTS = {"", "localhost", "127.0.0.1"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Visit:
    """One page opened in a fresh browser context, with every request and dialog it caused."""

    def __init__(self, browser: Any, url: str, screenshot: Path) -> None:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.dialogs: list[str] = []
        self.page = context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", lambda request: self.failed.append(request.url))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        # "load" waits for every stylesheet, script and image the page references; fonts may load after
        # it, so wait for those too. Not "networkidle": a file:// page has nothing to go idle from, and
        # on a loaded machine its 500 ms quiet window timed out (30 s) on a page that had loaded.
        self.page.goto(url, wait_until="load", timeout=120_000)
        self.page.evaluate("document.fonts.ready.then(() => true)")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(screenshot), full_page=True)

    def remote_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "blob:", "about:"))
            and (urlparse(url).scheme != "file" and urlparse(url).hostname not in LOCAL_HOSTS)
        ]

    def style(self, selector: str, property_name: str) -> str:
        return str(
            self.page.evaluate(
                "([s, p]) => getComputedStyle(document.querySelector(s)).getPropertyValue(p)", [selector, property_name]
            )
        )


def test_failed_page_and_index_are_styled_offline_and_show_data_as_text(scratch: Workspace, browser: Any) -> None:
    edit("predictions", add_player(HOSTILE))(scratch.exports)
    result = scratch.cli("run", "--phase", "6", "--date", str(DAY), "--json")
    assert result.failing() == {"export_players_match_predictions"}
    page = Path(result.json()["data_docs"])
    index = scratch.root / "gx/uncommitted/data_docs/local_site/index.html"

    failed = Visit(browser, page.as_uri(), ARTIFACTS / "data-docs-failed-validation.png")
    assert failed.remote_requests() == [] and failed.failed == [], failed.requests
    assert any(url.endswith("bootstrap.min.css") for url in failed.requests)
    text = failed.page.inner_text("body")
    assert "export_players_match_predictions" in text
    assert f"exported, not predicted: {HOSTILE}" in text  # the hostile name is shown as text
    assert failed.page.query_selector('img[src="x"]') is None and failed.dialogs == []
    assert failed.style("body", "font-family").startswith("-apple-system")  # Bootstrap 4's font stack
    assert failed.page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")

    home = Visit(browser, index.as_uri(), ARTIFACTS / "data-docs-index.png")
    assert home.remote_requests() == [] and home.failed == [], home.requests
    assert "phase6" in home.page.inner_text("body")
    assert home.style("body", "font-family").startswith("-apple-system")


def test_the_landing_page_marks_the_seeded_failing_date_and_links_its_page(
    month_runs: MonthRuns, tmp_path: Path, browser: Any
) -> None:
    """What failed on 2025-12-05: the matrix, rendered by bootstrap-table in Chromium, shows the coverage
    drop as phase5 failed on that date, and its cell opens the run's page."""
    site = month_site(month_runs, tmp_path).root / "gx/uncommitted/data_docs/local_site"
    home = Visit(browser, (site / "index.html").as_uri(), ARTIFACTS / "data-docs-landing.png")
    assert home.remote_requests() == [] and home.failed == [], home.requests
    row = home.page.locator("#Verdicts-by-game-date tr", has_text="2025-12-05")
    assert row.count() == 1 and row.is_visible()  # the landing tab is open, the date on it
    failed = row.locator('[data-verdict="fail"]')
    assert failed.count() == 1 and failed.inner_text().strip() == "fail"
    assert "badge-danger" in (failed.get_attribute("class") or "")
    headers = [cell.strip() for cell in home.page.locator("#Verdicts-by-game-date thead th").all_inner_texts()]
    cells = row.locator("td")
    assert cells.nth(headers.index("phase5")).locator('[data-verdict="fail"]').count() == 1  # in phase5's column
    failed.click()
    home.page.wait_for_load_state("load")
    assert "phase5-2025-12-05" in home.page.url and home.page.url.endswith(".html")
    assert "player_coverage" in home.page.inner_text("body")


def test_the_landing_matrix_shows_every_date_on_one_page(scratch: Workspace, browser: Any) -> None:
    """GX writes table options into the page's script: "pagination": "false" was a true string there, so
    the matrix showed ten dates a page and a month's oldest failing date was pages away."""
    history = History(scratch.settings)
    days = [date(2025, 11, 1) + timedelta(days=n) for n in range(14)]
    for number, day in enumerate(days):
        rows = run_rows(f"run-{day}", datetime(2025, 11, 1, 18, tzinfo=timezone.utc) + timedelta(days=number), f"{day}")
        if day == days[0]:  # the oldest date failed: the last row of the matrix
            rows = [{**row, "status": "fail", "success": False} for row in rows]
        history.append(rows)
    assert scratch.cli("docs").code == 0  # the index from the history, with the site's assets
    home = Visit(browser, (scratch.root / SITE / "index.html").as_uri(), ARTIFACTS / "data-docs-landing-month.png")
    shown = home.page.locator("#Verdicts-by-game-date tbody tr")
    assert shown.count() == len(days)
    oldest = home.page.locator("#Verdicts-by-game-date tr", has_text=str(days[0]))
    assert oldest.is_visible() and oldest.locator('[data-verdict="fail"]').count() == 1


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """The site served over http on 127.0.0.1, as a web server behind `[data_docs] base_url` would."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    folder.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_alerts_link_opens_the_failing_rows_with_the_failing_key(
    scratch: Workspace, browser: Any, tmp_path: Path
) -> None:
    """From Slack to the failing rows: the link the alert carries, served over http, opens the page whose
    table names the duplicated prediction key (the player), with no click at all."""
    with static_site(scratch.root / SITE) as served, slack_server() as slack:
        config = tmp_path / "web.toml"
        config.write_text((PROJECT_ROOT / "dq.toml").read_text().replace('base_url = ""', f'base_url = "{served}"'))
        env = {"SLACK_WEBHOOK_URL": slack.url(), "NBA_DQ_CONFIG": str(config)}
        now = simulated_run_time(date.fromisoformat(DUPLICATE_KEY_DAY)).isoformat()
        result = scratch.cli("run", "--phase", "5", "--date", DUPLICATE_KEY_DAY, "--now", now, "--json", env=env)
        assert result.code == 1 and result.failing() == {"active_key_unique"}, result.err
        [duplicated] = next(c["observed"] for c in result.json()["checks"] if c["name"] == "active_key_unique")
        player = duplicated["player_lookup"]
        [message] = slack.messages()
        links = set(re.findall(r"<(http://127\.0\.0\.1:\d+/[^>|]+)", json.dumps(message)))
        assert len(links) == 1, message  # the one failing check's page
        [link] = links
        assert link.startswith(f"{served}/validations/phase5/player_prop_predictions/")

        visit = Visit(browser, link, ARTIFACTS / "data-docs-from-alert.png")
        assert visit.remote_requests() == [] and visit.failed == [], visit.requests
        innermost = visit.page.locator("table:not(:has(table))")  # GX nests a check's tables in the results table
        table = innermost.filter(has=visit.page.locator("th", has_text="player_lookup")).filter(has_text="row_count")
        assert table.count() == 1 and table.is_visible()  # on the page the link opened: no click needed
        row = table.locator("tr", has_text=player)
        assert row.count() == 1 and row.is_visible()
        cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
        assert cells == [str(duplicated["game_id"]), player, duplicated["system_id"], "2"]
        assert "active_key_unique" in visit.page.inner_text("body")


def test_docs_rebuilds_the_site_offline_and_prints_its_index(scratch: Workspace) -> None:
    scratch.cli("run", "--phase", "5", "--date", "2025-12-05")
    index = scratch.root / "gx/uncommitted/data_docs/local_site/index.html"
    index.unlink()
    result = scratch.cli("docs")
    assert result.code == 0 and result.out.strip() == f"Data Docs index: {index}"
    for html in index.parent.rglob("*.html"):
        text = html.read_text()
        assert "https://unpkg.com" not in text and "amazonaws.com" not in text and "cdn.jsdelivr" not in text, html
    assert (index.parent / "static/vendor/jquery/dist/jquery.min.js").is_file()


def test_every_remote_resource_of_gx_templates_is_vendored() -> None:
    from reporting.data_docs import CDN_FILES, VENDOR

    assert all((VENDOR / file).is_file() for file in CDN_FILES.values())
    templates = Path(__import__("great_expectations").__file__).parent / "render/view/templates"
    urls = {
        url
        for template in templates.glob("*.j2")
        for url in __import__("re").findall(r'(?:src|href)="(https://[^"]+)"', template.read_text())
        if not url.startswith("https://greatexpectations.io")  # links, not resources
    }
    assert urls <= set(CDN_FILES), sorted(urls - set(CDN_FILES))


def artifacts_listing() -> str:
    return json.dumps(sorted(path.name for path in ARTIFACTS.glob("*.png")))
