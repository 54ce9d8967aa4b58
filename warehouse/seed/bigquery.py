"""Copy a seeded DuckDB warehouse into BigQuery with load jobs: same datasets, tables and rows.

For a dev project or the BigQuery emulator tier: the rows come from the same generator, through the
DuckDB file `nba-dq seed` wrote. Tables are created first (partitioned on game_date, partition filter
required, as on the platform) and then appended to, never created by the load job itself.
"""

from __future__ import annotations

import re
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from warehouse.bigquery import bigquery_client
from warehouse.catalog import ALL_TABLES, PARTITION_COLUMN, PREDICTIONS, Table
from warehouse.dialect import STAGING_TABLE_PREFIX, bigquery_project
from warehouse.settings import Settings

_NUMERIC = re.compile(r"NUMERIC\((\d+),\s*(\d+)\)")


def load_into_bigquery(duckdb_path: Path, settings: Settings) -> dict[str, int]:
    """Replace every catalog table (and staging table) in the configured BigQuery project; rows per table."""
    from google.cloud import bigquery

    client = bigquery_client(settings, {"command": "seed"})
    project = bigquery_project(settings.warehouse_url)
    loaded: dict[str, int] = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as source:
        source.execute("SET TimeZone = 'UTC'")
        for dataset in sorted(set(settings.datasets.values()) - {settings.datasets["monitoring"]}):
            client.create_dataset(f"{project}.{dataset}", exists_ok=True)
        staging_dataset = settings.datasets[PREDICTIONS.dataset_role]
        staging = [
            row[0]
            for row in source.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?"
                " AND starts_with(table_name, ?) ORDER BY table_name",
                [staging_dataset, STAGING_TABLE_PREFIX],
            ).fetchall()
        ]
        targets = [(table, settings.datasets[table.dataset_role], table.name) for table in ALL_TABLES]
        targets += [(PREDICTIONS, staging_dataset, name) for name in staging]
        for table, dataset, name in targets:
            destination = f"{project}.{dataset}.{name}"
            created = bigquery.Table(destination, schema=_schema(table))
            if table.partitioned and not name.startswith(STAGING_TABLE_PREFIX):
                created.time_partitioning = bigquery.TimePartitioning(field=PARTITION_COLUMN)
                created.require_partition_filter = True
            client.delete_table(destination, not_found_ok=True)
            client.create_table(created)
            frame = _frame(source, table, f"{dataset}.{name}")
            if len(frame):
                job_config = bigquery.LoadJobConfig(schema=_schema(table), write_disposition="WRITE_APPEND")
                with warnings.catch_warnings():  # about pandas-gbq, which a later client will want
                    warnings.filterwarnings("ignore", "Loading pandas DataFrame", FutureWarning)
                    job = client.load_table_from_dataframe(frame, destination, job_config=job_config)
                job.result(timeout=600)
            loaded[f"{dataset}.{name}"] = len(frame)
    return loaded


def _schema(table: Table) -> list[Any]:
    from google.cloud import bigquery

    fields = []
    for name, kind in table.columns.items():
        numeric = _NUMERIC.fullmatch(kind)
        if numeric:
            fields.append(bigquery.SchemaField(name, "NUMERIC", precision=int(numeric[1]), scale=int(numeric[2])))
        else:
            fields.append(bigquery.SchemaField(name, {"BOOL": "BOOLEAN"}.get(kind, kind)))
    return fields


def _frame(source: duckdb.DuckDBPyConnection, table: Table, qualified: str) -> pd.DataFrame:
    """The rows with exact types for a load: NUMERIC as Decimal (floats do not fit), times in UTC."""
    numeric = [name for name, kind in table.columns.items() if kind.startswith("NUMERIC")]
    timestamps = [name for name, kind in table.columns.items() if kind == "TIMESTAMP"]
    selected = ", ".join(f"CAST({name} AS VARCHAR) AS {name}" if name in numeric else name for name in table.columns)
    frame = source.execute(f"SELECT {selected} FROM {qualified}").df()
    for name in numeric:
        frame[name] = [None if value is None else Decimal(value) for value in frame[name]]
    for name in timestamps:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    if PARTITION_COLUMN in frame:
        frame[PARTITION_COLUMN] = pd.to_datetime(frame[PARTITION_COLUMN]).dt.date
    return frame
