"""The table catalog: every table and column name nba-dq reads, written once.

Types are BigQuery's (the production truth); `warehouse.dialect` maps them for DuckDB. Dataset names
are not fixed here: a table names its dataset by role ("raw", "analytics", "predictions") and the
config maps roles to real datasets, so a dev project can point at `nba_predictions_dev`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

PARTITION_COLUMN = "game_date"
STAGING_TABLE_PREFIX = "_staging_"
# A check query's boolean column: True on a row that fails (rows without it are all failures).
FAILED_COLUMN = "failed"


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

    def qualified(self, datasets: Mapping[str, str]) -> str:
        """`dataset.table`, the dataset being the one configured for the table's role."""
        return f"{datasets[self.dataset_role]}.{self.name}"


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

PLAYER_GAME_SUMMARY = Table(
    dataset_role="analytics",
    name="player_game_summary",
    columns={
        "player_lookup": "STRING",
        "game_id": "STRING",
        "game_date": "DATE",
        "team_abbr": "STRING",
        "opponent_team_abbr": "STRING",
        "season_year": "INT64",
        "points": "INT64",
        "minutes_played": "NUMERIC(5,1)",
        "fg_attempts": "INT64",
        "three_pt_attempts": "INT64",
        "ft_attempts": "INT64",
        "usage_rate": "NUMERIC(6,2)",
        "is_active": "BOOL",  # here: the player played
        "is_dnp": "BOOL",
    },
)

# The embedded warehouse carries features 0..9; production has up to 60 with the same naming.
FEATURE_COUNT = 10
FEATURE_VALUE_COLUMNS = tuple(f"feature_{n}_value" for n in range(FEATURE_COUNT))

FEATURE_STORE = Table(
    dataset_role="predictions",
    name="ml_feature_store_v2",
    columns={
        "player_lookup": "STRING",
        "game_id": "STRING",
        "game_date": "DATE",
        "feature_version": "STRING",
        "feature_count": "INT64",
        "feature_quality_score": "NUMERIC(5,2)",
        "quality_tier": "STRING",
        "default_feature_count": "INT64",
        "is_production_ready": "BOOL",
        "is_quality_ready": "BOOL",
        **{
            f"feature_{n}_{part}": kind
            for n in range(FEATURE_COUNT)
            for part, kind in (("value", "FLOAT64"), ("quality", "FLOAT64"), ("source", "STRING"))
        },
    },
)

PREDICTION_ACCURACY = Table(
    dataset_role="predictions",
    name="prediction_accuracy",
    columns={
        "player_lookup": "STRING",
        "game_id": "STRING",
        "game_date": "DATE",
        "system_id": "STRING",
        "predicted_points": "NUMERIC(5,1)",
        "confidence_score": "NUMERIC(4,3)",  # 0-1 here, unlike predictions' 0-100
        "recommendation": "STRING",
        "line_value": "NUMERIC(5,1)",
        "actual_points": "INT64",
        "absolute_error": "NUMERIC(5,1)",
        "signed_error": "NUMERIC(5,1)",  # predicted - actual
        "prediction_correct": "BOOL",  # NULL for PASS/HOLD/NO_LINE and pushes
        "is_voided": "BOOL",
        "void_reason": "STRING",
        "graded_at": "TIMESTAMP",
    },
)

# nba-dq's own results history: one row per check per run (observed and expected as JSON text).
DQ_CHECK_RESULTS = Table(
    dataset_role="monitoring",
    name="dq_check_results",
    columns={
        "run_id": "STRING",
        "run_at": "TIMESTAMP",
        "phase": "STRING",
        "game_date": "DATE",
        "check_name": "STRING",  # `check` is a reserved word in SQL
        "success": "BOOL",
        "status": "STRING",  # pass, fail, error
        "severity": "STRING",
        "observed": "STRING",
        "expected": "STRING",
        "data_docs_url": "STRING",
        "warehouse": "STRING",
    },
)

# The platform's tables (the seed builds them all; the history table is nba-dq's own).
ALL_TABLES: tuple[Table, ...] = (
    SCHEDULE,
    UPCOMING_CONTEXT,
    PLAYER_GAME_SUMMARY,
    FEATURE_STORE,
    PREDICTIONS,
    PREDICTION_ACCURACY,
)


@dataclass(frozen=True)
class ExportFile:
    """A Phase 6 JSON file: one per game date in its folder under the export root (local or gs://…/v1)."""

    folder: str

    def path(self, game_date: object) -> str:
        return f"{self.folder}/{game_date}.json"


PREDICTIONS_EXPORT = ExportFile("predictions")
TONIGHT_EXPORT = ExportFile("tonight")
EXPORT_FILES: tuple[ExportFile, ...] = (PREDICTIONS_EXPORT, TONIGHT_EXPORT)

# The fields of an export document that nba-dq reads. Every file carries the halt fields; `games` lists
# each game with its `players`, and `generated_at` (ISO 8601 with offset) says when it was written.
HALT_FIELDS = ("halt_active", "halt_reason", "halt_since")
EXPORT = SimpleNamespace(
    game_date="game_date",
    generated_at="generated_at",
    halt_active=HALT_FIELDS[0],
    halt_reason=HALT_FIELDS[1],
    halt_since=HALT_FIELDS[2],
    games="games",
    game_id="game_id",
    home_team="home_team",
    away_team="away_team",
    players="players",
    player_lookup="player_lookup",
    team="team",
    line="line",
    predicted_points="predicted_points",
    recommendation="recommendation",
    predictions="predictions",
    system_id="system_id",
)
