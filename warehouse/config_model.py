"""What dq.toml may say: every key's type and range, as pydantic models the rest of the code reads.

A threshold out of range does not fail loudly where it is used: `min_player_coverage = -0.5` passes
every coverage drop, `max_tries = 0` never sends an alert. So the whole file is validated at load,
before GX is imported or a query runs, and every problem is reported at once (config_errors.py words
them). Values are strict: a string, a boolean or `inf` where a number belongs is an error, not a
coercion; an int is accepted where a float is expected (TOML writes `6` for 6.0).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from expectations.check_names import CHECK_NAMES
from warehouse.config_owners import Owners
from warehouse.config_service import CompletionTables, ServiceSettings
from warehouse.config_types import (
    GCS_URL,
    HTTP_URL,
    SEVERITIES,
    WAREHOUSE_URL,
    AtLeastOne,
    Count,
    DatasetName,
    ExportRoot,
    Name,
    Names,
    Number,
    Positive,
    Section,
    Share,
    bounded,
)


def _severity_table(checkpoint: str) -> Any:
    """`[phaseN.severity]`: check name -> critical | warning, where the name is one of that phase's checks."""

    def known(name: str) -> str:
        if name not in CHECK_NAMES[checkpoint]:
            raise PydanticCustomError("unknown_check", "not a {phase} check", {"phase": checkpoint})
        return name

    return Annotated[dict[Annotated[str, AfterValidator(known)], Literal[SEVERITIES]], Field(default_factory=dict)]


# One type per phase: a severity table may name only that phase's checks.
Phase3Severity = _severity_table("phase3")
Phase4Severity = _severity_table("phase4")
Phase5Severity = _severity_table("phase5")
Phase5BSeverity = _severity_table("phase5b")
Phase6Severity = _severity_table("phase6")


class Thresholds(Section):
    """A phase's thresholds; `severity` maps check names to critical or warning (default critical)."""

    checkpoint: ClassVar[str]
    severity: Mapping[str, str]

    def severity_of(self, check: str) -> str:
        return self.severity.get(check, "critical")


class Phase3Thresholds(Thresholds):
    checkpoint: ClassVar[str] = "phase3"
    severity: Phase3Severity
    min_players_per_team: AtLeastOne
    context_rows_per_game_min: Count
    context_rows_per_game_max: AtLeastOne
    min_production_ready_share: Share
    box_score_rows_per_game_min: Count
    box_score_rows_per_game_max: AtLeastOne
    minutes_played_max: Positive
    points_max: AtLeastOne

    @model_validator(mode="after")
    def _pairs(self) -> Phase3Thresholds:
        self._ordered(
            ("context_rows_per_game_min", "context_rows_per_game_max"),
            ("box_score_rows_per_game_min", "box_score_rows_per_game_max"),
        )
        return self


class Phase4Thresholds(Thresholds):
    checkpoint: ClassVar[str] = "phase4"
    severity: Phase4Severity
    min_feature_store_coverage: Share
    feature_quality_score_min: Number
    feature_quality_score_max: Number
    quality_tiers: Names

    @model_validator(mode="after")
    def _pairs(self) -> Phase4Thresholds:
        self._ordered(("feature_quality_score_min", "feature_quality_score_max"))
        return self


class Phase5Thresholds(Thresholds):
    checkpoint: ClassVar[str] = "phase5"
    severity: Phase5Severity
    min_active_predictions: AtLeastOne
    min_predicted_players: AtLeastOne
    min_player_coverage: Share
    coverage_excluded_statuses: Names
    min_system_coverage: Share
    staging_grace_minutes: AtLeastOne
    predicted_points_min: Number
    predicted_points_max: Number
    confidence_score_min: Number
    confidence_score_max: Number
    recommendations: Names
    volume_trailing_dates: AtLeastOne
    volume_min_history: AtLeastOne
    volume_lookback_days: AtLeastOne
    volume_mad_k: Positive
    volume_min_mad_share: Annotated[Number, bounded(0, 1, high_open=True)]
    min_batch_completion_pct: Annotated[Number, bounded(0, 100)]

    @model_validator(mode="after")
    def _pairs(self) -> Phase5Thresholds:
        # More history required than the trailing window holds would never judge the volume.
        self._ordered(
            ("predicted_points_min", "predicted_points_max"),
            ("confidence_score_min", "confidence_score_max"),
            ("volume_min_history", "volume_trailing_dates"),
        )
        return self


class Phase5BThresholds(Thresholds):
    checkpoint: ClassVar[str] = "phase5b"
    severity: Phase5BSeverity
    min_grading_coverage: Share
    line_placeholder: Number
    error_tolerance: Annotated[Number, bounded(0)]
    no_bet_recommendations: Names
    confidence_score_min: Number
    confidence_score_max: Number

    @model_validator(mode="after")
    def _pairs(self) -> Phase5BThresholds:
        self._ordered(("confidence_score_min", "confidence_score_max"))
        return self


class Phase6Thresholds(Thresholds):
    checkpoint: ClassVar[str] = "phase6"
    severity: Phase6Severity
    min_players_per_game: AtLeastOne
    max_export_age_hours: Positive


def _url_prefix(value: str) -> str:
    """A "/" right after the host fixes the host ("https://hooks.slack.com" would also let
    "https://hooks.slack.com.evil.example/" through); a path ending in "/" keeps to whole segments."""
    if not re.fullmatch(r"https?://[^/\s:@?#]+(:\d+)?/[^\s?#]*", value) or not value.endswith("/"):
        raise PydanticCustomError("url_prefix", "must be an http(s) URL of a host and a path ending in /")
    return value


class AlertSettings(Section):
    channel: Name
    channel_warning: Name
    channel_error: Name
    slack_api_url: Annotated[StrictStr, Field(pattern=HTTP_URL)]
    repeat_after_hours: Positive
    connect_timeout_seconds: Positive
    total_timeout_seconds: Positive
    max_tries: AtLeastOne  # 0 would keep every alert in the outbox forever
    slack_response_url_prefix: Annotated[StrictStr, AfterValidator(_url_prefix)]  # where a click's update may go

    @model_validator(mode="after")
    def _pairs(self) -> AlertSettings:
        self._ordered(("connect_timeout_seconds", "total_timeout_seconds"))
        return self


class HistorySettings(Section):
    duckdb_file: Name  # relative to the GX folder in dq.toml; Settings holds it resolved
    lock_timeout_seconds: Positive


class DocsSettings(Section):
    base_url: Annotated[StrictStr, Field(pattern=f"^$|{HTTP_URL}")]
    bucket: Annotated[StrictStr, Field(pattern=f"^$|{GCS_URL}")]
    retention_days: AtLeastOne  # GX validation results and their pages older than this are pruned


class StateSettings(Section):
    url: Annotated[StrictStr, Field(pattern=f"^$|{GCS_URL}")]  # empty: files under the GX folder; or NBA_DQ_STATE_URL
    lease_seconds: AtLeastOne  # a claimed run or lock older than this is taken over (its holder died)


class WarehouseSection(Section):
    url: Annotated[StrictStr, Field(pattern=WAREHOUSE_URL)] | None = None  # or NBA_DQ_WAREHOUSE
    location: Name | None = None
    maximum_bytes_billed: AtLeastOne


class RunSection(Section):
    replay_hour_utc: Annotated[StrictInt, bounded(0, 23)]


class ExportsSection(Section):
    root: ExportRoot | None = None  # or NBA_DQ_EXPORT_ROOT


class Datasets(Section):
    raw: DatasetName
    analytics: DatasetName
    predictions: DatasetName
    monitoring: DatasetName


class Era(Section):
    """The system_ids expected to predict every game date from start to end (inclusive)."""

    name: Name
    start: Annotated[date, Field(strict=True)]
    end: Annotated[date, Field(strict=True)]
    system_ids: Names

    @model_validator(mode="after")
    def _pairs(self) -> Era:
        self._ordered(("start", "end"))
        return self


class ConfigFile(Section):
    """The whole of dq.toml."""

    warehouse: WarehouseSection
    run: RunSection
    exports: ExportsSection
    alerts: AlertSettings
    data_docs: DocsSettings
    datasets: Datasets
    history: HistorySettings
    state: StateSettings
    service: ServiceSettings
    completion: CompletionTables
    phase3: Phase3Thresholds
    phase4: Phase4Thresholds
    phase5: Phase5Thresholds
    phase5b: Phase5BThresholds
    phase6: Phase6Thresholds
    eras: Annotated[tuple[Era, ...], Field(min_length=1)]
    owners: Owners  # Slack IDs an incident mentions (warehouse/config_owners.py); optional

    @model_validator(mode="after")
    def _lease_outlasts_a_run(self) -> ConfigFile:
        """A run's claim is taken over after lease_seconds: before its deadline, two instances would run it."""
        deadline, lease = self.service.run_deadline_seconds, self.state.lease_seconds
        if lease <= deadline:
            raise PydanticCustomError(
                "order",
                "{text}",
                {"text": f"[state] lease_seconds = {lease} must exceed [service] run_deadline_seconds = {deadline}"},
            )
        return self

    @field_validator("eras")
    @classmethod
    def _one_era_per_date(cls, eras: tuple[Era, ...]) -> tuple[Era, ...]:
        """Eras in date order must touch: an overlap lets the first silently win, a gap is a date no run can check."""
        ordered = sorted(eras, key=lambda era: era.start)
        problems = []
        for before, after in zip(ordered, ordered[1:], strict=False):
            span = f"{before.name!r} ({before.start}..{before.end}) and {after.name!r} ({after.start}..{after.end})"
            if after.start <= before.end:
                problems.append(f"{span} overlap")
            elif after.start > before.end + timedelta(days=1):
                problems.append(
                    f"{span} leave {before.end + timedelta(days=1)}..{after.start - timedelta(days=1)} uncovered"
                )
        if problems:
            raise PydanticCustomError(
                "eras", "{text}: each date must fall in exactly one era", {"text": ", ".join(problems)}
            )
        return eras
