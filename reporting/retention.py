"""Pruning GX validation results and their pages older than [data_docs] retention_days.

Kept forever, they made every run slower (GX and the offline rewrite walked them all) and filled the
disk (350 MB after 1,000 runs). The history keeps every run's verdict; the site's index keeps listing
a pruned run, saying its page was pruned (reporting/site_index.py). GX stores a result under
validations/<suite>/<run name>/<run time>/ and its page under the same folders of the site, so a run's
age is in its folder name: the walk stops at run-time folders and reads no file.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from reporting.data_docs import VALIDATIONS_FOLDER, site_folder
from warehouse.settings import Settings

log = logging.getLogger(__name__)
RUN_TIME = re.compile(r"\d{8}T\d{6}\.\d{6}Z")  # GX's RunIdentifier.to_tuple() run time
RUN_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"


@dataclass
class Pruned:
    run_times: list[datetime] = field(default_factory=list)  # of the runs whose results and pages went
    pages: list[Path] = field(default_factory=list)  # the pages removed (to remove from a bucket too)


def prune(settings: Settings, now: datetime) -> Pruned:
    """Remove every stored result, and its pages, of a run older than the retention; returns what went.

    Pages go first: a crash in between leaves a result without a page, which the next prune removes."""
    cutoff = now - timedelta(days=settings.data_docs.retention_days)
    results = settings.gx_root / VALIDATIONS_FOLDER
    pages = site_folder(settings.gx_root) / "validations"
    pruned = Pruned()
    for folder, stamp in _run_folders(results):
        if stamp >= cutoff:
            continue
        page_folder = pages / folder.relative_to(results)
        pruned.pages += [page for page in page_folder.rglob("*.html")]
        _remove(page_folder)
        _remove(folder)
        pruned.run_times.append(stamp)
        for emptied in (folder.parent, page_folder.parent):  # the run name's folder, once its last run went
            try:
                emptied.rmdir()
            except OSError:  # not empty, or gone
                pass
    if pruned.run_times:
        log.info("pruned %d runs' validation results older than %s", len(pruned.run_times), cutoff)
    return pruned


def _run_folders(root: Path) -> list[tuple[Path, datetime]]:
    found = []
    for parent, folders, _ in os.walk(root):
        for name in [name for name in folders if RUN_TIME.fullmatch(name)]:
            folders.remove(name)  # a run's folder holds its results only: no need to look inside
            stamp = datetime.strptime(name, RUN_TIME_FORMAT).replace(tzinfo=timezone.utc)
            found.append((Path(parent) / name, stamp))
    return found


def _remove(folder: Path) -> None:
    """Remove a folder; one a concurrent prune removed meanwhile is gone all the same."""
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        if folder.exists():
            shutil.rmtree(folder)
