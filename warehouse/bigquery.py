"""The one place a BigQuery client is made: cost guards and labels on every job, and the emulator hook.

Every query job nba-dq starts (GX's, the audit's, health's, doctor's) goes through this client, as
sqlalchemy-bigquery's user-supplied client, so each one carries `maximum_bytes_billed` and the labels
app=nba-dq, command and phase. Queries run with INTERACTIVE priority, through jobs.insert, where a
failing query raises (on the fast query path the emulator answers an error with zero rows, and a
broken check would look like an empty, passing one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from warehouse.dialect import bigquery_project
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

APP_LABEL = {"app": "nba-dq"}


def bigquery_client(settings: Settings, labels: Mapping[str, str] | None = None) -> Any:
    from google.cloud import bigquery

    job_config = bigquery.QueryJobConfig(
        maximum_bytes_billed=settings.maximum_bytes_billed,
        labels=job_labels(labels),
        priority=bigquery.QueryPriority.INTERACTIVE,
    )
    options: dict[str, Any] = {}
    if settings.bigquery_endpoint:  # a local emulator: no Google credentials involved
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        options = {
            "client_options": ClientOptions(api_endpoint=settings.bigquery_endpoint),
            "credentials": AnonymousCredentials(),
        }
    return bigquery.Client(
        project=bigquery_project(settings.warehouse_url),
        location=settings.bigquery_location,
        default_query_job_config=job_config,
        **options,
    )


def job_labels(labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels a job carries: app=nba-dq and `labels` (command, phase, table), as BigQuery takes them."""
    return {**APP_LABEL, **{key: label_value(value) for key, value in (labels or {}).items()}}


def dry_run_bytes(settings: Settings, labels: Mapping[str, str], sql: str) -> int:
    """The bytes a query would process, from a BigQuery dry-run job (free; nothing is read or billed)."""
    from google.api_core.exceptions import GoogleAPICallError
    from google.cloud import bigquery

    from warehouse.connection import first_line

    config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
    try:
        job = bigquery_client(settings, labels).query(sql, job_config=config)
    except GoogleAPICallError as error:
        raise CouldNotRun(f"BigQuery dry run failed: {first_line(error)}") from error
    return int(job.total_bytes_processed or 0)


def label_value(value: str) -> str:
    """BigQuery label values: lowercase letters, digits, _ and -, at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]", "_", value.lower())[:63]
