"""The table catalog: every table and column name nba-dq reads, written once.

Types are BigQuery's (the production truth); `warehouse.dialect` maps them for DuckDB. Dataset names
are not fixed here: a table names its dataset by role ("raw", "analytics", "predictions") and the
config maps roles to real datasets, so a dev project can point at `nba_predictions_dev`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

PARTITION_COLUMN = "game_date"
STAGING_TABLE_PREFIX = "_staging_"


@dataclass(frozen=True)
class Table:
    """One platform table: dataset role, name, and the columns the suites need (name -> BigQuery type)."""

    dataset_role: str
    name: str
    columns: dict[str, str]
    partitioned: bool = True
    c: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # `table.c.is_active` returns "is_active", so a misspelt column fails when the suite is built.
        object.__setattr__(self, "c", SimpleNamespace(**{name: name for name in self.columns}))


SCHEDULE = Table(
    dataset_role="raw",
    name="nbac_schedule",
    columns={
        "game_id": "STRING",
        "game_date": "DATE",
        "home_team_tricode": "STRING",
        "away_team_tricode": "STRING",
        "game_status": "INT64",
    },
)

UPCOMING_CONTEXT = Table(
    dataset_role="analytics",
    name="upcoming_player_game_context",
    columns={
        "player_lookup": "STRING",
        "game_id": "STRING",
        "game_date": "DATE",
        "team_abbr": "STRING",
        "opponent_team_abbr": "STRING",
        "has_prop_line": "BOOL",
        "current_points_line": "NUMERIC(4,1)",
        "avg_minutes_per_game_last_7": "NUMERIC(5,1)",
        "player_status": "STRING",
        "is_production_ready": "BOOL",
        "completeness_percentage": "FLOAT64",
        "created_at": "TIMESTAMP",
        "processed_at": "TIMESTAMP",
    },
)

PREDICTIONS = Table(
    dataset_role="predictions",
    name="player_prop_predictions",
    columns={
        "prediction_id": "STRING",
        "system_id": "STRING",
        "player_lookup": "STRING",
        "game_date": "DATE",
        "game_id": "STRING",
        "prediction_version": "INT64",
        "predicted_points": "NUMERIC(5,1)",
        "confidence_score": "NUMERIC(5,2)",
        "recommendation": "STRING",
        "current_points_line": "NUMERIC(4,1)",
        "line_source": "STRING",
        "has_prop_line": "BOOL",
        "is_active": "BOOL",
        "is_production_ready": "BOOL",
        "default_feature_count": "INT64",
        "invalidation_reason": "STRING",
        "created_at": "TIMESTAMP",
        "updated_at": "TIMESTAMP",
    },
)

ALL_TABLES: tuple[Table, ...] = (SCHEDULE, UPCOMING_CONTEXT, PREDICTIONS)
