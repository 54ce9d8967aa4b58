"""dq.toml, read once into frozen dataclasses. Suites get thresholds; nothing else reads the file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from warehouse.errors import CouldNotRun
from warehouse.exports import GCS_SCHEME

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEVERITIES = ("critical", "warning")


@dataclass(frozen=True)
class Era:
    """The system_ids expected to predict every game date from start to end (inclusive)."""

    name: str
    start: date
    end: date
    system_ids: tuple[str, ...]


@dataclass(frozen=True)
class Thresholds:
    """A phase's thresholds; `severity` maps check names to critical or warning (default critical)."""

    severity: Mapping[str, str]

    def severity_of(self, check: str) -> str:
        return self.severity.get(check, "critical")


@dataclass(frozen=True)
class Phase3Thresholds(Thresholds):
    min_players_per_team: int
    context_rows_per_game_min: int
    context_rows_per_game_max: int
    min_production_ready_share: float
    box_score_rows_per_game_min: int
    box_score_rows_per_game_max: int
    minutes_played_max: float
    points_max: int


@dataclass(frozen=True)
class Phase4Thresholds(Thresholds):
    min_feature_store_coverage: float
    feature_quality_score_min: float
    feature_quality_score_max: float
    quality_tiers: tuple[str, ...]


@dataclass(frozen=True)
class Phase5Thresholds(Thresholds):
    min_active_predictions: int
    min_predicted_players: int
    min_player_coverage: float
    coverage_excluded_statuses: tuple[str, ...]
    min_system_coverage: float
    staging_grace_minutes: int
    predicted_points_min: float
    predicted_points_max: float
    confidence_score_min: float
    confidence_score_max: float
    recommendations: tuple[str, ...]
    volume_trailing_dates: int
    volume_min_history: int
    volume_lookback_days: int
    volume_mad_k: float
    volume_min_mad_share: float


@dataclass(frozen=True)
class Phase5BThresholds(Thresholds):
    min_grading_coverage: float
    line_placeholder: float
    error_tolerance: float
    no_bet_recommendations: tuple[str, ...]
    confidence_score_min: float
    confidence_score_max: float


@dataclass(frozen=True)
class Phase6Thresholds(Thresholds):
    min_players_per_game: int
    max_export_age_hours: float


@dataclass(frozen=True)
class AlertSettings:
    channel: str
    channel_warning: str
    channel_error: str
    slack_api_url: str
    repeat_after_hours: float
    connect_timeout_seconds: float
    total_timeout_seconds: float
    max_tries: int


@dataclass(frozen=True)
class HistorySettings:
    duckdb_file: str
    lock_timeout_seconds: float


@dataclass(frozen=True)
class DocsSettings:
    base_url: str
    bucket: str


@dataclass(frozen=True)
class Settings:
    config_path: Path
    gx_root: Path
    warehouse_url: str
    bigquery_location: str | None
    maximum_bytes_billed: int  # per BigQuery query job: a query that would bill more fails instead
    bigquery_endpoint: str | None  # NBA_DQ_BIGQUERY_ENDPOINT: a local BigQuery emulator (tests), else Google
    datasets: Mapping[str, str]
    export_root: str  # a local folder or gs://bucket/prefix
    replay_hour_utc: int
    alerts: AlertSettings
    data_docs: DocsSettings
    history: HistorySettings
    phase3: Phase3Thresholds
    phase4: Phase4Thresholds
    phase5: Phase5Thresholds
    phase5b: Phase5BThresholds
    phase6: Phase6Thresholds
    eras: tuple[Era, ...]

    def era_for(self, game_date: date) -> Era:
        for era in self.eras:
            if era.start <= game_date <= era.end:
                return era
        raise CouldNotRun(
            f"no era in {self.config_path.name} covers {game_date}: add an [[eras]] entry listing its system_ids"
        )

    def run_time(self, game_date: date, clock: datetime) -> datetime:
        """The moment a run judges time (staging ages, export freshness) by, unless --now says otherwise.

        Today's and future dates are judged as of the clock. A past date is judged as of its daily run
        (replay_hour_utc on that date): asked today, yesterday's export is "old" but was it fresh then?
        """
        if game_date >= clock.astimezone(timezone.utc).date():
            return clock
        return datetime.combine(game_date, time(self.replay_hour_utc), tzinfo=timezone.utc)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the config named by NBA_DQ_CONFIG (default: dq.toml beside the project) and the env overrides."""
    env = os.environ if env is None else env
    path = Path(env.get("NBA_DQ_CONFIG") or PROJECT_ROOT / "dq.toml").resolve()
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise CouldNotRun(f"config file {path} not found: set NBA_DQ_CONFIG or restore dq.toml") from None
    except tomllib.TOMLDecodeError as error:
        raise CouldNotRun(f"{path}: invalid TOML ({error})") from None
    problems: list[str] = []
    settings = _parse(raw, path, env, problems)
    if settings is None or problems:
        raise CouldNotRun(f"{path.name}: " + "; ".join(problems))
    return settings


def _parse(raw: dict[str, Any], path: Path, env: Mapping[str, str], problems: list[str]) -> Settings | None:
    warehouse = _section(raw, "warehouse", problems)
    datasets = _section(raw, "datasets", problems)
    exports = _section(raw, "exports", problems)
    run = _section(raw, "run", problems)
    replay_hour = run.get("replay_hour_utc")
    if run and (type(replay_hour) is not int or not 0 <= replay_hour <= 23):
        problems.append("[run] replay_hour_utc must be an hour from 0 to 23")
    phases = {name: _thresholds(raw, name, cls, problems) for name, cls in PHASE_THRESHOLDS.items()}
    eras = tuple(_era(entry, index, problems) for index, entry in enumerate(raw.get("eras", [])))
    alerts = _build(AlertSettings, _section(raw, "alerts", problems), "[alerts]", problems)
    docs = _build(DocsSettings, dict(_section(raw, "data_docs", problems)), "[data_docs]", problems)
    if docs is not None and env.get("NBA_DQ_DOCS_BUCKET"):
        docs = DocsSettings(base_url=docs.base_url, bucket=env["NBA_DQ_DOCS_BUCKET"])
    if docs is not None and docs.bucket and not docs.bucket.startswith(GCS_SCHEME):
        problems.append(f"[data_docs] bucket {docs.bucket!r} must be a gs://bucket/prefix URL (or empty)")
    if not eras:
        problems.append("no [[eras]] entry: list the expected system_ids by date range")
    history = _build(HistorySettings, dict(_section(raw, "history", problems)), "[history]", problems)
    for missing in sorted({"raw", "analytics", "predictions", "monitoring"} - set(datasets)):
        problems.append(f"[datasets] has no {missing!r} entry")
    url = env.get("NBA_DQ_WAREHOUSE") or warehouse.get("url")
    if not url:
        problems.append("[warehouse] url is missing (or set NBA_DQ_WAREHOUSE)")
    bytes_billed = warehouse.get("maximum_bytes_billed")
    if type(bytes_billed) is not int or bytes_billed <= 0:
        problems.append("[warehouse] maximum_bytes_billed must be a positive number of bytes (e.g. 10000000000)")
    export_root = env.get("NBA_DQ_EXPORT_ROOT") or exports.get("root")
    if not export_root:
        problems.append("[exports] root is missing (or set NBA_DQ_EXPORT_ROOT)")
    if problems or None in (alerts, docs, history) or any(value is None for value in phases.values()):
        return None
    gx_root = Path(env.get("NBA_DQ_GX_ROOT") or path.parent / "gx").resolve()
    return Settings(
        config_path=path,
        gx_root=gx_root,
        warehouse_url=_resolve_duckdb_path(str(url), path.parent),
        bigquery_location=warehouse.get("location"),
        maximum_bytes_billed=int(bytes_billed),  # type: ignore[arg-type]  # validated above
        bigquery_endpoint=env.get("NBA_DQ_BIGQUERY_ENDPOINT") or None,
        datasets=dict(datasets),
        export_root=_resolve_export_root(str(export_root), path.parent),
        replay_hour_utc=int(replay_hour),  # type: ignore[arg-type]  # validated above
        alerts=alerts,
        data_docs=docs,
        history=HistorySettings(str(gx_root / history.duckdb_file), history.lock_timeout_seconds),
        **phases,
        eras=eras,
    )


PHASE_THRESHOLDS: dict[str, type[Thresholds]] = {
    "phase3": Phase3Thresholds,
    "phase4": Phase4Thresholds,
    "phase5": Phase5Thresholds,
    "phase5b": Phase5BThresholds,
    "phase6": Phase6Thresholds,
}


def _thresholds(raw: dict[str, Any], name: str, cls: type[Thresholds], problems: list[str]) -> Any:
    values = dict(_section(raw, name, problems))
    severity = values.pop("severity", {})
    for check, level in severity.items():
        if level not in SEVERITIES:
            problems.append(f"[{name}.severity] {check} = {level!r}: use one of {', '.join(SEVERITIES)}")
    return _build(cls, {**values, "severity": severity}, f"[{name}]", problems)


def _section(raw: dict[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        problems.append(f"[{name}] section is missing")
        return {}
    return value


def _build(cls: type, values: dict[str, Any], where: str, problems: list[str]) -> Any:
    names = {f.name for f in fields(cls)}
    for unknown in sorted(set(values) - names):
        problems.append(f"{where} unknown key {unknown!r}")
    for missing in sorted(names - set(values)):
        problems.append(f"{where} missing key {missing!r}")
    if set(values) != names:
        return None
    converted = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
    return cls(**converted)


def _era(entry: dict[str, Any], index: int, problems: list[str]) -> Era:
    where = f"[[eras]] #{index + 1}"
    start, end = _as_date(entry.get("start")), _as_date(entry.get("end"))
    if start is None or end is None or start > end:
        problems.append(f"{where}: start and end must be dates (YYYY-MM-DD) with start <= end")
        start = end = date.min
    systems = entry.get("system_ids") or []
    if not systems:
        problems.append(f"{where}: system_ids is empty")
    return Era(name=str(entry.get("name", f"era{index + 1}")), start=start, end=end, system_ids=tuple(systems))


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _resolve_duckdb_path(url: str, base: Path) -> str:
    """duckdb:///relative/path is taken relative to the config's folder, so any working directory works."""
    prefix = "duckdb:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(base / url[len(prefix) :])
    return url


def _resolve_export_root(root: str, base: Path) -> str:
    """A relative local export root is taken relative to the config's folder; gs:// roots stay as they are."""
    if root.startswith(GCS_SCHEME) or Path(root).is_absolute():
        return root
    return str(base / root)
