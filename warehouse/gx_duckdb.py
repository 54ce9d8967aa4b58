"""The one fix GX 1.24.1 needs to run on DuckDB.

GX fetches query results after closing its connection unless the dialect is in a private tuple of
"persisted connection" dialects. duckdb-engine's cursor is the connection, so the close wipes the
result: every expectation fails with an IndexError hidden in exception_info (GX issues 10738, 11579).
Adding duckdb to the tuple keeps one connection per execution engine, as GX does for sqlite and
BigQuery. tests/test_gx_duckdb_fix.py fails if GX stops needing or accepting this.
"""

from __future__ import annotations

DUCKDB_DIALECT = "duckdb"


class _DialectName(str):
    """GX compares entries with `==` against a dialect name and reads `.value` from them."""

    @property
    def value(self) -> str:
        return str(self)


def enable_duckdb_in_gx() -> None:
    """Idempotently add duckdb to GX's persisted-connection dialects."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as gx_engine

    current: tuple[object, ...] = gx_engine._PERSISTED_CONNECTION_DIALECTS
    if any(str(getattr(entry, "value", entry)) == DUCKDB_DIALECT for entry in current):
        return
    gx_engine._PERSISTED_CONNECTION_DIALECTS = (*current, _DialectName(DUCKDB_DIALECT))  # type: ignore[assignment]
