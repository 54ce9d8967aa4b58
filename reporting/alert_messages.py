"""What an alert says: Block Kit blocks with a plain-text fallback, every value from the data shown as
typed.

Slack mrkdwn reads `&`, `<` and `>` as markup (escaped as entities) and `*`, `_`, `~` and `` ` `` as
formatting, with no escape for the latter. A value holding any of them (a player named `*bold*`, a
staging table `_x_`) is shown in inline code, where Slack applies no formatting; a backtick cannot
appear inside inline code, so there it is shown as the look-alike U+02CB. Commands to paste are
quoted for the shell where they are built (warehouse/dialect.py) and shown in inline code too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checkpoints.summary import ERROR, CheckOutcome, RunSummary, brief, detail_rows

SHOWN_MISSING = 10
SHOWN_ROWS = 10
_SECTION_LIMIT = 2900  # Block Kit allows 3000 characters per section
_FORMATTING = frozenset("*_~`")
_BACKTICK_LOOKALIKE = "\u02cb"


@dataclass(frozen=True)
class RunLinks:
    """What a message points at: the run's Data Docs page and how to re-run or inspect."""

    data_docs_url: Callable[[str], str]  # a local page path -> the URL readers open
    rerun_command: Callable[[RunSummary], str]
    inspect_command: Callable[[str], str]  # a staging table name -> a command that shows it


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


def with_note(payload: dict[str, Any], note: str) -> dict[str, Any]:
    """The message with a line for its readers about how it was sent (e.g. without repeat suppression)."""
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]}
    return {"text": _plain(f"{payload['text']}\n\n{escape(note)}"), "blocks": [*payload["blocks"], context]}


def _check_section(check: CheckOutcome, links: RunLinks) -> str:
    label = "could not run" if check.status == ERROR else check.severity
    lines = [f"*{escape(check.name)}* ({label})"]
    if check.error:
        lines.append(f"error: {shown(check.error)}")
    else:
        lines.append(f"observed: {_observed(check)}")
    lines.append(f"expected: {shown(check.expected)}")
    lines += _facts(check, links)
    text = "\n".join(lines)
    return text if len(text) <= _SECTION_LIMIT else text[: _SECTION_LIMIT - 3] + "..."


def _observed(check: CheckOutcome) -> str:
    """The observed value in one line (shown safely); the rows behind it follow on their own lines."""
    observed = check.observed
    if isinstance(observed, dict) and "unexpected" in observed:
        return f"{observed['unexpected']} of {observed['rows']} rows unexpected"
    if isinstance(observed, list) and len(observed) > 1:
        return f"{len(observed)} rows"
    if isinstance(observed, list) and observed and isinstance(observed[0], dict):
        return _pairs({key: value for key, value in observed[0].items() if _missing_list(key) is None})
    return shown(brief(check))


def _missing_list(key: str) -> str | None:
    """A coverage row's column listing the first missing players (first_50_missing), else None."""
    return key if key.startswith("first_") and key.endswith("_missing") else None


def _facts(check: CheckOutcome, links: RunLinks) -> list[str]:
    """What a reader acts on, shown safely: missing players, duplicated keys, orphaned tables, failing rows."""
    rows = detail_rows(check)
    lines: list[str] = []
    for row in rows:
        missing = next((key for key in row if _missing_list(key)), None)
        if missing is not None:  # a coverage row: counts and the first missing players, comma-separated
            names = [name for name in str(row[missing] or "").split(", ") if name]
            total = int(row.get("missing_players") or len(names))
            more = f" (+{total - SHOWN_MISSING} more)" if total > SHOWN_MISSING else ""
            listed = ", ".join(shown(name) for name in names[:SHOWN_MISSING]) or "none"
            lines.append(f"missing players ({total}): {listed}{more}")
            continue
        if "table_name" in row and "age_minutes" in row:
            if row.get("status") == "in flight":
                continue
            table = str(row["table_name"])
            status = shown(str(row.get("status", "staging")))
            lines.append(f"{status} table {shown(table)}, age {shown(str(row['age_minutes']))} min")
            lines.append(f"inspect: {code(links.inspect_command(table))}")
            continue
        lines.append(_pairs(row))
    shown_lines = lines[: 2 * SHOWN_ROWS]
    hidden = len(rows) - SHOWN_ROWS if len(rows) > SHOWN_ROWS else 0
    return shown_lines + ([f"... and {hidden} more rows"] if hidden else [])


def _pairs(row: dict[str, Any] | Any) -> str:
    """key=value, ...: keys are our column names, values come from the data."""
    return ", ".join(f"{escape(str(key))}={shown(str(value))}" for key, value in row.items())


def _footer(summary: RunSummary, links: RunLinks) -> str:
    parts = []
    if summary.data_docs:
        parts.append(f"<{links.data_docs_url(summary.data_docs[0])}|Data Docs for this run>")
    parts.append(f"re-run: {code(links.rerun_command(summary))}")
    return " · ".join(parts)


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as markup: our own text is shown as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shown(value: str) -> str:
    """A value from the data as typed: escaped, and in inline code when it holds a formatting character."""
    return code(value) if _FORMATTING.intersection(value) else escape(value)


def code(text: str) -> str:
    """Inline code (no formatting inside); a backtick would end it, so it becomes a look-alike."""
    return f"`{escape(text.replace('`', _BACKTICK_LOOKALIKE))}`"


def _plain(text: str) -> str:
    return text[:3900]
