"""dq.toml: thresholds once, errors all together with where they were found."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from warehouse.errors import CouldNotRun
from warehouse.settings import PROJECT_ROOT, load_settings


def test_committed_config_loads_with_the_documented_defaults() -> None:
    settings = load_settings({})
    assert settings.warehouse_url == f"duckdb:///{PROJECT_ROOT}/gx/uncommitted/warehouse.duckdb"
    assert settings.phase5.min_active_predictions == 50
    assert settings.phase5.min_player_coverage == 0.90
    assert settings.era_for(date(2025, 12, 29)).system_ids[0] == "catboost_v8"
    assert "catboost_v9" in settings.era_for(date(2026, 2, 7)).system_ids


def test_env_overrides_the_warehouse() -> None:
    assert (
        load_settings({"NBA_DQ_WAREHOUSE": "bigquery://nba-props-platform"}).warehouse_url
        == "bigquery://nba-props-platform"
    )


def test_a_date_outside_every_era_cannot_be_checked() -> None:
    with pytest.raises(CouldNotRun, match="no era .* covers 2019-01-01"):
        load_settings({}).era_for(date(2019, 1, 1))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (PROJECT_ROOT / "dq.toml").read_text()
    text = text.replace("min_player_coverage", "min_player_covrage").replace("critical fails", "critical fails")
    text = text.replace("[phase5.severity]", '[phase5.severity]\nplayer_coverage = "loud"')
    config = tmp_path / "dq.toml"
    config.write_text(text)
    with pytest.raises(CouldNotRun) as raised:
        load_settings({"NBA_DQ_CONFIG": str(config)})
    message = str(raised.value)
    assert "[phase5] min_player_covrage = 0.9: unknown key (did you mean min_player_coverage?)" in message
    assert "[phase5] min_player_coverage: missing" in message
    assert "[phase5.severity] player_coverage = 'loud': must be 'critical' or 'warning'" in message
    assert "\n" not in message


def test_missing_and_broken_config_files(tmp_path: Path) -> None:
    with pytest.raises(CouldNotRun, match="not found"):
        load_settings({"NBA_DQ_CONFIG": str(tmp_path / "nope.toml")})
    broken = tmp_path / "dq.toml"
    broken.write_text("[phase5\n")
    with pytest.raises(CouldNotRun, match="invalid TOML"):
        load_settings({"NBA_DQ_CONFIG": str(broken)})


def test_export_root_defaults_beside_the_config_and_env_overrides_it() -> None:
    assert load_settings({}).export_root == str(PROJECT_ROOT / "gx/uncommitted/exports/v1")
    assert load_settings({"NBA_DQ_EXPORT_ROOT": "gs://api/v1"}).export_root == "gs://api/v1"
    assert load_settings({"NBA_DQ_EXPORT_ROOT": "/srv/exports"}).export_root == "/srv/exports"


def test_a_past_date_is_judged_as_of_its_daily_run_and_today_as_of_the_clock() -> None:
    settings = load_settings({})
    clock = datetime(2026, 11, 29, 9, 30, tzinfo=timezone.utc)
    assert settings.run_time(date(2025, 12, 15), clock) == datetime(2025, 12, 15, 18, tzinfo=timezone.utc)
    assert settings.run_time(date(2026, 11, 28), clock) == datetime(2026, 11, 28, 18, tzinfo=timezone.utc)
    assert settings.run_time(date(2026, 11, 29), clock) == clock
    assert settings.run_time(date(2026, 11, 30), clock) == clock
    pacific = clock.astimezone(timezone(timedelta(hours=-8)))  # still the 29th in UTC, the 29th locally too
    assert settings.run_time(date(2026, 11, 29), pacific) == pacific


def test_run_and_exports_sections_are_validated(tmp_path: Path) -> None:
    text = (PROJECT_ROOT / "dq.toml").read_text().replace("replay_hour_utc = 18", "replay_hour_utc = 25")
    text = text.replace('root = "gx/uncommitted/exports/v1"', "")
    config = tmp_path / "dq.toml"
    config.write_text(text)
    with pytest.raises(CouldNotRun) as raised:
        load_settings({"NBA_DQ_CONFIG": str(config)})
    assert "[run] replay_hour_utc = 25: must be between 0 and 23" in str(raised.value)
    assert "[exports] root: missing (or set NBA_DQ_EXPORT_ROOT)" in str(raised.value)
