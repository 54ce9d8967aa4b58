"""Results history: every run appends one row per check to nba_monitoring.dq_check_results.

Append only. On BigQuery rows go in with a load job (load_table_from_json), never DML or streaming
inserts (the platform hit DML concurrency limits). On DuckDB they go into the history's own file under
an exclusive file lock, so concurrent runs take turns. Each run's rows are first kept as a pending
document in the state store ("history/pending/<ns>-<run_id>.json": gx/uncommitted/history/pending by
default, or the GCS prefix every instance shares, `[state] url`) and removed once appended; rows that
cannot be written in time stay there and are appended first by the next run, on any instance: nothing
is lost. Appending is idempotent, keyed by (run_id, check_name) in DuckDB and by the load job ids on
BigQuery: a run that crashed after its append but before removing its pending document doubles nothing
when the next run replays it. Replays on a shared store take the store's lock "history/.lock" too, so
two instances never both replay one document. A corrupt pending document is quarantined (to the
store's quarantine/) and holds up no other rows.
"""

from __future__ import annotations

import fcntl
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from checkpoints.summary import PASS, SKIP, RunSummary, json_safe, recorded_outcomes
from reporting.data_docs import docs_url
from reporting.history_bigquery import check_bigquery_history, load_into_bigquery
from reporting.history_duckdb import write_into_duckdb
from state.files import CorruptStateFile
from state.store import (
    LocalFiles,
    LockTimeout,
    StateStore,
    StateUnavailable,
    flock_within,
    open_store,
    read_checked,
)
from warehouse.catalog import DQ_CHECK_RESULTS
from warehouse.dialect import BIGQUERY
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

log = logging.getLogger(__name__)
H = DQ_CHECK_RESULTS.c
PENDING = "history/pending/"  # in the state store
HISTORY_LOCK = "history/.lock"  # gx/uncommitted/history/.lock locally, where BigQuery runs always took turns
Row = dict[str, Any]


class HistoryNotRecorded(CouldNotRun):
    """A run's rows could neither be written to the history nor kept pending for the next run."""


def history_rows(
    summary: RunSummary,
    run_at: datetime,
    docs_url: Callable[[str], str],
    warehouse_label: str,
    run_id: str | None = None,
) -> list[Row]:
    """One row per check of the run, a skip included (status "skip", success true as GX has it: it failed
    nothing); a phase that could not run is one `could_not_run` row. The run id is
    new for every run, or the caller's (the service's round: its rows are appended once however often
    it is run). Each row keeps its check's own page (the batch it validated), so a failing run links the
    page that shows the failure; a check without one keeps the run's first page."""
    run_id = run_id or f"{summary.phase}-{summary.game_date}-{run_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
    checks = recorded_outcomes(summary)
    first_page = docs_url(summary.data_docs[0]) if summary.data_docs else None
    return [
        {
            H.run_id: run_id,
            H.run_at: run_at.isoformat(),
            H.phase: summary.phase,
            H.game_date: summary.game_date.isoformat(),
            H.check_name: check.name,
            H.success: check.status in (PASS, SKIP),
            H.status: check.status,
            H.severity: check.severity,
            H.observed: json.dumps({"error": check.error} if check.error else json_safe(check.observed), default=str),
            H.expected: json.dumps(check.expected),
            H.data_docs_url: docs_url(check.page) if check.page else first_page,
            H.warehouse: warehouse_label,
        }
        for check in checks
    ]


def warehouse_label(url: str) -> str:
    """The warehouse a row was measured on, without any query string (it may carry credentials)."""
    return url.split("?", 1)[0]


class History:
    def __init__(
        self, settings: Settings, sleep: Callable[[float], None] = time.sleep, store: StateStore | None = None
    ) -> None:
        self._settings, self._sleep = settings, sleep
        self._store = store or open_store(settings)

    def append(self, rows: list[Row]) -> None:
        """Append the rows (after any kept by earlier runs); keep them for the next run if that fails.

        Pending documents are written and removed under the history's lock, so two runs never write the
        same rows twice, nor skip one another's; a replay after a crash is idempotent. Raises
        HistoryNotRecorded when the rows could neither be kept pending (a read-only or full gx/
        folder, a state store that is down) nor written.
        """
        unkept: StateUnavailable | None = None
        if rows:
            try:
                self._keep(rows)
            except StateUnavailable as error:
                unkept = error
        try:
            with self._exclusive():
                for name in self._pending_names():
                    self._replay(name)
                if unkept is not None:
                    self._write(rows)
        except CouldNotRun as error:
            if unkept is not None:
                raise HistoryNotRecorded(
                    f"history rows of {rows[0][H.run_id]} could neither be kept ({unkept}) nor written ({error})"
                ) from error
            log.warning(
                "history: %s; the rows are kept in %s/%s for the next run", error, self._store.location, PENDING
            )

    def _pending_names(self) -> list[str]:
        try:
            return [name for name in self._store.list(PENDING) if name.endswith(".json")]
        except StateUnavailable as error:  # the rows kept there wait for a run that can read them
            log.warning("history: the pending rows cannot be listed: %s", error)
            return []

    def _replay(self, name: str) -> None:
        """Append one pending document's rows and remove it; a corrupt one is quarantined, holding up nothing."""
        try:
            kept = read_checked(self._store, name, check_rows)
        except StateUnavailable as error:  # unreadable, or the quarantine cannot be written: leave it, go on
            log.warning("history: pending %s could not be read or quarantined: %s", name, error)
            return
        if kept is None:
            return
        self._write(kept.document)
        try:
            self._store.delete(name)
        except StateUnavailable as error:  # appended; replaying it later doubles nothing
            log.warning("history: appended %s but could not remove it (%s); a replay will skip its rows", name, error)

    def read(self, sql: str) -> list[Any]:
        """Rows of a query on the DuckDB history (none before the first run), taking turns with writers."""
        import duckdb

        path = Path(self._settings.history.duckdb_file)
        if not path.is_file() or path.stat().st_size == 0:
            return []
        with self._shared():
            try:
                with duckdb.connect(str(path), read_only=True) as connection:
                    return list(connection.execute(sql).fetchall())
            except duckdb.Error as error:
                raise CouldNotRun(f"history file {path}: {str(error).splitlines()[0]}") from error

    def _keep(self, rows: list[Row]) -> None:
        """Rows are stored (whole) before any write is tried, so a crash mid-write loses nothing either."""
        name = f"{PENDING}{time.time_ns()}-{rows[0][H.run_id]}.json"
        if not self._store.create(name, rows):  # run ids are unique: taken means something is wrong
            raise StateUnavailable(f"{self._store.location}/{name} exists already")

    def check_writable(self) -> str:
        """What `nba-dq doctor` reports: the history can be written (created if missing), or CouldNotRun."""
        if self._settings.warehouse_url.startswith(BIGQUERY):
            return check_bigquery_history(self._settings)
        with self._duckdb_exclusive():  # this machine's file: the shared store's lock is not needed
            write_into_duckdb(self._settings, [])
        return f"{self._settings.history.duckdb_file} writable"

    def _write(self, rows: list[Row]) -> None:
        if self._settings.warehouse_url.startswith(BIGQUERY):
            load_into_bigquery(self._settings, rows)
        else:
            write_into_duckdb(self._settings, rows)

    def _lock_path(self) -> Path:
        """Beside the DuckDB history file: every run writing it takes turns."""
        database = Path(self._settings.history.duckdb_file)
        return database.with_name(database.name + ".lock")

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One writer at a time; waits up to lock_timeout_seconds.

        DuckDB: the file lock beside the history file (it is this machine's file), and on a shared
        store also the store's lock, so two instances never replay one pending document. BigQuery: the
        store's lock only; one that cannot be taken (a read-only gx/ folder) is done without: the load
        jobs' ids make every append idempotent, so taking turns only saves work there."""
        wait = self._settings.history.lock_timeout_seconds
        with ExitStack() as held:
            if not self._settings.warehouse_url.startswith(BIGQUERY):
                held.enter_context(self._duckdb_exclusive())
                if not isinstance(self._store, LocalFiles):
                    held.enter_context(self._store.locked(HISTORY_LOCK, wait))
            else:
                try:
                    held.enter_context(self._store.locked(HISTORY_LOCK, wait))
                except LockTimeout as error:
                    raise CouldNotRun(f"the history stayed locked by another run ({error})") from error
                except StateUnavailable as error:
                    log.warning("history: no lock (%s); appending without taking turns", error)
            yield

    @contextmanager
    def _duckdb_exclusive(self) -> Iterator[None]:
        path = self._lock_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(path, "a")  # noqa: SIM115 (held for the with-block below)
        except OSError as error:
            raise CouldNotRun(f"history lock {path} cannot be created: {error.strerror or error}") from error
        with lock:
            self._take(lock, fcntl.LOCK_EX, path)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def _shared(self) -> Iterator[None]:
        """Readers take turns with writers without writing anything: a read-only gx/ folder still reads.
        No lock file means no writer has ever run, so there is nothing to wait for."""
        try:
            lock = open(self._lock_path())
        except FileNotFoundError:
            yield
            return
        with lock:
            self._take(lock, fcntl.LOCK_SH, self._lock_path())
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _take(self, lock: Any, kind: int, path: Path) -> None:
        try:
            flock_within(lock, kind, path, self._settings.history.lock_timeout_seconds, self._sleep)
        except LockTimeout:
            raise CouldNotRun(f"the history stayed locked by another run ({path})") from None


def check_rows(document: Any) -> None:
    """A pending file holds what history_rows made: a non-empty list of rows with every column of its
    type, an ISO date and time (a value the insert cannot take would stop every append after it)."""
    if not isinstance(document, list) or not document:
        raise CorruptStateFile("not a non-empty list of history rows")
    for row in document:
        if not isinstance(row, dict) or set(row) != set(DQ_CHECK_RESULTS.columns):
            raise CorruptStateFile("a row lacks the history's columns")
        if not all(isinstance(row[key], str) and row[key] for key in (H.run_id, H.check_name, H.phase)):
            raise CorruptStateFile("a row lacks its run_id, check_name or phase")
        texts = (H.status, H.severity, H.observed, H.expected, H.warehouse)
        if not isinstance(row[H.success], bool) or not all(isinstance(row[key], str) for key in texts):
            raise CorruptStateFile("a row's success is not true/false or a text column is not text")
        date.fromisoformat(row[H.game_date])
        datetime.fromisoformat(row[H.run_at])


def read_history(settings: Settings, sql: str, command: str) -> list[Any]:
    """Rows of a query on the history, on either engine (a BigQuery job labelled with the CLI command
    and the table); none before the first run wrote it."""
    if not settings.warehouse_url.startswith(BIGQUERY):
        return History(settings).read(sql)
    import sqlalchemy as sa

    from warehouse.connection import open_warehouse

    try:
        with open_warehouse(settings, {"command": command, "table": DQ_CHECK_RESULTS.name}).connect() as connection:
            return list(connection.execute(sa.text(sql)))
    except CouldNotRun:  # no history table yet
        return []


def recorder(settings: Settings, run_id: str | None = None) -> Callable[[RunSummary], None]:
    """What a run records its verdict with: the rows of the summary, appended to the history (under
    `run_id` when the caller names the run: one phase's, as the service runs one per round)."""
    history = History(settings)
    label = warehouse_label(settings.warehouse_url)

    def record(summary: RunSummary) -> None:
        now = datetime.now(timezone.utc)
        rows = history_rows(summary, now, lambda page: docs_url(settings, Path(page)), label, run_id)
        history.append(rows)

    return record
