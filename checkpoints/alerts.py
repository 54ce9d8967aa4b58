"""Slack alerts for a run's verdict: what to post, when not to post again, and a durable outbox.

State lives under gx/uncommitted/alerts (a ledger of open alerts and an outbox of undelivered
messages), guarded by a file lock so concurrent runs neither double-post nor lose a message. Nothing
here may break a run: `Alerter.notify` logs and returns whatever happens.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from checkpoints.slack import CRITICAL, RESOLVED, WARNING, Destination, Routing, SlackSender
from checkpoints.summary import COULD_NOT_RUN, ERROR, PASS, CheckOutcome, RunSummary, brief, detail_rows, outcomes
from checkpoints.summary import CRITICAL as CRITICAL_SEVERITY

log = logging.getLogger(__name__)

ALERTS_FOLDER = Path("uncommitted") / "alerts"  # under the GX root
SHOWN_MISSING = 10
SHOWN_ROWS = 10
_SECTION_LIMIT = 2900  # Block Kit allows 3000 characters per section


@dataclass(frozen=True)
class RunLinks:
    """What a message points at: the run's Data Docs page and how to re-run or inspect."""

    data_docs_url: Callable[[str], str]  # a local page path -> the URL readers open
    rerun_command: Callable[[RunSummary], str]
    inspect_command: Callable[[str], str]  # a staging table name -> a command that shows it


class Alerter:
    def __init__(
        self,
        routing: Routing | None,
        sender: SlackSender,
        state_folder: Path,
        links: RunLinks,
        repeat_after: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._routing, self._sender, self._folder = routing, sender, state_folder
        self._links, self._repeat_after, self._clock = links, repeat_after, clock

    def notify(self, summary: RunSummary) -> None:
        """Post what this verdict calls for (an alert, a resolution, or nothing); never raises."""
        if self._routing is None:
            return
        try:
            with self._locked():
                reachable = self._flush_outbox()
                ledger = self._read_ledger()
                for level, payload in self._messages(summary, ledger):
                    destination = self._routing.for_level(level)
                    # While older messages wait, Slack is down: keep this one too rather than wait again.
                    if not (reachable and self._sender.send(destination, payload)):
                        self._queue(destination, payload)
                self._write_json(self._folder / "ledger.json", ledger)
        except Exception as error:  # alerts must never change a run's result
            log.warning("alerts: could not process %s %s: %s", summary.phase, summary.game_date, error)

    def _messages(self, summary: RunSummary, ledger: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
        now = self._clock()
        prefix = f"{summary.phase}|{summary.game_date}|"
        failing = failing_checks(summary)
        due = [
            check
            for check in failing
            if prefix + check.name not in ledger
            or now - datetime.fromisoformat(ledger[prefix + check.name]) >= self._repeat_after
        ]
        ran = {check.name for check in summary.checks if check.status == PASS}
        if summary.checks:
            ran.add(COULD_NOT_RUN)  # the phase ran: a could-not-run alert is over
        resolved = sorted(key[len(prefix) :] for key in ledger if key.startswith(prefix) and key[len(prefix) :] in ran)
        messages = []
        if due:
            level = CRITICAL if any(_is_critical(check) for check in failing) else WARNING
            messages.append((level, alert_message(summary, failing, self._links)))
            ledger.update({prefix + check.name: now.isoformat() for check in failing})
        if resolved:
            messages.append((RESOLVED, resolved_message(summary, resolved, self._links)))
            for name in resolved:
                del ledger[prefix + name]
        return messages

    def _flush_outbox(self) -> bool:
        """Deliver what earlier runs could not, oldest first; False at the first that still fails."""
        outbox = self._folder / "outbox"
        for path in sorted(outbox.glob("*.json")) if outbox.is_dir() else []:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if not self._sender.send(Destination(**entry["destination"]), entry["payload"]):
                return False
            path.unlink()
        return True

    def _queue(self, destination: Destination, payload: dict[str, Any]) -> None:
        name = f"{self._clock():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.json"
        entry = {"destination": {"kind": destination.kind, "name": destination.name}, "payload": payload}
        self._write_json(self._folder / "outbox" / name, entry)
        log.warning("alerts: %s unreachable; message kept in %s for the next run", destination.describe(), name)

    def _read_ledger(self) -> dict[str, str]:
        path = self._folder / "ledger.json"
        return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}

    @staticmethod
    def _write_json(path: Path, document: Any) -> None:
        """Write whole or not at all: a crash never leaves half a ledger or a half message."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, draft = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1, sort_keys=True)
        os.replace(draft, path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._folder.mkdir(parents=True, exist_ok=True)
        with open(self._folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def failing_checks(summary: RunSummary) -> list[CheckOutcome]:
    """The checks that did not pass; a phase that could not run is one critical pseudo-check."""
    return [check for check in outcomes(summary) if check.status != PASS]


def _is_critical(check: CheckOutcome) -> bool:
    return check.status == ERROR or check.severity == CRITICAL_SEVERITY


def alert_message(summary: RunSummary, failing: list[CheckOutcome], links: RunLinks) -> dict[str, Any]:
    """Block Kit blocks with a plain-text fallback: every failed check with what was seen and expected."""
    status = "ERROR" if any(c.status == ERROR for c in failing) else summary.status.upper()
    if status == "PASS":
        status = "WARN"  # only warnings failed: the run passed, the alert still goes out
    title = f"nba-dq {summary.phase} {summary.game_date}: {status}"
    sections = [_check_section(check, links) for check in failing]
    footer = _footer(summary, links)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    blocks += [_mrkdwn(section) for section in sections[:45]]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer[:_SECTION_LIMIT]}]})
    text = "\n\n".join([title, *sections, footer])
    return {"text": _plain(text), "blocks": blocks}


def resolved_message(summary: RunSummary, resolved: list[str], links: RunLinks) -> dict[str, Any]:
    title = f"nba-dq {summary.phase} {summary.game_date}: resolved"
    body = "Passing again: " + ", ".join(f"*{escape(name)}*" for name in resolved)
    footer = _footer(summary, links)
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        _mrkdwn(body),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]},
    ]
    return {"text": _plain("\n\n".join([title, body, footer])), "blocks": blocks}


def _check_section(check: CheckOutcome, links: RunLinks) -> str:
    label = "could not run" if check.status == ERROR else check.severity
    lines = [f"*{escape(check.name)}* ({label})"]
    if check.error:
        lines.append(f"error: {escape(check.error)}")
    else:
        lines.append(f"observed: {escape(_observed(check))}")
    lines.append(f"expected: {escape(check.expected)}")
    lines += _facts(check, links)
    text = "\n".join(lines)
    return text if len(text) <= _SECTION_LIMIT else text[: _SECTION_LIMIT - 3] + "..."


def _observed(check: CheckOutcome) -> str:
    """The observed value in one line; the rows behind it follow on their own lines."""
    observed = check.observed
    if isinstance(observed, dict) and "unexpected" in observed:
        return f"{observed['unexpected']} of {observed['rows']} rows unexpected"
    if isinstance(observed, list) and len(observed) > 1:
        return f"{len(observed)} rows"
    if isinstance(observed, list) and observed and isinstance(observed[0], dict):
        return ", ".join(f"{key}={value}" for key, value in observed[0].items() if _missing_list(key) is None)
    return brief(check)


def _missing_list(key: str) -> str | None:
    """A coverage row's column listing the first missing players (first_50_missing), else None."""
    return key if key.startswith("first_") and key.endswith("_missing") else None


def _facts(check: CheckOutcome, links: RunLinks) -> list[str]:
    """What a reader acts on, escaped: missing players, duplicated keys, orphaned tables, failing rows."""
    rows = detail_rows(check)
    lines: list[str] = []
    for row in rows:
        missing = next((key for key in row if _missing_list(key)), None)
        if missing is not None:  # a coverage row: counts and the first missing players, comma-separated
            names = [name for name in str(row[missing] or "").split(", ") if name]
            total = int(row.get("missing_players") or len(names))
            more = f" (+{total - SHOWN_MISSING} more)" if total > SHOWN_MISSING else ""
            shown = escape(", ".join(names[:SHOWN_MISSING]) or "none")
            lines.append(f"missing players ({total}): {shown}{more}")
            continue
        if "table_name" in row and "age_minutes" in row:
            if row.get("status") == "in flight":
                continue
            table = str(row["table_name"])
            lines.append(escape(f"{row.get('status', 'staging')} table {table}, age {row['age_minutes']} min"))
            lines.append(f"inspect: `{escape(links.inspect_command(table))}`")
            continue
        lines.append(escape(", ".join(f"{key}={value}" for key, value in row.items())))
    shown = lines[: 2 * SHOWN_ROWS]
    hidden = len(rows) - SHOWN_ROWS if len(rows) > SHOWN_ROWS else 0
    return shown + ([f"... and {hidden} more rows"] if hidden else [])


def _footer(summary: RunSummary, links: RunLinks) -> str:
    parts = []
    if summary.data_docs:
        parts.append(f"<{links.data_docs_url(summary.data_docs[0])}|Data Docs for this run>")
    parts.append(f"re-run: `{links.rerun_command(summary)}`")
    return " · ".join(parts)


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as markup: data values are shown as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str) -> str:
    return text[:3900]


def alert_state_folder(gx_root: Path) -> Path:
    return gx_root / ALERTS_FOLDER
