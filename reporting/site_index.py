"""The site's index pages, built from nba-dq's run history: every run listed, and no page unbounded.

GX builds its index by listing and loading every stored validation result, so the index page and the
cost of writing it grew with every run (8.8 MB and most of a run's CPU after 1,000 runs). Here the
history (reporting/history.py: DuckDB, or BigQuery in production) says which runs there were:
index.html opens on a game date x phase matrix of latest verdicts (reporting/site_matrix.py), lists the
latest RUNS_ON_INDEX runs and links one archive page per month of runs
(runs-YYYY-MM.html, split every RUNS_PER_PAGE runs). A command rewrites the index and only the month
pages whose runs changed (its own month, and months whose pages were pruned). A run whose pages were
pruned ([data_docs] retention_days) stays listed, saying so instead of linking to a missing page.
The pages are rendered by GX's index renderer and the site's escaping index view.
"""

from __future__ import annotations

import fcntl
import logging
import os
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from great_expectations.render.components import (
    RenderedBootstrapTableContent,
    RenderedStringTemplateContent,
    RenderedTabsContent,
)
from great_expectations.render.renderer import SiteIndexPageRenderer

from checkpoints.run_pages import write_validation_pages
from checkpoints.summary import CRITICAL, ERROR, FAIL, PASS, SKIP
from reporting.data_docs import (
    SITE_FOLDER,
    docs_url,
    offline_html,
    publish,
    published_pages,
    set_aside_unreadable_results,
    site_folder,
    site_index,
    write_atomically,
)
from reporting.data_docs_view import EscapingIndexPageView
from reporting.history import read_history
from reporting.retention import Pruned, prune
from reporting.site_matrix import cell_of, landing_tab, matrix_query, newest_charts
from warehouse.catalog import DQ_CHECK_RESULTS
from warehouse.dialect import date_literal
from warehouse.settings import Settings

log = logging.getLogger(__name__)
H = DQ_CHECK_RESULTS.c
INDEX = "index.html"
RUNS_ON_INDEX = 100
RUNS_PER_PAGE = 250
WARN = "warn"
VERDICTS = (PASS, WARN, FAIL, ERROR)  # by the rank the history query gives a run
# BigQuery prunes the history by game_date, and every statement filters on it; the index lists runs
# of every game date nba-dq can check (eras start in 2021), so the bounds only keep the rule.
GAME_DATES = f"{H.game_date} BETWEEN {date_literal(date(2000, 1, 1))} AND {date_literal(date(2099, 12, 31))}"


@dataclass(frozen=True)
class RunEntry:
    run_id: str
    run_at: datetime
    phase: str
    game_date: str
    verdict: str
    failed_checks: int
    checks: int
    page: str | None  # the page of its worst check (see _runs), relative to the site; None when it has none
    skipped: int = 0  # checks that could not judge: neither passed nor failed, the verdict stays pass

    @property
    def described(self) -> str:
        """The verdict, the failures and the skips apart ("pass: 0 of 14 checks not passed, 1 skipped")."""
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        return f"{self.verdict}: {self.failed_checks} of {self.checks} checks not passed{skipped}"


def finish_site(settings: Settings, pages: Iterable[str], started: datetime, command: str) -> None:
    """Once per command, after its runs wrote their pages: prune what the retention drops, write the
    index pages from the history (the months of this command's runs and of pruned runs), publish."""
    now = datetime.now(timezone.utc)
    _index_and_publish(settings, pages, {month_of(started), month_of(now)}, now, prune(settings, now), command)


def rebuild_site(settings: Settings) -> str:
    """`nba-dq docs`: prune, re-render every kept validation result (at most retention_days of runs), and
    write the index pages of those days (and any month page missing); returns the index."""
    from checkpoints.context import build_context
    from expectations.gx_import import load_gx_and_checks

    load_gx_and_checks()  # before any stored result is read: they name nba-dq's expectation types
    now = datetime.now(timezone.utc)
    context = build_context(settings.gx_root)
    pruned = prune(settings, now)  # first: what it drops is not rendered
    set_aside_unreadable_results(settings.gx_root)
    store = context.validation_results_store
    written = write_validation_pages(context, [(key, store.get(key)) for key in store.list_keys()])
    pages = [url.removeprefix("file://") for sites in written.values() for url in sites.values()]
    kept = month_of(now - timedelta(days=settings.data_docs.retention_days))
    months = {month for month, _ in _months(settings, "docs") if month >= kept}
    _index_and_publish(settings, pages, months, now, pruned, "docs")
    return site_index(settings)


def _index_and_publish(
    settings: Settings, pages: Iterable[str], months: set[str], now: datetime, pruned: Pruned, command: str
) -> None:
    index_pages = build_site_index(settings, months | {month_of(moment) for moment in pruned.run_times}, now, command)
    if settings.data_docs.bucket:  # with the charts the landing page links
        site = site_folder(settings.gx_root)
        written = [*map(Path, pages), *index_pages, *newest_charts(site)]
        publish(site, settings.data_docs.bucket, settings.gx_root, written, pruned.pages)


def month_page(month: str, part: int) -> str:
    return f"runs-{month}.html" if part == 1 else f"runs-{month}-{part}.html"


def build_site_index(settings: Settings, months: Iterable[str], now: datetime, command: str) -> list[Path]:
    """Write index.html and every page of the given months ("YYYY-MM"); returns the pages written."""
    site = site_folder(settings.gx_root)
    site.mkdir(parents=True, exist_ok=True)
    # Concurrent runs take turns: each reads the history after its own append and writes after any
    # earlier reader, so the last index written lists every run (never one read before another's append).
    # The lock is the site folder's own (no lock file: a full disk must not be left holding one).
    folder = os.open(site, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        return _build(settings, site, months, now, command)
    finally:
        os.close(folder)  # releases the lock


def _build(settings: Settings, site: Path, months: Iterable[str], now: datetime, command: str) -> list[Path]:
    archive = _months(settings, command)
    present = {page.name for page in site.glob(month_page("*", 1))}
    if settings.data_docs.bucket:  # a new container's site is empty: the bucket holds the month pages
        present |= published_pages(settings.data_docs.bucket, month_page("", 1).removesuffix(".html"))
    missing = {month for month, _ in archive if month_page(month, 1) not in present}  # e.g. a new site
    written = []
    for month in sorted({*months, *missing}):
        runs = _runs(settings, command, f"{H.run_at} >= {_instant(month, 0)} AND {H.run_at} < {_instant(month, 1)}")
        runs.sort(key=lambda run: (run.run_at, run.run_id))
        parts = [runs[start : start + RUNS_PER_PAGE] for start in range(0, len(runs), RUNS_PER_PAGE)] or [[]]
        for part, chunk in enumerate(parts, start=1):
            title = f"runs in {month}" + (f", part {part} of {len(parts)}" if len(parts) > 1 else "")
            written.append(_write(site, month_page(month, part), title, chunk[::-1], archive, settings, now))
    latest = _runs(settings, command, "TRUE", limit=RUNS_ON_INDEX)
    matrix = _runs(settings, command, "TRUE", wrap=matrix_query)
    written.append(_write(site, INDEX, f"the latest {RUNS_ON_INDEX} runs", latest, archive, settings, now, matrix))
    return written


def _runs(
    settings: Settings, command: str, where: str, limit: int | None = None, wrap: Callable[[str], str] | None = None
) -> list[RunEntry]:
    """One entry per run: its verdict as `run` gives it (error, fail, warn or pass) and its page;
    `wrap` selects among the runs (the landing matrix) in the same statement.

    The page is that of a check with the run's worst status (an error, then a critical failure, then a
    warning; the first by address among several), so a failing run opens the page showing the failure,
    not its first table's (12-12: the staging tables' page, not the predictions page where all passed). A
    run that passed opens its first page by address; one whose worst check has no page, any page it has.
    """
    rank = (
        f"CASE WHEN {H.status} = '{ERROR}' THEN 3 WHEN {H.status} = '{FAIL}' AND {H.severity} = '{CRITICAL}'"
        f" THEN 2 WHEN {H.status} = '{FAIL}' THEN 1 ELSE 0 END"
    )
    checks = (
        f"SELECT {H.run_id}, {H.run_at}, {H.phase}, {H.game_date}, {H.status}, {H.data_docs_url}, {rank} AS check_rank,"
        f" MAX({rank}) OVER (PARTITION BY {H.run_id}) AS run_rank FROM {DQ_CHECK_RESULTS.qualified(settings.datasets)}"
        f" WHERE {GAME_DATES} AND {where}"
    )
    sql = (
        f"SELECT {H.run_id} AS run_id, CAST(MIN({H.run_at}) AS STRING) AS run_time, MIN({H.phase}) AS run_phase,"
        f" CAST(MIN({H.game_date}) AS STRING) AS run_day, MAX(run_rank) AS verdict_rank,"
        f" SUM(CASE WHEN {H.status} IN ('{PASS}', '{SKIP}') THEN 0 ELSE 1 END) AS not_passed, COUNT(*) AS checks,"
        f" COALESCE(MIN(CASE WHEN check_rank = run_rank THEN {H.data_docs_url} END), MIN({H.data_docs_url})) AS page,"
        f" SUM(CASE WHEN {H.status} = '{SKIP}' THEN 1 ELSE 0 END) AS skipped"
        f" FROM ({checks}) AS run_checks GROUP BY {H.run_id}"
    )
    sql = wrap(sql) if wrap else f"{sql} ORDER BY 2 DESC, 1" + (f" LIMIT {limit}" if limit else "")
    return [
        RunEntry(
            run_id,
            _moment(run_at),
            phase,
            day,
            VERDICTS[rank],
            failed,
            checks,
            _site_path(settings, url),
            int(skipped or 0),
        )
        for run_id, run_at, phase, day, rank, failed, checks, url, skipped, *_ in read_history(settings, sql, command)
    ]


def _months(settings: Settings, command: str) -> list[tuple[str, int]]:
    """(month, runs) for every month with runs, newest first: the archive tab (twelve rows a year)."""
    sql = (
        f"SELECT EXTRACT(YEAR FROM {H.run_at}), EXTRACT(MONTH FROM {H.run_at}), COUNT(DISTINCT {H.run_id})"
        f" FROM {DQ_CHECK_RESULTS.qualified(settings.datasets)}"
        f" WHERE {GAME_DATES} GROUP BY 1, 2"
    )
    found = read_history(settings, sql, command)
    return sorted(((f"{int(year):04d}-{int(month):02d}", int(runs)) for year, month, runs in found), reverse=True)


def month_of(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m}"


def _instant(month: str, months_later: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    year, number = year + (number - 1 + months_later) // 12, (number - 1 + months_later) % 12 + 1
    return f"TIMESTAMP '{year:04d}-{number:02d}-01 00:00:00+00'"


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _site_path(settings: Settings, url: str | None) -> str | None:
    """A recorded page URL (under base_url, or file://) as a path inside the site."""
    if not url:
        return None
    base = docs_url(settings, site_folder(settings.gx_root) / INDEX).removesuffix(INDEX)
    if url.startswith(base):
        return urllib.parse.unquote(url[len(base) :])
    # Another container's local page (no base_url): its site folder sat elsewhere, its layout is the same.
    marker = f"/{SITE_FOLDER.as_posix()}/"
    if url.startswith("file://") and marker in url:
        return urllib.parse.unquote(url.split(marker, 1)[1])
    return None


def _write(
    site: Path, name: str, title: str, runs: list[RunEntry], archive: list[tuple[str, int]], settings: Settings,
    now: datetime, matrix: list[RunEntry] | None = None,
) -> Path:  # fmt: skip
    cutoff = now - timedelta(days=settings.data_docs.retention_days)
    published = bool(settings.data_docs.bucket)
    rows = [_row(run, site, cutoff, settings.data_docs.retention_days, published) for run in runs]
    links = {"site_name": f"nba-dq: {title}", "runs": rows, "archive": archive, "site": site}
    if matrix is not None:  # the landing page (index.html)
        cells = [_row(run, site, cutoff, settings.data_docs.retention_days, published) for run in matrix]
        links |= {"matrix": [cell_of(row["run"], row["link"], row["page"]) for row in cells]}
    document = HistoryIndexRenderer.render(links)
    html = EscapingIndexPageView(custom_styles_directory=None, custom_views_directory=None).render(document)
    page = site / name
    write_atomically(page, offline_html(html, site, site))
    return page


def _row(run: RunEntry, site: Path, cutoff: datetime, retention_days: int, published: bool) -> dict[str, Any]:
    """A run's link: its page when this site holds it, or (a published site) when the bucket does: every
    instance publishes its runs' pages there, and a bucket lifecycle rule deletes them after retention_days."""
    kept = run.run_at >= cutoff
    if run.page and ((site / run.page).is_file() or (published and kept)):
        link, page = urllib.parse.quote(run.page), "open"
    elif not kept:
        link, page = "#", f"pruned (older than {retention_days} days)"
    else:
        link, page = "#", "none (not written)"
    return {"run": run, "link": link, "page": page}


class HistoryIndexRenderer(SiteIndexPageRenderer):
    """GX's index page with nba-dq's runs (one row per run) and a tab of monthly archive pages."""

    @classmethod
    def render(cls, index_links_dict: dict[str, Any]) -> Any:
        document = super().render({"site_name": index_links_dict["site_name"]})
        tabs = [
            {"tab_name": "Runs", "tab_content": cls._runs_table(index_links_dict["runs"])},
            {"tab_name": "Archive by month", "tab_content": cls._archive_table(index_links_dict["archive"])},
        ]
        if "matrix" in index_links_dict:  # first, so the landing page opens on it
            tabs.insert(0, landing_tab(index_links_dict["matrix"], index_links_dict["site"], cls._link))
        document.sections[0].content_blocks[-1] = RenderedTabsContent(
            tabs=tabs, styling={"classes": ["col-12", "ge-index-page-tabs-container"]}
        )
        return document

    @classmethod
    def _runs_table(cls, rows: list[dict[str, Any]]) -> RenderedBootstrapTableContent:
        columns = [("validation_success", "Status"), ("run_time", "Run time"), ("run_name", "Run name"),
                   ("phase", "Phase"), ("game_date", "Game date"), ("verdict", "Verdict"),
                   ("page", "Page")]  # fmt: skip
        data = [
            {
                "validation_success": cls._render_validation_success_cell(row["run"].verdict in (PASS, WARN)),
                "run_time": cls._get_formatted_datetime(row["run"].run_at),
                "_run_time_sort": row["run"].run_at.timestamp(),
                "run_name": f"{row['run'].phase}-{row['run'].game_date}",  # as GX names the run's results
                "phase": row["run"].phase,
                "game_date": row["run"].game_date,
                "verdict": row["run"].described,
                "page": cls._link(row["page"], row["link"]) if row["link"] != "#" else row["page"],
                "_table_row_link_path": row["link"],
            }
            for row in rows
        ]
        return cls._table(columns, data, sort="run_time")

    @classmethod
    def _archive_table(cls, archive: list[tuple[str, int]]) -> RenderedBootstrapTableContent:
        data = [
            {"month": cls._link(month, month_page(month, 1)), "_month_sort": month, "runs": str(runs),
             "_table_row_link_path": month_page(month, 1)}
            for month, runs in archive
        ]  # fmt: skip
        return cls._table([("month", "Month"), ("runs", "Runs")], data, sort="month")

    @classmethod
    def _link(cls, text: str, href: str) -> RenderedStringTemplateContent:
        return RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": "$text", "params": {"text": text}, "tag": "a",
                             "styling": {"attributes": {"href": href}}},
        )  # fmt: skip

    @classmethod
    def _table(cls, columns: list[tuple[str, str]], data: list[dict[str, Any]], sort: str) -> Any:
        options = {"search": "true", "rowAttributes": "rowAttributesLinks", "sortName": sort, "sortOrder": "desc",
                   "pagination": "true", "iconSize": "sm", "toolbarAlign": "right"}  # fmt: skip
        return RenderedBootstrapTableContent(
            table_columns=[
                {"field": field, "title": title, "sortable": "true", "sortName": f"_{field}_sort"}
                if field in ("run_time", "month")
                else {"field": field, "title": title, "sortable": "true"}
                for field, title in columns
            ],
            table_data=data,
            table_options=options,
            styling={"classes": ["col-12", "ge-index-page-table-container"], "body": {"classes": ["table-sm"]}},
        )
