"""What an alert says: Block Kit blocks with a plain-text fallback, every value from the data shown as
typed.

Slack mrkdwn reads `&`, `<` and `>` as markup (escaped as entities) and `*`, `_`, `~` and `` ` `` as
formatting, with no escape for the latter. A value holding any of them (a player named `*bold*`, a
staging table `_x_`) is shown in inline code, where Slack applies no formatting; a backtick cannot
appear inside inline code, so there it is shown as the look-alike U+02CB. Commands to paste are
quoted for the shell where they are built (warehouse/dialect.py) and shown in inline code too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checkpoints.summary import ERROR, CheckOutcome, RunSummary, detail_rows
from reporting.incident_controls import ACKNOWLEDGE, MUTE

SHOWN_MISSING = 10
SHOWN_ROWS = 10
SHOWN_BUTTONS = 10  # incidents with Acknowledge / Mute buttons in one message (one actions block each)
_SECTION_LIMIT = 3000  # Block Kit allows 3000 characters in a section's text
_MAX_BLOCKS = 50  # and 50 blocks in a message
_CELL_WIDTH = 40  # a table cell longer than this is cut (with "..."): the full value is in Data Docs
_FORMATTING = frozenset("*_~`")
_BACKTICK_LOOKALIKE = "\u02cb"
_WEB = ("https://", "http://")


@dataclass(frozen=True)
class RunLinks:
    """What a message points at: a check's Data Docs page and how to re-run or inspect."""

    # A local page path -> its web address (under `[data_docs] base_url`), or the local path itself when
    # the site has none: a file:// link opens nothing from Slack, so a path is shown as text to copy.
    data_docs_url: Callable[[str], str]
    rerun_command: Callable[[RunSummary], str]
    inspect_command: Callable[[str], str]  # a staging table name -> a command that shows it


def alert_message(
    summary: RunSummary,
    failing: list[CheckOutcome],
    links: RunLinks,
    lead: Sequence[str] = (),
    buttons: Sequence[str] = (),
) -> dict[str, Any]:
    """Block Kit blocks with a plain-text fallback: every failed check with what was seen and expected.
    Within Slack's limits: a section's text fits 3000 characters, and checks beyond the 50 blocks a
    message holds are named as "+N more" rather than dropped silently. `lead`: mrkdwn lines shown under
    the title (first seen, owners' mentions, what it follows from); `buttons`: the incident keys that get
    Acknowledge and Mute buttons."""
    title = message_title(summary, failing)
    sections = [_check_section(check, links) for check in failing]
    actions = actions_blocks(buttons)
    room = _MAX_BLOCKS - 4 - bool(lead) - len(actions)  # header, footer, "+N more", with_note's line, ours
    if len(sections) > room:
        rest = failing[room - 1 :]
        sections = sections[: room - 1] + [_limited(f"+{len(rest)} more failed checks: " + _names(rest))]
    footer = _footer(summary, links)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    if lead:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _limited("\n".join(lead))}]})
    blocks += [_mrkdwn(section) for section in sections]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _limited(footer)}]})
    blocks += actions
    text = "\n\n".join([title, *lead, *sections, footer])
    return {"text": _plain(text), "blocks": blocks}


def message_title(summary: RunSummary, failing: Sequence[CheckOutcome]) -> str:
    """`nba-dq phase5 2025-12-05: FAIL`: the first line of every message about a verdict."""
    status = "ERROR" if any(c.status == ERROR for c in failing) else summary.status.upper()
    if status == "PASS":
        status = "WARN"  # only warnings failed: the run passed, the alert still goes out
    return f"nba-dq {summary.phase} {summary.game_date}: {status}"


def actions_blocks(incidents: Sequence[str]) -> list[dict[str, Any]]:
    """Acknowledge and Mute 24 h for each incident (the value is its key), for the service's Slack endpoint.
    One actions block per incident: Slack wants an action_id unique within its block. Several incidents
    in one message name their check on the buttons; beyond SHOWN_BUTTONS they get none (the thread's
    first incidents are the ones the reader sees first)."""
    blocks = []
    for incident in incidents[:SHOWN_BUTTONS]:
        named = f" {incident.partition('|')[2]}" if len(incidents) > 1 else ""
        elements = [
            {"type": "button", "action_id": action, "value": incident, "text": _plain_text((label + named)[:75])}
            for action, label in ((ACKNOWLEDGE, "Acknowledge"), (MUTE, "Mute 24 h"))
        ]
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def _plain_text(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def compact_message(title: str, lines: Sequence[str]) -> dict[str, Any]:
    """One short section: a thread's reply, or what a webhook (which has no threads) gets instead of one."""
    body = _limited("\n".join([f"*{escape(title)}*", *lines]))
    return {"text": _plain("\n".join([title, *lines])), "blocks": [_mrkdwn(body)]}


def resolved_opening(title: str, checks: Sequence[str], when: str) -> dict[str, Any]:
    """The opening message as chat.update leaves it once its incidents are resolved: no buttons."""
    names = ", ".join(f"*{escape(name)}*" for name in checks)
    heading = f"{title}: resolved"
    body = _limited(f":white_check_mark: Resolved {escape(when)}: passing again: {names}")
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": heading[:150]}}, _mrkdwn(body)]
    return {"text": _plain(f"{heading}\n{body}"), "blocks": blocks}


def with_note(payload: dict[str, Any], note: str) -> dict[str, Any]:
    """The message with a line for its readers about how it was sent (e.g. without repeat suppression)."""
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]}
    return {"text": _plain(f"{payload['text']}\n\n{escape(note)}"), "blocks": [*payload["blocks"], context]}


def _check_section(check: CheckOutcome, links: RunLinks) -> str:
    """A check's section: name, why it exists, observed and expected, its rows as a table, its page."""
    label = "could not run" if check.status == ERROR else check.severity
    head = [f"*{escape(check.name)}* ({label})"]
    if check.notes:
        head.append(f"_why:_ {shown(check.notes)}")
    head.append(f"expected: {shown(check.expected)}")
    rows = _table_rows(check)
    observed = _observed(check) if rows else _observed(check) or "1 row"  # one row, shown as facts below
    head.append(f"error: {shown(check.error)}" if check.error else f"observed: {observed}".rstrip())
    tail = _facts(check, links) + ([f"Data Docs: {page_link(check.page, links)}"] if check.page else [])
    total = check.observed["unexpected"] if isinstance(check.observed, dict) else len(rows)
    for shown_rows in range(min(len(rows), SHOWN_ROWS), -1, -1):  # as many rows as fit the section
        more = total - shown_rows
        table = [_table(rows[:shown_rows])] if shown_rows else []
        cut = [f"+{more} more rows" + (" (all in Data Docs)" if check.page else "")] if more > 0 and rows else []
        text = "\n".join([*head, *table, *cut, *tail])
        if len(text) <= _SECTION_LIMIT:
            return text
    return _limited(text)


def _observed(check: CheckOutcome) -> str:
    """The observed value in one line (shown safely); the rows behind it follow as a table (one row: only
    the table)."""
    observed = check.observed
    if isinstance(observed, dict) and "unexpected" in observed:
        return f"{observed['unexpected']} of {_value(observed['rows'])} rows unexpected"
    if isinstance(observed, list) and len(observed) != 1:
        return f"{len(observed)} rows"
    if isinstance(observed, list) and not isinstance(observed[0], dict):
        return shown(_value(observed[0]))
    if isinstance(observed, list):
        return ""
    return shown(_value(observed))


def _missing_list(key: str) -> bool:
    """A coverage row's column listing the first missing players (first_50_missing)."""
    return key.startswith("first_") and key.endswith("_missing")


def _is_staging(row: Mapping[str, Any]) -> bool:
    return "table_name" in row and "age_minutes" in row


def _table_rows(check: CheckOutcome) -> list[dict[str, Any]]:
    """The rows shown as a table: what the check found, without the lists and tables shown as facts."""
    rows = []
    for row in detail_rows(check):
        if _is_staging(row):
            continue
        rows.append({key: value for key, value in row.items() if not _missing_list(key)})
    return rows if any(rows) else []


def _facts(check: CheckOutcome, links: RunLinks) -> list[str]:
    """What a reader acts on beside the table: missing players, orphaned staging tables."""
    lines: list[str] = []
    for row in detail_rows(check):
        missing = next((key for key in row if _missing_list(key)), None)
        if missing is not None:  # a coverage row: the first missing players, comma-separated
            names = [name for name in str(row[missing] or "").split(", ") if name]
            total = int(row.get("missing_players") or len(names))
            listed_count = min(SHOWN_MISSING, len(names))
            more = f" (+{total - listed_count} more)" if total > listed_count else ""
            listed = ", ".join(shown(name) for name in names[:SHOWN_MISSING]) or "none listed"
            lines.append(f"missing players ({total}): {listed}{more}")
        elif _is_staging(row) and row.get("status") != "in flight":
            table = str(row["table_name"])
            status = shown(str(row.get("status", "staging")))
            lines.append(f"{status} table {shown(table)}, age {shown(_value(row['age_minutes']))} min")
            lines.append(f"inspect: {code(links.inspect_command(table))}")
    if len(lines) > 2 * SHOWN_ROWS:
        lines = lines[: 2 * SHOWN_ROWS] + [f"+{(len(lines) - 2 * SHOWN_ROWS) // 2} more tables"]
    return lines


def _table(rows: list[dict[str, Any]]) -> str:
    """Rows as a code block with aligned columns: Slack formats nothing in it, so values show as typed."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(key) for key in columns]] + [[_cell(_value(row.get(key, "-"))) for key in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in cells]
    return "```\n" + escape("\n".join(lines)) + "\n```"


def _value(value: Any) -> str:
    """A value as a reader types it: null, never Python's None."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cell(text: str) -> str:
    """One line, at most _CELL_WIDTH characters; a backtick would end the block, so it becomes a look-alike."""
    text = " ".join(str(text).split()).replace("`", _BACKTICK_LOOKALIKE)
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 3] + "..."


def _names(checks: list[CheckOutcome]) -> str:
    return ", ".join(f"*{escape(check.name)}*" for check in checks)


def page_link(page: str, links: RunLinks) -> str:
    """A web page as a link; a local page as its path in inline code, to copy (Slack opens no file:// link)."""
    url = links.data_docs_url(page)
    if url.startswith(_WEB):
        return f"<{escape(url)}>"
    return code(url)


def _footer(summary: RunSummary, links: RunLinks) -> str:
    return f"re-run: {code(links.rerun_command(summary))}"


def _limited(text: str) -> str:
    return text if len(text) <= _SECTION_LIMIT else text[: _SECTION_LIMIT - 3] + "..."


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
