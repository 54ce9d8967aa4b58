"""dq.toml and the environment, read and validated once into frozen objects. Nothing else reads them.

The sections are pydantic models (config_model.py): what each key may hold is declared there once.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from warehouse.config_errors import config_problems
from warehouse.config_model import (
    AlertSettings,
    ConfigFile,
    DocsSettings,
    Era,
    HistorySettings,
    Phase3Thresholds,
    Phase4Thresholds,
    Phase5BThresholds,
    Phase5Thresholds,
    Phase6Thresholds,
    StateSettings,
    Thresholds,
)
from warehouse.config_service import CompletionSettings, ServiceSettings
from warehouse.config_types import SEVERITIES
from warehouse.environment import (
    AUTH_OFF,
    CONFIG,
    EXPORT_ROOT,
    GX_ROOT,
    WAREHOUSE,
    Environment,
    read_environment,
)
from warehouse.errors import CouldNotRun
from warehouse.exports import GCS_SCHEME

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GX_CONFIG_FILE = "great_expectations.yml"  # what makes a folder a GX folder (NBA_DQ_GX_ROOT)
__all__ = [  # the config objects the rest of the code imports from here
    "SEVERITIES",
    "AlertSettings",
    "DocsSettings",
    "Era",
    "HistorySettings",
    "StateSettings",
    "ServiceSettings",
    "CompletionSettings",
    "Phase3Thresholds",
    "Phase4Thresholds",
    "Phase5BThresholds",
    "Phase5Thresholds",
    "Phase6Thresholds",
    "Settings",
    "Thresholds",
    "load_settings",
]


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
    state: StateSettings
    phase3: Phase3Thresholds
    phase4: Phase4Thresholds
    phase5: Phase5Thresholds
    phase5b: Phase5BThresholds
    phase6: Phase6Thresholds
    eras: tuple[Era, ...]
    service: ServiceSettings  # `nba-dq serve` and `nba-dq sweep`
    completion: Mapping[str, CompletionSettings]  # checkpoint (phase3 ...) -> the processors that must report
    owners: Mapping[str, tuple[str, ...]]  # "phase5" or "phase5.<check>" -> Slack IDs its incidents mention
    production: bool = False  # NBA_DQ_ENV=production: a run without a Slack destination is an error
    push_auth: bool = True  # NBA_DQ_PUSH_AUTH=off: `serve` takes pushes without a token (refused in production)

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
    """dq.toml (or the file NBA_DQ_CONFIG names) and the environment, validated whole before any work.

    Every problem is reported at once, as ConfigError (exit 2; doctor prints one line each).
    """
    env = os.environ if env is None else env
    problems: list[str] = []
    variables = read_environment(env, problems)
    path = Path(env.get(CONFIG, "").strip() or PROJECT_ROOT / "dq.toml").resolve()  # even if another variable is wrong
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(path, [f"config file {path} not found: set {CONFIG} or restore dq.toml", *problems]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, [f"config file {path} cannot be read: {error}", *problems]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [f"{path}: invalid TOML ({error})", *problems]) from None
    try:
        config = ConfigFile.model_validate(raw)
    except ValidationError as error:
        problems[:0] = [f"{path.name}: {line}" for line in config_problems(error)]
        config = None
    problems += _missing_locations(path, raw, env)
    if variables is not None and variables.gx_root and not (Path(variables.gx_root) / GX_CONFIG_FILE).is_file():
        # Checked here: a run would write its history and alert state into a wrong folder before GX fails.
        problems.append(
            f"environment: {GX_ROOT} = {variables.gx_root!r}: holds no {GX_CONFIG_FILE}"
            " (point it at a copy of the project's gx/ folder, or unset it)"
        )
    if config is None or variables is None or problems:
        raise ConfigError(path, problems)
    return _settings(path, config, variables)


class ConfigError(CouldNotRun):
    """dq.toml or the environment is wrong: `problems` has one line each (key, value, what is allowed)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path, self.problems = path, problems
        super().__init__("; ".join(problems))


def _missing_locations(path: Path, raw: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """The warehouse and the export root may come from the file or the environment, but must come from one.
    Read from the raw file, so this is reported along with any other problem in it."""
    missing = []
    for variable, section, key in ((WAREHOUSE, "warehouse", "url"), (EXPORT_ROOT, "exports", "root")):
        table = raw.get(section)
        if not env.get(variable, "").strip() and not (isinstance(table, dict) and table.get(key)):
            missing.append(f"{path.name}: [{section}] {key}: missing (or set {variable})")
    return missing


def _settings(path: Path, config: ConfigFile, variables: Environment) -> Settings:
    """The validated file with the environment's overrides. Relative paths in the file are taken relative
    to the project folder, like the GX folder, so a copy of dq.toml elsewhere changes only its values."""
    url = variables.warehouse or config.warehouse.url
    export_root = variables.export_root or config.exports.root
    gx_root = Path(variables.gx_root or PROJECT_ROOT / "gx").resolve()
    docs = config.data_docs
    if variables.docs_bucket:
        docs = docs.model_copy(update={"bucket": variables.docs_bucket})
    return Settings(
        config_path=path,
        gx_root=gx_root,
        warehouse_url=_resolve_duckdb_path(str(url), PROJECT_ROOT),
        bigquery_location=config.warehouse.location,
        maximum_bytes_billed=config.warehouse.maximum_bytes_billed,
        bigquery_endpoint=variables.bigquery_endpoint,
        datasets=config.datasets.model_dump(),
        export_root=_resolve_export_root(str(export_root), PROJECT_ROOT),
        replay_hour_utc=config.run.replay_hour_utc,
        alerts=config.alerts,
        data_docs=docs,
        history=HistorySettings(
            duckdb_file=str(gx_root / config.history.duckdb_file),
            lock_timeout_seconds=config.history.lock_timeout_seconds,
        ),
        state=config.state.model_copy(update={"url": variables.state_url}) if variables.state_url else config.state,
        phase3=config.phase3,
        phase4=config.phase4,
        phase5=config.phase5,
        phase5b=config.phase5b,
        phase6=config.phase6,
        eras=config.eras,
        service=config.service.model_copy(update=_service_overrides(variables)),
        completion=config.completion.by_checkpoint(),
        owners=config.owners,
        production=variables.production,
        push_auth=variables.push_auth != AUTH_OFF,
    )


def _service_overrides(variables: Environment) -> dict[str, str]:
    """NBA_DQ_PUSH_AUDIENCE and NBA_DQ_VERDICT_TOPIC replace [service] audience and verdict_topic."""
    overrides = {"audience": variables.push_audience, "verdict_topic": variables.verdict_topic}
    return {key: value for key, value in overrides.items() if value}


def _resolve_duckdb_path(url: str, base: Path) -> str:
    """duckdb:///relative/path is taken relative to the project, so any working directory works."""
    prefix = "duckdb:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(base / url[len(prefix) :])
    return url


def _resolve_export_root(root: str, base: Path) -> str:
    """A relative local export root is taken relative to the project; gs:// roots stay as they are."""
    if root.startswith(GCS_SCHEME) or Path(root).is_absolute():
        return root
    return str(base / root)
