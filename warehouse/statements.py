"""Capturing the SQL statements SQLAlchemy issues inside a block (dry runs, benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa


@dataclass
class Statements:
    """SQL statements issued through SQLAlchemy inside a block, and the seconds they took."""

    texts: list[str] = field(default_factory=list)
    seconds: float = 0.0


@contextmanager
def capturing_statements() -> Iterator[Statements]:
    found = Statements()
    started: list[float] = []

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        found.texts.append(statement)
        started.append(time.perf_counter())

    def after(*args: object) -> None:
        found.seconds += time.perf_counter() - started.pop()

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", before)
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", after)
