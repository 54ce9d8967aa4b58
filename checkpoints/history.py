"""Results history: every run appends one row per check to nba_monitoring.dq_check_results.

Append only. On BigQuery rows go in with a load job (load_table_from_json), never DML or streaming
inserts (the platform hit DML concurrency limits). On DuckDB they go into the history's own file under
an exclusive file lock, so concurrent runs take turns. Rows that cannot be written in time are kept in
gx/uncommitted/history/pending and appended first by the next run: nothing is lost.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from checkpoints.data_docs import docs_url
from checkpoints.summary import PASS, RunSummary, json_safe, outcomes
from warehouse.bigquery import APP_LABEL, bigquery_client
from warehouse.catalog import DQ_CHECK_RESULTS
from warehouse.dialect import BIGQUERY, bigquery_project, create_table_ddl
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

log = logging.getLogger(__name__)
H = DQ_CHECK_RESULTS.c
PENDING = Path("uncommitted") / "history" / "pending"  # under the GX root
Row = dict[str, Any]


def history_rows(
    summary: RunSummary, run_at: datetime, docs_url: Callable[[str], str], warehouse_label: str
) -> list[Row]:
    """One row per check of the run; a phase that could not run is one `could_not_run` row."""
    run_id = f"{summary.phase}-{summary.game_date}-{run_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
    checks = outcomes(summary)
    page = docs_url(summary.data_docs[0]) if summary.data_docs else None
    return [
        {
            H.run_id: run_id,
            H.run_at: run_at.isoformat(),
            H.phase: summary.phase,
            H.game_date: summary.game_date.isoformat(),
            H.check_name: check.name,
            H.success: check.status == PASS,
            H.status: check.status,
            H.severity: check.severity,
            H.observed: json.dumps({"error": check.error} if check.error else json_safe(check.observed), default=str),
            H.expected: json.dumps(check.expected),
            H.data_docs_url: page,
            H.warehouse: warehouse_label,
        }
        for check in checks
    ]


def warehouse_label(url: str) -> str:
    """The warehouse a row was measured on, without any query string (it may carry credentials)."""
    return url.split("?", 1)[0]


class History:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        self._settings, self._sleep = settings, sleep
        self._pending = settings.gx_root / PENDING

    def append(self, rows: list[Row]) -> None:
        """Append the rows (after any kept by earlier runs); keep them for the next run if that fails.

        Pending files are written and removed under the history's lock, so two runs never write the
        same rows twice, nor skip one another's.
        """
        if rows:
            self._keep(rows)
        try:
            with self._exclusive():
                for path in sorted(self._pending.glob("*.json")) if self._pending.is_dir() else []:
                    self._write(json.loads(path.read_text(encoding="utf-8")))
                    path.unlink()
        except CouldNotRun as error:
            log.warning("history: %s; the rows are kept in %s for the next run", error, self._pending)

    def read(self, sql: str) -> list[Any]:
        """Rows of a query on the DuckDB history (none before the first run), taking turns with writers."""
        import duckdb

        path = Path(self._settings.history.duckdb_file)
        if not path.is_file():
            return []
        with self._exclusive():
            try:
                with duckdb.connect(str(path), read_only=True) as connection:
                    return list(connection.execute(sql).fetchall())
            except duckdb.Error as error:
                raise CouldNotRun(f"history file {path}: {str(error).splitlines()[0]}") from error

    def _keep(self, rows: list[Row]) -> None:
        """Rows are on disk before any write is tried, so a crash mid-write loses nothing either."""
        self._pending.mkdir(parents=True, exist_ok=True)
        handle, draft = tempfile.mkstemp(prefix=".rows.", dir=self._pending)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(rows, out)
        os.replace(draft, self._pending / f"{time.time_ns()}-{rows[0][H.run_id]}.json")

    def check_writable(self) -> str:
        """What `nba-dq doctor` reports: the history can be written (created if missing), or CouldNotRun."""
        if self._settings.warehouse_url.startswith(BIGQUERY):
            return _check_bigquery_history(self._settings)
        with self._exclusive():
            self._write_duckdb([])
        return f"{self._settings.history.duckdb_file} writable"

    def _write(self, rows: list[Row]) -> None:
        if self._settings.warehouse_url.startswith(BIGQUERY):
            _load_into_bigquery(self._settings, rows)
        else:
            self._write_duckdb(rows)

    def _write_duckdb(self, rows: list[Row]) -> None:
        import duckdb

        dataset = self._settings.datasets[DQ_CHECK_RESULTS.dataset_role]
        path = Path(self._settings.history.duckdb_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with duckdb.connect(str(path)) as connection:
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
                ddl = create_table_ddl(DQ_CHECK_RESULTS, dataset)
                connection.execute(ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
                if not rows:
                    return
                columns = list(DQ_CHECK_RESULTS.columns)
                placeholders = ", ".join("?" for _ in columns)
                connection.executemany(
                    f"INSERT INTO {dataset}.{DQ_CHECK_RESULTS.name} ({', '.join(columns)}) VALUES ({placeholders})",
                    [[row[column] for column in columns] for row in rows],
                )
        except duckdb.Error as error:
            raise CouldNotRun(f"history file {path}: {str(error).splitlines()[0]}") from error

    def _lock_path(self) -> Path:
        """Beside the DuckDB history file (every run writing it takes turns), else beside the pending rows."""
        if self._settings.warehouse_url.startswith(BIGQUERY):
            return self._pending.parent / ".lock"
        database = Path(self._settings.history.duckdb_file)
        return database.with_name(database.name + ".lock")

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One writer at a time across processes; waits up to lock_timeout_seconds."""
        deadline = time.monotonic() + self._settings.history.lock_timeout_seconds
        path = self._lock_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as lock:
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise CouldNotRun(f"the history stayed locked by another run ({path})") from None
                    self._sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _load_into_bigquery(settings: Settings, rows: list[Row]) -> None:
    """A load job appends the rows, creating the dataset and the (game_date-partitioned) table if missing."""
    from google.cloud import bigquery

    project = bigquery_project(settings.warehouse_url)
    dataset = f"{project}.{settings.datasets[DQ_CHECK_RESULTS.dataset_role]}"
    types = {"STRING": "STRING", "TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "BOOL": "BOOLEAN"}
    schema = [bigquery.SchemaField(name, types[kind]) for name, kind in DQ_CHECK_RESULTS.columns.items()]
    try:
        client = bigquery_client(settings, {"command": "history"})
        client.create_dataset(dataset, exists_ok=True)
        job = client.load_table_from_json(
            rows,
            f"{dataset}.{DQ_CHECK_RESULTS.name}",
            job_config=bigquery.LoadJobConfig(
                schema=schema,
                write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
                time_partitioning=bigquery.TimePartitioning(field=DQ_CHECK_RESULTS.c.game_date),
                labels={**APP_LABEL, "command": "history"},  # load jobs do not take the query defaults
            ),
        )
        job.result(timeout=120)
    except Exception as error:  # any failure keeps the rows pending
        raise CouldNotRun(f"history load job into {dataset}: {type(error).__name__}: {error}") from error


def _check_bigquery_history(settings: Settings) -> str:
    """The history dataset exists and its table (if created yet) accepts appends from these credentials."""
    project = bigquery_project(settings.warehouse_url)
    dataset = f"{project}.{settings.datasets[DQ_CHECK_RESULTS.dataset_role]}"
    table = f"{dataset}.{DQ_CHECK_RESULTS.name}"
    from google.api_core.exceptions import NotFound

    try:
        client = bigquery_client(settings, {"command": "doctor"})
        try:
            client.get_dataset(dataset)
        except NotFound:
            raise CouldNotRun(
                f"dataset {dataset} does not exist: create it once (bq mk --dataset {dataset.replace('.', ':', 1)})"
                " or let a run with bigquery.datasets.create make it"
            ) from None
        try:
            client.get_table(table)
        except NotFound:
            return f"{dataset} exists; {DQ_CHECK_RESULTS.name} is created by the first run (bigquery.tables.create)"
        needed = ["bigquery.tables.updateData", "bigquery.tables.get"]
        granted = set(client.test_iam_permissions(table, needed).get("permissions", []))
    except CouldNotRun:
        raise
    except Exception as error:  # doctor reports any failure as one line
        raise CouldNotRun(f"history {dataset}: {type(error).__name__}: {str(error).splitlines()[0]}") from error
    missing = sorted(set(needed) - granted)
    if missing:
        raise CouldNotRun(f"history {table}: these credentials lack {', '.join(missing)}")
    return f"{table} accepts appends"


def recorder(settings: Settings) -> Callable[[RunSummary], None]:
    """What a run records its verdict with: the rows of the summary, appended to the history."""
    history = History(settings)
    label = warehouse_label(settings.warehouse_url)

    def record(summary: RunSummary) -> None:
        rows = history_rows(summary, datetime.now(timezone.utc), lambda page: docs_url(settings, Path(page)), label)
        history.append(rows)

    return record
