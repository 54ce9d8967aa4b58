"""`make screenshots`: the README's pictures of an alert thread and of the landing page, from real runs.

In a temporary project (a freshly seeded month, a GX folder of its own) it runs `--phase all` on three
weeks of game dates for the landing matrix (and `nba-dq health` for its chart), then a short story with
Slack in bot-token mode (a local Slack, tests/slack_server.py, that answers chat.postMessage and
chat.update with a channel and a fresh ts, so replies can thread): 12-05's coverage drop opens an
incident, 12-12's orphaned staging table another, 12-18's zero predictions worsens the first and fails
5B and 6 downstream, the staging table is dropped and 12-12 re-run (resolved), and a clean 12-19
passes. What Slack received is saved as docs/img/alert-thread.json (a recorded payload
tests/test_screenshots.py renders), drawn by docs/slack_page.py and screenshotted with Chromium, as is
the landing page. Not part of `make test`.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from docs.slack_page import POST, UPDATE, WEBHOOK, Posted, render_page
from runners.cli import main as cli
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.slack_server import Reply, SlackServer, slack_server
from warehouse.seed import seed_duckdb, simulated_run_time
from warehouse.settings import PROJECT_ROOT, load_settings

log = logging.getLogger("screenshots")
IMAGES = PROJECT_ROOT / "docs" / "img"
RECORDING = IMAGES / "alert-thread.json"
LANDING_DAYS = [date(2025, 12, 1) + timedelta(days=n) for n in range(21)]  # three weeks of `--phase all`
BASE_URL = "https://nba-dq.example.com/docs"  # where the site would be served: alerts show links, not /tmp paths
CHANNEL = "nba-dq-alerts"
ORPHANED = date(2025, 12, 12)


def main() -> int:
    # Its own handler: every in-process CLI run points the root logger at that run's stderr.
    log.addHandler(logging.StreamHandler(sys.stderr))
    log.setLevel(logging.INFO)
    log.propagate = False
    with tempfile.TemporaryDirectory(prefix="nba-dq-screenshots-") as folder, slack_server() as slack:
        project = Path(folder)
        env = project_env(project, slack)
        report = seed_duckdb(project / "warehouse.duckdb", load_settings(env))
        for day in LANDING_DAYS:
            run(env, "all", day)
        health(env, LANDING_DAYS[-1], len(LANDING_DAYS))  # the landing page links its coverage chart
        bot = {**env, "SLACK_BOT_TOKEN": "xoxb-screenshots"}
        with threading_replies(slack) as posts:
            run(bot, "5", date(2025, 12, 5))
            run(bot, "5", ORPHANED)
            run(bot, "all", date(2025, 12, 18))
            [staging] = [name for name in report.staging_tables if ORPHANED.strftime("%Y_%m_%d") in name]
            with duckdb.connect(str(project / "warehouse.duckdb")) as connection:
                connection.execute(f"DROP TABLE {staging}")  # the fix: the orphan is cleaned up
            run(bot, "5", ORPHANED)
            run(bot, "all", date(2025, 12, 19))
        IMAGES.mkdir(parents=True, exist_ok=True)
        RECORDING.write_text(json.dumps([post.__dict__ for post in posts], indent=1) + "\n")
        thread_page = project / "alert-thread.html"
        thread_page.write_text(render_page(posts, CHANNEL))
        site_index = project / "gx/uncommitted/data_docs/local_site/index.html"
        screenshot(thread_page, IMAGES / "alert-thread.png", width=860)
        screenshot(site_index, IMAGES / "landing.png", width=1280)
    for image in ("alert-thread.png", "landing.png"):
        log.info("%s: %d KB", IMAGES / image, (IMAGES / image).stat().st_size // 1024)
    return 0


def project_env(project: Path, slack: SlackServer) -> dict[str, str]:
    """A project of its own: dq.toml with the local Slack's Web API and a web base_url for the site."""
    (project / "gx").mkdir()
    shutil.copy(PROJECT_ROOT / "gx" / "great_expectations.yml", project / "gx")
    config = (PROJECT_ROOT / "dq.toml").read_text()
    config = config.replace('slack_api_url = "https://slack.com/api/"', f'slack_api_url = "{slack.url("/api/")}"')
    config = config.replace('base_url = ""', f'base_url = "{BASE_URL}"')
    (project / "dq.toml").write_text(config)
    return {
        "NBA_DQ_CONFIG": str(project / "dq.toml"),
        "NBA_DQ_WAREHOUSE": f"duckdb:///{project / 'warehouse.duckdb'}",
        "NBA_DQ_EXPORT_ROOT": str(project / "exports" / "v1"),  # where the seed writes them, beside the file
        "NBA_DQ_GX_ROOT": str(project / "gx"),
        "PATH": "/usr/bin:/bin",
    }


def run(env: Mapping[str, str], phase: str, day: date) -> None:
    """`nba-dq run` as of the date's daily run; its exit code is logged (a failing run is the point)."""
    out, err = io.StringIO(), io.StringIO()
    now = simulated_run_time(day).isoformat()
    code = cli(["run", "--phase", phase, "--date", str(day), "--now", now], env=env, stdout=out, stderr=err)
    log.info("run --phase %s --date %s: exit %d", phase, day, code)
    if code == 2:  # every date of the story has games: a run that could not run spoils the pictures
        raise SystemExit(f"screenshots: run --phase {phase} --date {day} could not run: {err.getvalue().strip()}")


def health(env: Mapping[str, str], end: date, days: int) -> None:
    """`nba-dq health` over the runs' dates: it writes the coverage chart the landing page links."""
    now = simulated_run_time(end).isoformat()
    argv = ["health", "--end", str(end), "--days", str(days), "--now", now]
    code = cli(argv, env=env, stdout=io.StringIO(), stderr=(err := io.StringIO()))
    if code == 2:
        raise SystemExit(f"screenshots: health could not run: {err.getvalue().strip()}")


@contextmanager
def threading_replies(slack: SlackServer) -> Iterator[list[Posted]]:
    """Slack's answers a thread needs: each chat.postMessage and chat.update gets a channel and a fresh ts
    (set just before the request is answered); the list is filled with what was received once the block ends."""
    handed: dict[int, str] = {}
    start = len(slack.received)
    slack.default = Reply(200, '{"ok": true}')  # any other Web API method the alerter asks

    def answer() -> None:
        index = len(slack.received)  # this request's place: it is recorded right after this call
        ts = f"{max(time.time(), float(handed.get(index - 1, 0)) + 0.001):.6f}"
        handed[index] = ts
        body = json.dumps({"ok": True, "channel": "C0NBADQ", "ts": ts})
        for method in (POST, UPDATE):
            slack.routes[f"/api/{method}"] = Reply(200, body)

    slack.on_request = answer
    posts: list[Posted] = []
    try:
        yield posts
    finally:
        slack.on_request = None
    for index, request in enumerate(slack.received[start:], start=start):
        method = request.path.split("?")[0].removeprefix("/api/")
        try:
            body: dict[str, Any] = request.json()
        except ValueError:  # a form-encoded Web API call (not a message)
            continue
        if method in (POST, UPDATE):
            posts.append(Posted(method, body, handed.get(index, "") if method == POST else ""))
        elif request.path.startswith("/services/"):
            posts.append(Posted(WEBHOOK, body))


def screenshot(page: Path, target: Path, width: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            view = browser.new_context(viewport={"width": width, "height": 1000}).new_page()
            view.goto(page.as_uri(), wait_until="load", timeout=120_000)
            view.evaluate("document.fonts.ready.then(() => true)")
            view.screenshot(path=str(target), full_page=True)
        finally:
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
