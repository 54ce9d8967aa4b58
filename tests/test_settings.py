"""dq.toml: thresholds once, errors all together with where they were found."""

from __future__ import annotations

from datetime import date
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
    assert "unknown key 'min_player_covrage'" in message
    assert "missing key 'min_player_coverage'" in message
    assert "player_coverage = 'loud'" in message
    assert "\n" not in message


def test_missing_and_broken_config_files(tmp_path: Path) -> None:
    with pytest.raises(CouldNotRun, match="not found"):
        load_settings({"NBA_DQ_CONFIG": str(tmp_path / "nope.toml")})
    broken = tmp_path / "dq.toml"
    broken.write_text("[phase5\n")
    with pytest.raises(CouldNotRun, match="invalid TOML"):
        load_settings({"NBA_DQ_CONFIG": str(broken)})
