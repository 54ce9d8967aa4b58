"""The landing page's answer to "what failed on date D": a game date x phase matrix of latest verdicts.

The runs table lists runs by run time, so a date's verdict was pages away after a month. The matrix has
one row per game date (the latest MATRIX_DATES dates with runs, newest first) and one column per phase,
each cell coloured by the verdict of the latest run of that phase on that date (pass, warn: warnings
only, fail, error) and linking to that run's page (its worst check's: reporting/site_index.py _runs). It
is read with one history query, bounded by MATRIX_DATES rows of at most one cell per phase, whatever the
history's length. Beside it, links to the
newest health and audit coverage charts the site holds (reporting/charts.py): only those that exist.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from great_expectations.render.components import RenderedBootstrapTableContent

from checkpoints.phases import PHASES

MATRIX_DATES = 366  # a season and its off-season at most: the table's size never grows with the history
CHART_FOLDERS = ("health", "audit")  # where `nba-dq health` and `nba-dq audit` write their charts in the site
NOT_RUN = "-"
# Bootstrap's badge colours: green pass, yellow warn, red fail, dark error.
BADGES = {"pass": "badge-success", "warn": "badge-warning", "fail": "badge-danger", "error": "badge-dark"}


@dataclass(frozen=True)
class Cell:
    phase: str
    game_date: str
    verdict: str
    link: str  # "#" when the run's page is not in the site (pruned or never written)
    title: str  # what the verdict was, shown on hover


def matrix_query(runs: str) -> str:
    """The latest run of each (phase, game date) among the newest MATRIX_DATES game dates, newest first,
    from `runs`: a query of one row per run with run_id, run_time (ISO text), run_phase, run_day."""
    return (
        "SELECT * FROM (SELECT runs.*,"
        " ROW_NUMBER() OVER (PARTITION BY run_phase, run_day ORDER BY run_time DESC, run_id DESC) AS newest,"
        " DENSE_RANK() OVER (ORDER BY run_day DESC) AS day_rank"
        f" FROM ({runs}) AS runs) AS ranked WHERE newest = 1 AND day_rank <= {MATRIX_DATES}"
        " ORDER BY run_day DESC, run_phase"
    )


def newest_charts(site: Path) -> list[Path]:
    """The newest chart of each kind the site holds (by modification time), none when none was written."""
    found = []
    for folder in CHART_FOLDERS:
        charts = sorted((site / folder).glob("*.html"), key=lambda chart: chart.stat().st_mtime_ns)
        found += charts[-1:]
    return found


def cell_of(run: Any, link: str, page: str) -> Cell:
    """A run of the history (site_index.RunEntry) as its cell: `link` and `page` as the runs table has them."""
    title = f"{run.described}; page {page}"
    return Cell(run.phase, run.game_date, run.verdict, link, title)


def landing_tab(cells: Sequence[Cell], site: Path, link: Callable[[str, str], Any]) -> dict[str, Any]:
    """The landing page's first tab: the newest charts' links above the matrix."""
    content = [*charts_block(newest_charts(site), site, link), matrix_table(cells)]
    return {"tab_name": "Verdicts by game date", "tab_content": content}


def matrix_table(cells: Sequence[Cell]) -> Any:
    """One row per game date, one column per phase (pipeline order); a phase not run on a date shows "-"."""
    phases = [phase.checkpoint for phase in PHASES.values()]
    rows: dict[str, dict[str, Any]] = {}
    for cell in cells:
        row = rows.setdefault(cell.game_date, {"game_date": _text(cell.game_date, "span", {})})
        attributes = {"title": cell.title, "data-verdict": cell.verdict}
        if cell.link != "#":  # a link only to a page the site holds
            attributes["href"] = cell.link
        row[cell.phase] = _text(
            cell.verdict, "a" if "href" in attributes else "span", attributes, ["badge", BADGES[cell.verdict]]
        )
    data = [{**{phase: NOT_RUN for phase in phases}, **row} for row in rows.values()]
    columns = [{"field": "game_date", "title": "Game date"}] + [{"field": p, "title": p} for p in phases]
    return RenderedBootstrapTableContent(
        table_columns=columns,
        table_data=data,
        # GX writes these options into the page's script as a Python dict: the string "false" is true in
        # JavaScript (the matrix showed 10 dates a page, a failing date pages away); 0 is false there.
        table_options={"search": "true", "pagination": 0, "iconSize": "sm", "toolbarAlign": "right"},
        styling={"classes": ["col-12", "ge-index-page-table-container"], "body": {"classes": ["table-sm"]}},
    )


def charts_block(charts: Sequence[Path], site: Path, link: Callable[[str, str], Any]) -> list[Any]:
    """Links to the newest charts, or a line saying none was written (never a link to a missing page)."""
    if not charts:
        return [_text("Coverage charts: none written yet (nba-dq health or nba-dq audit writes them).", "p", {})]
    links = [
        link(f"{chart.parent.name}: {chart.stem}", urllib.parse.quote(chart.relative_to(site).as_posix()))
        for chart in charts
    ]
    return [_text("Coverage charts:", "p", {}), *links]


def _text(text: str, tag: str, attributes: dict[str, str], classes: list[str] | None = None) -> Any:
    """Text from the history as an escaped template parameter, never as markup. A plain content-block dict
    (what RenderedStringTemplateContent serializes to): GX deep-copies and rebuilds every component
    object of a page before rendering it, most of the cost of a season's cells."""
    return {
        "content_block_type": "string_template",
        "string_template": {"template": "$text", "params": {"text": text}, "tag": tag,
                            "styling": {"attributes": attributes, "classes": classes or []}},
    }  # fmt: skip
