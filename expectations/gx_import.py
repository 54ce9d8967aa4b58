"""GX imported by one thread at a time.

GX is imported lazily (a CLI process issues its first statement before paying for GX), and the audit
computes phases' figures in worker threads. Two threads importing GX for the first time at once trip
over its circular imports: "cannot import name ... from partially initialized module" or a
_DeadlockError, and the phases fail as "could not run". A worker thread that may be the first to need
GX calls load_gx() before it; `import great_expectations` loads every GX module nba-dq uses.
"""

from __future__ import annotations

import threading

_FIRST_IMPORT = threading.Lock()


def load_gx() -> None:
    with _FIRST_IMPORT:
        import great_expectations  # noqa: F401


def load_gx_and_checks() -> None:
    """GX with nba-dq's own expectation types registered. A stored validation result names them
    (expect_no_failing_rows, expect_no_failing_dates): a process that only reads stored results, such as
    `nba-dq docs`, cannot load or render one until they are imported."""
    load_gx()
    import expectations.audit_expectation  # noqa: F401
    import expectations.no_failing_rows  # noqa: F401
