"""Exit codes and the one error type that means "could not run"."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, in priority order: a run reports the highest that applies."""

    PASSED = 0  # every critical check passed (warnings allowed)
    CHECK_FAILED = 1  # a critical check failed
    COULD_NOT_RUN = 2  # bad input, config, warehouse, or a check that raised


class CouldNotRun(Exception):
    """A run cannot produce a verdict. The message is one line: what is wrong and what to do."""


class NoGames(CouldNotRun):
    """The date has no scheduled games: nothing to check. Still exit 2 (no verdict), but no incident to alert."""


def one_line(text: str) -> str:
    """A message as one line: stderr carries one line per error, whatever a library's message holds."""
    return " ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def os_problem(error: OSError) -> str:
    """What an OSError says about which file, in a few words: `Read-only file system: /path`."""
    reason = error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename else reason
