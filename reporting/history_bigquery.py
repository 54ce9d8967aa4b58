"""The results history on BigQuery: load jobs that append a pending file's rows exactly once.

No DML (the platform hit DML concurrency limits) and no streaming inserts, and a load job cannot skip
rows that are already there. So each batch of rows gets load job ids derived from its content: a run
that crashed after its load job but before removing the pending file submits the same id again on
replay, BigQuery refuses it as a duplicate (409), and the existing job says whether the rows went in.
A job that failed appended nothing (load jobs are atomic), so the next attempt takes the next id of the
same deterministic sequence: every replay walks the same ids and stops at the one that succeeded.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from warehouse.bigquery import APP_LABEL, bigquery_client
from warehouse.catalog import DQ_CHECK_RESULTS
from warehouse.dialect import bigquery_project
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

log = logging.getLogger(__name__)
Row = dict[str, Any]
JOB_ID_PREFIX = "nba_dq_history_"
LOAD_TIMEOUT_SECONDS = 120


def load_job_id(table: str, rows: list[Row], attempt: int) -> str:
    """The same rows into the same table always give the same ids (attempt 0, 1, ... after failed jobs),
    and so do the rows of one run judged again (the service's round run again after a crash): a run's
    rows are named by its run id and check names, not by what they measured."""
    keys = sorted((row[DQ_CHECK_RESULTS.c.run_id], row[DQ_CHECK_RESULTS.c.check_name]) for row in rows)
    content = json.dumps([table, keys], sort_keys=True, default=str).encode("utf-8")
    return f"{JOB_ID_PREFIX}{hashlib.sha256(content).hexdigest()[:40]}_{attempt}"


def load_into_bigquery(settings: Settings, rows: list[Row]) -> None:
    """Append the rows once with a load job, creating the dataset and the (game_date-partitioned) table if
    missing. Raises CouldNotRun (the rows stay pending) when no job appended them."""
    from google.api_core.exceptions import Conflict
    from google.cloud import bigquery

    project = bigquery_project(settings.warehouse_url)
    dataset = f"{project}.{settings.datasets[DQ_CHECK_RESULTS.dataset_role]}"
    table = f"{dataset}.{DQ_CHECK_RESULTS.name}"
    types = {"STRING": "STRING", "TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "BOOL": "BOOLEAN"}
    schema = [bigquery.SchemaField(name, types[kind]) for name, kind in DQ_CHECK_RESULTS.columns.items()]
    config = bigquery.LoadJobConfig(
        schema=schema,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
        time_partitioning=bigquery.TimePartitioning(field=DQ_CHECK_RESULTS.c.game_date),
        labels={**APP_LABEL, "command": "history"},  # load jobs do not take the query defaults
    )
    try:
        client = bigquery_client(settings, {"command": "history"})
        client.create_dataset(dataset, exists_ok=True)
        attempt = 0
        while True:
            job_id = load_job_id(table, rows, attempt)
            try:
                job = client.load_table_from_json(rows, table, job_config=config, job_id=job_id)
            except Conflict:  # this id was submitted before: by a run that crashed, or a failed attempt
                job = client.get_job(job_id)
                if _succeeded(job):
                    log.info("history: load job %s already appended these rows", job_id)
                    return
                attempt += 1
                continue
            job.result(timeout=LOAD_TIMEOUT_SECONDS)
            return
    except Exception as error:  # any failure keeps the rows pending
        raise CouldNotRun(f"history load job into {dataset}: {type(error).__name__}: {error}") from error


def _succeeded(job: Any) -> bool:
    """Whether an earlier job with this id appended its rows (waiting for it if it still runs).

    Only a job that is done and failed lets the caller try the next id: one still running may yet
    append, so then this raises and the rows stay pending for the next run to ask again."""
    try:
        job.result(timeout=LOAD_TIMEOUT_SECONDS)
    except Exception as error:
        if job.state != "DONE":
            raise
        log.info("history: load job %s had failed (%s); trying the next id", job.job_id, error)
        return False  # a failed load job appended nothing
    return True


def check_bigquery_history(settings: Settings) -> str:
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
