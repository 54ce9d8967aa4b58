"""Opening the configured warehouse, and the checks that must pass before any expectation runs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from warehouse.catalog import PARTITION_COLUMN, SCHEDULE, Table
from warehouse.dialect import BIGQUERY, DUCKDB, column_type_matches, columns_query, date_literal
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

DUCKDB_PREFIX = "duckdb:///"


@dataclass(frozen=True)
class Warehouse:
    """A warehouse URL with what every connection to it needs (read-only for checks)."""

    url: str
    engine_name: str
    datasets: Mapping[str, str]
    engine_kwargs: dict[str, Any] = field(default_factory=dict)
    held: sa.Connection | None = field(default=None, compare=False)  # see `holding`

    def table(self, table: Table) -> str:
        return table.qualified(self.datasets)

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A short-lived connection: DuckDB lets one writer or many readers hold the file, never both.
        Inside `holding`, the held one."""
        if self.held is not None:
            try:
                yield self.held
            except sa.exc.SQLAlchemyError as error:
                raise CouldNotRun(f"warehouse {self.url} failed: {first_line(error)}") from error
            return
        engine = sa.create_engine(self.url, **self.engine_kwargs)
        try:
            with engine.connect() as connection:
                yield connection
        except sa.exc.SQLAlchemyError as error:
            raise CouldNotRun(f"warehouse {self.url} failed: {first_line(error)}") from error
        finally:
            engine.dispose()

    @contextmanager
    def holding(self) -> Iterator[Warehouse]:
        """This warehouse with one connection held for a block of many statements (an audit's phase):
        opening a DuckDB file costs some 30 ms of CPU, and 0.2 s of wall time on loaded cores, each time."""
        with self.connect() as connection:
            yield replace(self, held=connection)


def open_warehouse(settings: Settings, labels: Mapping[str, str] | None = None) -> Warehouse:
    """The configured warehouse, or CouldNotRun saying how to get one. On BigQuery every job it starts
    carries `labels` (command, phase) besides app=nba-dq."""
    url = settings.warehouse_url
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme == DUCKDB:
        path = Path(url[len(DUCKDB_PREFIX) :])
        if not path.is_file():
            raise CouldNotRun(f"warehouse file {path} not found: run `nba-dq seed` or set NBA_DQ_WAREHOUSE")
        return Warehouse(url, DUCKDB, settings.datasets, {"connect_args": {"read_only": True}})
    if scheme == BIGQUERY:
        from warehouse.bigquery import bigquery_client

        # The dialect uses our client (cost guards, labels) only when the URL says it is supplied.
        supplied = f"{url}{'&' if '?' in url else '?'}user_supplied_client=true"
        client = bigquery_client(settings, labels)
        return Warehouse(supplied, BIGQUERY, settings.datasets, {"connect_args": {"client": client}})
    raise CouldNotRun(f"unsupported warehouse URL {url!r}: use duckdb:///path/to/file.duckdb or bigquery://PROJECT")


def check_schema(warehouse: Warehouse, tables: Iterable[Table]) -> None:
    """Every table and column a phase reads exists with the catalog's type (schema drift is exit 2)."""
    problems = [problem for found in schema_problems(warehouse, tables).values() for problem in found]
    if problems:
        raise CouldNotRun(
            "schema drift: " + "; ".join(problems) + " (fix the table, or the catalog in warehouse/catalog.py)"
        )


def schema_problems(warehouse: Warehouse, tables: Iterable[Table]) -> dict[str, list[str]]:
    """Per table (qualified name), how it differs from the catalog: missing, a column missing or of
    another type. One INFORMATION_SCHEMA.COLUMNS statement."""
    tables = list(tables)
    found: dict[tuple[str, str], dict[str, str]] = {}
    by_dataset: dict[str, list[str]] = {}
    for table in tables:
        by_dataset.setdefault(warehouse.datasets[table.dataset_role], []).append(table.name)
    with warehouse.connect() as connection:
        for dataset, table_name, column, kind in connection.execute(
            sa.text(columns_query(warehouse.engine_name, by_dataset))
        ):
            found.setdefault((dataset, table_name), {})[column] = kind
    problems: dict[str, list[str]] = {}
    for table in tables:
        dataset = warehouse.datasets[table.dataset_role]
        qualified = f"{dataset}.{table.name}"
        columns = found.get((dataset, table.name))
        problems[qualified] = [] if columns is not None else [f"table {qualified} is missing"]
        for column, kind in table.columns.items() if columns is not None else ():
            if column not in columns:
                problems[qualified].append(f"{qualified} has no column {column}")
            elif not column_type_matches(kind, columns[column], warehouse.engine_name):
                problems[qualified].append(f"{qualified}.{column} is {columns[column]}, expected {kind}")
    return problems


def scheduled_games(warehouse: Warehouse, game_date: date) -> int:
    """Games on the date's schedule: a date without games has nothing to check."""
    sql = f"SELECT COUNT(*) FROM {warehouse.table(SCHEDULE)} WHERE {PARTITION_COLUMN} = {date_literal(game_date)}"
    with warehouse.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


def first_line(error: BaseException) -> str:
    """The first line of an error's message: what a one-line report can carry."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
