"""Where DuckDB and BigQuery SQL differ. Check SQL elsewhere sticks to the subset both engines share."""

from __future__ import annotations

import re
import shlex
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


# The one rule for a staging table, shared by `run`, `audit` and `health` (they all read these columns).
STAGING_IN_FLIGHT = "in flight"  # younger than the grace: a MERGE still running; passes
STAGING_ORPHANED = "orphaned"  # at least the grace old: a failed MERGE left it behind
STAGING_UNKNOWN_AGE = "unknown age"  # no time in its name and no creation_time
STAGING_AFTER_RUN = "created after the run time (--now): a clock problem or a wrong --now"

# Batch ids in names, without braces (GX formats check SQL with str.format): a date and 9-11 digit unix seconds.
_BATCH_DATE, _BATCH_SECONDS = r"\d\d\d\d_\d\d_\d\d", r"\d\d\d\d\d\d\d\d\d\d?\d?"


def staging_tables_query(
    engine: str,
    dataset: str,
    grace_minutes: int,
    now: datetime,
    game_date: date | None = None,
    through: date | None = None,
) -> str:
    """The staging tables a run of `game_date` judges (its batches' and every one without a parseable
    batch date), or those of batches up to `through`, or all; each judged as of `now`.

    Columns: table_name, batch_date (DATE or NULL), age_minutes, status, failed (see _judged).
    """
    if game_date is not None:
        scope = f"batch_date = {date_literal(game_date)} OR batch_date IS NULL"
    elif through is not None:
        scope = f"batch_date <= {date_literal(through)} OR batch_date IS NULL"
    else:
        scope = "TRUE"
    age = _age_ms(engine, "s.started_at", timestamp_literal(engine, now))
    rows = _staging_rows(engine, dataset)
    aged = f"SELECT s.table_name, s.batch_date, {age} AS age_ms FROM ({rows}) AS s WHERE {scope}"
    return _judged(aged, grace_minutes, "")


def staging_tables_by_date_query(
    engine: str, dataset: str, grace_minutes: int, run_times: Mapping[date, datetime]
) -> str:
    """Per game date, the staging tables its run judges (as staging_tables_query with that game_date),
    each judged as of the date's run time: what `run` says on every date, in one statement."""
    if not run_times:
        raise ValueError("staging_tables_by_date_query needs at least one game date")
    dates = " UNION ALL ".join(
        f"SELECT {date_literal(day)} AS game_date, {timestamp_literal(engine, moment)} AS run_at"
        for day, moment in sorted(run_times.items())
    )
    age = _age_ms(engine, "s.started_at", "r.run_at")
    aged = (
        f"SELECT r.game_date, s.table_name, s.batch_date, {age} AS age_ms"
        f" FROM ({_staging_rows(engine, dataset)}) AS s"
        f" JOIN ({dates}) AS r ON s.batch_date = r.game_date OR s.batch_date IS NULL"
    )
    return _judged(aged, grace_minutes, "game_date, ")


def _staging_rows(engine: str, dataset: str) -> str:
    """(table_name, batch_date, started_at) of every `_staging_` table of a dataset.

    BigQuery knows each table's creation_time; DuckDB does not, so there the batch id's unix seconds
    stand in. A name without a valid batch date has a NULL batch_date; one giving no time, a NULL started_at.
    """
    kind = rf"^{STAGING_TABLE_PREFIX}[a-z]+_"
    date_pattern = f"{kind}({_BATCH_DATE})_{_BATCH_SECONDS}_"
    seconds_pattern = f"{kind}{_BATCH_DATE}_({_BATCH_SECONDS})_"
    if engine == BIGQUERY:
        batch_date = f"SAFE_CAST(REPLACE(REGEXP_EXTRACT(table_name, r'{date_pattern}'), '_', '-') AS DATE)"
        seconds = f"SAFE_CAST(REGEXP_EXTRACT(table_name, r'{seconds_pattern}') AS INT64)"
        started = f"COALESCE(creation_time, TIMESTAMP_SECONDS({seconds}))"
        source = f"`{dataset}`.INFORMATION_SCHEMA.TABLES WHERE STARTS_WITH(table_name, '{STAGING_TABLE_PREFIX}')"
    else:
        batch_date = f"TRY_CAST(replace(regexp_extract(table_name, '{date_pattern}', 1), '_', '-') AS DATE)"
        seconds = f"TRY_CAST(NULLIF(regexp_extract(table_name, '{seconds_pattern}', 1), '') AS BIGINT)"
        started = f"to_timestamp({seconds})"
        source = (
            f"information_schema.tables WHERE table_schema = '{dataset}'"
            f" AND starts_with(table_name, '{STAGING_TABLE_PREFIX}')"
        )
    return f"SELECT table_name, {batch_date} AS batch_date, {started} AS started_at FROM {source}"


def _age_ms(engine: str, started: str, now: str) -> str:
    """Milliseconds from started to now: exact, unlike a count of minute boundaries."""
    if engine == BIGQUERY:
        return f"TIMESTAMP_DIFF({now}, {started}, MILLISECOND)"
    return f"date_diff('millisecond', {started}, {now})"


def _judged(aged: str, grace_minutes: int, keys: str) -> str:
    """The staging rule over rows with age_ms: in flight only when 0 <= age < grace; everything else fails."""
    grace_ms = grace_minutes * 60_000
    status = (
        f"CASE WHEN age_ms IS NULL THEN '{STAGING_UNKNOWN_AGE}'"
        f" WHEN age_ms < 0 THEN '{STAGING_AFTER_RUN}'"
        f" WHEN age_ms < {grace_ms} THEN '{STAGING_IN_FLIGHT}'"
        f" ELSE '{STAGING_ORPHANED}' END"
    )
    return (
        f"SELECT {keys}table_name, batch_date, ROUND(age_ms / 60000.0, 1) AS age_minutes, {status} AS status,"
        f" COALESCE(NOT (age_ms >= 0 AND age_ms < {grace_ms}), TRUE) AS failed FROM ({aged}) AS aged"
    )


def bigquery_project(warehouse_url: str) -> str:
    """The project of a bigquery://PROJECT[/DATASET][?options] URL."""
    return warehouse_url.partition("://")[2].split("/")[0].split("?")[0]


def inspect_table_command(warehouse_url: str, dataset: str, table: str) -> str:
    """A shell command a data engineer can paste to look at a table (an orphaned staging table, say).

    Table names come from the warehouse, and whoever can create a table can name it
    `x"; rm -rf ~; echo "` or `$(...)`: the SQL quotes each identifier (doubling embedded quotes) and the
    shell gets every argument quoted (shlex), so pasting the command runs that program and nothing else.
    """
    scheme, _, rest = warehouse_url.partition("://")
    if scheme.split("+")[0] == BIGQUERY:  # bq head reads rows for free (no query job); its argument is not SQL
        return shlex.join(["bq", "head", "-n", "20", f"{bigquery_project(warehouse_url)}:{dataset}.{table}"])
    quoted = ".".join('"' + name.replace('"', '""') + '"' for name in (dataset, table))
    return shlex.join(["duckdb", "-readonly", rest.removeprefix("/"), f"SELECT * FROM {quoted} LIMIT 20"])
