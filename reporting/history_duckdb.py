"""The results history on DuckDB: the history's own file, appended once per (run_id, check_name).

reporting/history.py decides when rows are written (pending rows first, under the writers' lock);
this module writes them, as reporting/history_bigquery.py does on BigQuery with load jobs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse.catalog import DQ_CHECK_RESULTS
from warehouse.dialect import create_table_ddl
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

H = DQ_CHECK_RESULTS.c
Row = dict[str, Any]


def write_into_duckdb(settings: Settings, rows: list[Row]) -> None:
    """Append the rows to the history's own DuckDB file (created if missing), each (run_id, check_name)
    once; the caller holds the writers' lock. Raises CouldNotRun when the file cannot take them."""
    import duckdb

    dataset = settings.datasets[DQ_CHECK_RESULTS.dataset_role]
    path = Path(settings.history.duckdb_file)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = _absent(path)
    except OSError as error:
        raise CouldNotRun(f"history file {path}: {error.strerror or error}") from error
    try:
        with duckdb.connect(str(path)) as connection:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
            ddl = create_table_ddl(DQ_CHECK_RESULTS, dataset)
            connection.execute(ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
            if not rows:
                return
            _insert_new_rows(connection, f"{dataset}.{DQ_CHECK_RESULTS.name}", rows)
    except duckdb.Error as error:
        if created:  # a file DuckDB could not finish (a full disk) would refuse every later open
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise CouldNotRun(f"history file {path}: {str(error).splitlines()[0]}") from error


def _absent(path: Path) -> bool:
    """No history yet. An empty file is none either: a full disk stopped DuckDB before its header, and
    DuckDB refuses to open it ever after; it holds nothing, so it is removed (under the writers' lock)."""
    if path.is_file() and path.stat().st_size == 0:
        path.unlink()
    return not path.exists()


def _insert_new_rows(connection: Any, table: str, rows: list[Row]) -> None:
    """Insert, in one transaction, only rows whose (run_id, check_name) the history does not hold yet:
    replaying a pending file that a crashed run had already appended doubles nothing."""
    columns = list(DQ_CHECK_RESULTS.columns)
    placeholders = ", ".join("?" for _ in columns)
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE TEMP TABLE arriving AS SELECT * FROM {table} LIMIT 0")
        connection.executemany(
            f"INSERT INTO arriving ({', '.join(columns)}) VALUES ({placeholders})",
            [[row[column] for column in columns] for row in rows],
        )
        connection.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(f'a.{c}' for c in columns)}"
            f" FROM arriving AS a WHERE NOT EXISTS (SELECT 1 FROM {table} AS h WHERE h.{H.game_date} = a.{H.game_date}"
            f" AND h.{H.run_id} = a.{H.run_id} AND h.{H.check_name} = a.{H.check_name})"
        )
        connection.execute("DROP TABLE arriving")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
