"""Values from the data, made safe to print on a terminal.

A player name holding ANSI escape codes once cleared the screen and printed a fake green PASS, and a
newline inside a value broke the table into rows that were not there. Every value the CLI's text output
takes from data (names, observed values, error texts carrying data, file paths) goes through `printable`
where it enters the text, so control characters show as visible escapes (`\\x1b`, `\\n`). The newlines
between rows are the renderer's own and are never escaped. JSON output needs none of this: `json.dumps`
escapes control characters (and, with its default `ensure_ascii`, everything beyond ASCII).
"""

from __future__ import annotations

import re

# C0 controls (ESC, CR, LF, TAB, ...), DEL and C1 controls (0x9b is a one-byte CSI); Unicode line and
# paragraph separators, and the bidirectional overrides and isolates that reorder what a terminal shows.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(value: object) -> str:
    """`str(value)` with every control character written as a visible escape, on one line."""
    return _UNPRINTABLE.sub(_escape, str(value))


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    if character in _NAMED:
        return _NAMED[character]
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
