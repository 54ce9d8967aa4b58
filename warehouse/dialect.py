"""Where DuckDB and BigQuery SQL differ. Check SQL elsewhere sticks to the subset both engines share."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone

from warehouse.catalog import STAGING_TABLE_PREFIX, Table

DUCKDB = "duckdb"
BIGQUERY = "bigquery"

_DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMPTZ",
}

# Staging table names: _staging_{batch_id}_{worker_id} with '-' replaced by '_', where batch_id is
# {batch|regen|linecheck}_{YYYY-MM-DD}_{unix seconds}.
STAGING_NAME_PATTERN = re.compile(
    r"^" + STAGING_TABLE_PREFIX + r"(?:batch|regen|linecheck)_(\d{4})_(\d{2})_(\d{2})_(\d{9,11})_"
)


def duckdb_type(bigquery_type: str) -> str:
    """DuckDB's type for a catalog (BigQuery) type: NUMERIC(p,s) becomes DECIMAL(p,s)."""
    if bigquery_type.startswith("NUMERIC"):
        return bigquery_type.replace("NUMERIC", "DECIMAL")
    return _DUCKDB_TYPES[bigquery_type]


def column_type_matches(bigquery_type: str, found: str, engine: str) -> bool:
    """Whether a column type reported by the warehouse is the catalog's (schema-drift detection)."""
    expected = duckdb_type(bigquery_type) if engine == DUCKDB else bigquery_type
    normalise = lambda text: re.sub(r"\s+", "", text.upper()).replace("TIMESTAMPWITHTIMEZONE", "TIMESTAMPTZ")  # noqa: E731
    return normalise(found).split("(")[0] == normalise(expected).split("(")[0]


def columns_query(engine: str, tables: Mapping[str, list[str]]) -> str:
    """(dataset, table_name, column_name, data_type) of some tables (names by dataset) from
    INFORMATION_SCHEMA, in one statement: BigQuery has a COLUMNS view per dataset, so one part each."""

    def names(dataset: str) -> str:
        return ", ".join(f"'{name}'" for name in tables[dataset])

    if engine == BIGQUERY:
        return " UNION ALL ".join(
            f"SELECT '{dataset}' AS dataset, table_name, column_name, data_type"
            f" FROM `{dataset}`.INFORMATION_SCHEMA.COLUMNS WHERE table_name IN ({names(dataset)})"
            for dataset in tables
        )
    wanted = " OR ".join(f"(table_schema = '{dataset}' AND table_name IN ({names(dataset)}))" for dataset in tables)
    return (
        "SELECT table_schema AS dataset, table_name, column_name, data_type"
        f" FROM information_schema.columns WHERE {wanted}"
    )


def row_json(engine: str, alias: str) -> str:
    """A table alias's row as a JSON object (a string), so checks of any shape share one UNION ALL."""
    return f"TO_JSON_STRING({alias})" if engine == BIGQUERY else f"CAST(to_json({alias}) AS VARCHAR)"


def holds_non_finite(bigquery_type: str) -> bool:
    """Whether a column of this catalog type can hold NaN or +/-inf: FLOAT64 (DOUBLE) can, NUMERIC
    (DECIMAL), INT64 and the rest cannot, so their checks need no float test."""
    return bigquery_type == "FLOAT64"


def non_finite(engine: str, column: str) -> str:
    """TRUE when a FLOAT64 value is NaN, +inf or -inf; NULL when it is NULL.

    Tested by name, never by comparison: DuckDB sorts NaN above every number (and NaN = NaN), BigQuery
    compares it FALSE with everything but !=, so `x < low OR x > high` and `x <> 0` mean different
    things for NaN on the two engines.
    """
    if engine == BIGQUERY:
        return f"(IS_NAN({column}) OR IS_INF({column}))"
    return f"(isnan({column}) OR isinf({column}))"


def create_table_ddl(table: Table, dataset: str, name: str | None = None) -> str:
    """DuckDB DDL for a catalog table (the embedded warehouse; BigQuery tables belong to the platform)."""
    columns = ",\n  ".join(f"{column} {duckdb_type(kind)}" for column, kind in table.columns.items())
    return f"CREATE TABLE {dataset}.{name or table.name} (\n  {columns}\n)"


def date_literal(game_date: date) -> str:
    return f"DATE '{game_date.isoformat()}'"


def timestamp_literal(engine: str, moment: datetime) -> str:
    """An absolute instant, in UTC, whatever the session's time zone."""
    utc = moment.astimezone(timezone.utc).isoformat(sep=" ", timespec="seconds")
    return f"TIMESTAMP '{utc}'" if engine == BIGQUERY else f"TIMESTAMPTZ '{utc}'"


def staging_tables_query(engine: str, dataset: str, game_date: date | None, now: datetime) -> str:
    """Staging tables of the date's batches (or of no parseable batch; every one when game_date is
    None), with their age in minutes.

    BigQuery knows each table's creation_time; DuckDB does not, so there the batch id's unix seconds
    stand in. A name that gives no time yields a NULL age, which the check treats as orphaned.
    """
    # No braces in these patterns: GX formats check SQL with str.format ({batch}).
    if engine == BIGQUERY:
        started = (
            "COALESCE(creation_time, TIMESTAMP_SECONDS(SAFE_CAST("
            r"REGEXP_EXTRACT(table_name, r'^_staging_[a-z]+_\d\d\d\d_\d\d_\d\d_(\d+)_') AS INT64)))"
        )
        batch = r"REGEXP_EXTRACT(table_name, r'^_staging_[a-z]+_(\d\d\d\d_\d\d_\d\d)_\d+_')"
        age = f"TIMESTAMP_DIFF({timestamp_literal(engine, now)}, {started}, MINUTE)"
        source = f"`{dataset}`.INFORMATION_SCHEMA.TABLES WHERE STARTS_WITH(table_name, '{STAGING_TABLE_PREFIX}')"
    else:
        seconds = r"regexp_extract(table_name, '^_staging_[a-z]+_\d\d\d\d_\d\d_\d\d_(\d+)_', 1)"
        started = f"to_timestamp(TRY_CAST(NULLIF({seconds}, '') AS BIGINT))"
        batch = r"NULLIF(regexp_extract(table_name, '^_staging_[a-z]+_(\d\d\d\d_\d\d_\d\d)_\d+_', 1), '')"
        age = f"date_diff('minute', {started}, {timestamp_literal(engine, now)})"
        source = (
            f"information_schema.tables WHERE table_schema = '{dataset}'"
            f" AND starts_with(table_name, '{STAGING_TABLE_PREFIX}')"
        )
    of_date = "" if game_date is None else f" AND ({batch} = '{game_date:%Y_%m_%d}' OR {batch} IS NULL)"
    return f"SELECT table_name, {batch} AS batch_date, {age} AS age_minutes FROM {source}{of_date}"


def bigquery_project(warehouse_url: str) -> str:
    """The project of a bigquery://PROJECT[/DATASET][?options] URL."""
    return warehouse_url.partition("://")[2].split("/")[0].split("?")[0]


def inspect_table_command(warehouse_url: str, qualified_table: str) -> str:
    """A shell command a data engineer can paste to look at a table (an orphaned staging table, say)."""
    scheme, _, rest = warehouse_url.partition("://")
    if scheme.split("+")[0] == BIGQUERY:
        return f"bq head -n 20 {bigquery_project(warehouse_url)}:{qualified_table}"
    return f'duckdb -readonly {rest.removeprefix("/")} "SELECT * FROM {qualified_table} LIMIT 20"'
