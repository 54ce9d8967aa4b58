"""A wrong dq.toml or environment: one line naming the key, exit 2, before GX loads or a query runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Workspace
from tests.test_cli_errors import assert_one_line_exit_2
from warehouse.settings import PROJECT_ROOT, load_settings

COVERAGE_DROP = "2025-12-05"  # the seeded date whose player coverage is 60%
COMMITTED = (PROJECT_ROOT / "dq.toml").read_text()

# (what dq.toml says, what a user wrote instead, what the one line must say)
BAD_VALUES = [
    (
        "min_player_coverage = 0.90",
        "min_player_coverage = -0.5",
        "[phase5] min_player_coverage = -0.5: must be between 0 and 1",
    ),
    (
        "min_player_coverage = 0.90",
        "min_player_coverage = 1.5",
        "[phase5] min_player_coverage = 1.5: must be between 0 and 1",
    ),
    (
        "min_player_coverage = 0.90",
        'min_player_coverage = "0.9"',
        "[phase5] min_player_coverage = '0.9': must be a number",
    ),
    (
        "min_player_coverage = 0.90",
        "min_player_coverage = true",
        "[phase5] min_player_coverage = true: must be a number",
    ),
    ("min_player_coverage = 0.90", "min_player_coverage = inf", "[phase5] min_player_coverage = inf: must be a finite"),
    ("min_player_coverage = 0.90", "min_player_coverage = nan", "[phase5] min_player_coverage = nan: must be a finite"),
    (
        "min_player_coverage = 0.90",
        "min_player_covrage = 0.90",
        "[phase5] min_player_covrage = 0.9: unknown key (did you mean min_player_coverage?)",
    ),
    (
        "min_production_ready_share = 0.60",
        "min_production_ready_share = 60",
        "[phase3] min_production_ready_share = 60: must be between 0 and 1",
    ),
    (
        "min_active_predictions = 50",
        "min_active_predictions = -3",
        "[phase5] min_active_predictions = -3: must be at least 1",
    ),
    (
        "min_active_predictions = 50",
        "min_active_predictions = 50.5",
        "[phase5] min_active_predictions = 50.5: must be a whole number",
    ),
    ("minutes_played_max = 60", "minutes_played_max = -1", "[phase3] minutes_played_max = -1: must be greater than 0"),
    (
        "context_rows_per_game_min = 20",
        "context_rows_per_game_min = 50",
        "[phase3]: context_rows_per_game_min = 50 must not exceed context_rows_per_game_max = 40",
    ),
    (
        "predicted_points_max = 60",
        "predicted_points_max = -1",
        "[phase5]: predicted_points_min = 0 must not exceed predicted_points_max = -1",
    ),
    (
        "confidence_score_max = 1\n",
        "confidence_score_max = -1\n",
        "[phase5b]: confidence_score_min = 0 must not exceed confidence_score_max = -1",
    ),
    (
        "volume_min_history = 7",
        "volume_min_history = 20",
        "[phase5]: volume_min_history = 20 must not exceed volume_trailing_dates = 14",
    ),
    (
        "volume_min_mad_share = 0.02",
        "volume_min_mad_share = 1",
        "[phase5] volume_min_mad_share = 1: must be at least 0 and below 1",
    ),
    (
        "staging_grace_minutes = 30",
        "staging_grace_minutes = 0",
        "[phase5] staging_grace_minutes = 0: must be at least 1",
    ),
    (
        "max_export_age_hours = 12",
        'max_export_age_hours = "12h"',
        "[phase6] max_export_age_hours = '12h': must be a number",
    ),
    ("max_tries = 3", "max_tries = 0", "[alerts] max_tries = 0: must be at least 1"),
    (
        "connect_timeout_seconds = 5",
        "connect_timeout_seconds = 50",
        "[alerts]: connect_timeout_seconds = 50 must not exceed total_timeout_seconds = 15",
    ),
    ("replay_hour_utc = 18", "replay_hour_utc = 24", "[run] replay_hour_utc = 24: must be between 0 and 23"),
    (
        'coverage_excluded_statuses = ["out", "doubtful"]',
        "coverage_excluded_statuses = []",
        "[phase5] coverage_excluded_statuses = []: must not be empty",
    ),
    (
        'quality_tiers = ["gold", "silver", "bronze", "poor", "critical"]',
        'quality_tiers = ["gold", "gold"]',
        "[phase4] quality_tiers = ['gold', 'gold']: lists gold more than once",
    ),
    (
        "[phase6]\n",
        "[phase6]\nmin_players = 8\n",
        "[phase6] min_players = 8: unknown key (did you mean min_players_per_game?)",
    ),
    ("[phase6.severity]", "[phase7]\n[phase6.severity]", "[phase7]: unknown section"),
    (
        'active_prediction_volume = "warning"',
        'active_prediction_volum = "warning"',
        "[phase5.severity] active_prediction_volum: not a phase5 check (did you mean active_prediction_volume?)",
    ),
    (
        'active_prediction_volume = "warning"',
        'active_prediction_volume = "Warning"',
        "[phase5.severity] active_prediction_volume = 'Warning': must be 'critical' or 'warning'",
    ),
    (
        "start = 2025-10-01",
        "start = 2025-09-01",
        "[[eras]]: 'backfill' (2021-07-01..2025-09-30) and 'launch' (2025-09-01..2026-01-31) overlap",
    ),
    (
        "start = 2026-02-01",
        "start = 2026-02-05",
        "[[eras]]: 'launch' (2025-10-01..2026-01-31) and 'v9' (2026-02-05..2026-02-28) leave 2026-02-01..2026-02-04",
    ),
    ("end = 2025-09-30", "end = 2021-06-30", "[[eras]] #1: start = 2021-07-01 must not exceed end = 2021-06-30"),
    (
        'system_ids = ["catboost_v12", "lgbm_v12_noveg_train0103_0227"]',
        "system_ids = []",
        "[[eras]] #4 system_ids = []: must not be empty",
    ),
    (
        "start = 2021-07-01",
        'start = "2021-07-01"',
        "[[eras]] #1 start = '2021-07-01': must be a date (YYYY-MM-DD, unquoted)",
    ),
    (
        'url = "duckdb:///gx/uncommitted/warehouse.duckdb"',
        'url = "postgres://db/x"',
        "[warehouse] url = 'postgres://db/x': must be duckdb:///",
    ),
    ('bucket = ""', 'bucket = "s3://docs"', "[data_docs] bucket = 's3://docs': must be a gs://bucket/prefix URL"),
    ("retention_days = 90", "retention_days = 0", "[data_docs] retention_days = 0: must be at least 1"),
    ("retention_days = 90", "retention_days = 7.5", "[data_docs] retention_days = 7.5: must be a whole number"),
    (
        'raw = "nba_raw"',
        'raw = "nba raw"',
        "[datasets] raw = 'nba raw': must be a name of letters, digits and underscores",
    ),
    (
        "maximum_bytes_billed = 10000000000",
        "maximum_bytes_billed = 1e10",
        "[warehouse] maximum_bytes_billed = 10000000000.0: must be a whole number",
    ),
    (
        'root = "gx/uncommitted/exports/v1"',
        'root = "s3://api/v1"',
        "[exports] root = 's3://api/v1': must be a local folder or a gs://bucket/prefix URL",
    ),
    (
        "run_deadline_seconds = 540",
        "run_deadline_seconds = 600",
        "[service] run_deadline_seconds = 600: must be at least 1 and below 600",
    ),
    (
        "lease_seconds = 660",
        "lease_seconds = 300",
        "[state] lease_seconds = 300 must exceed [service] run_deadline_seconds = 540",
    ),
    (
        'verdict_topic = ""',
        'verdict_topic = "nba-dq-verdicts"',
        "[service] verdict_topic = 'nba-dq-verdicts': must be a topic path projects/PROJECT/topics/TOPIC (or empty)",
    ),
    (
        "allowed_service_accounts = []",
        'allowed_service_accounts = ["pusher"]',
        "[service] allowed_service_accounts[0] = 'pusher': must be an email address",
    ),
    (
        'processors = ["Phase6Export"]',
        'processors = ["Phase6Export", "PredictionCoordinator"]',
        "[completion]: PredictionCoordinator ([completion.phase5] and [completion.phase6]): a processor belongs to one",
    ),
    (
        'processors = ["Phase5BGrading"]',
        'processers = ["Phase5BGrading"]',
        "[completion.phase5b] processers = ['Phase5BGrading']: unknown key (did you mean processors?)",
    ),
]

BAD_ENVIRONMENT = [
    ({"NBA_DQ_ENV": "Production"}, "environment: NBA_DQ_ENV = 'Production': must be 'development' or 'production'"),
    ({"SLACK_WEBHOOK_URL": "not-a-url"}, "environment: SLACK_WEBHOOK_URL (value not shown: a secret): must be an http"),
    ({"SLACK_WEBHOOK_URL_ERROR": "hooks.slack.com/x"}, "environment: SLACK_WEBHOOK_URL_ERROR (value not shown"),
    ({"NBA_DQ_DOCS_BUCKET": "nba-dq-docs"}, "environment: NBA_DQ_DOCS_BUCKET = 'nba-dq-docs': must be a gs://"),
    (
        {"NBA_DQ_WAREHOUSE": "postgresql://u:pw@x/y"},
        "environment: NBA_DQ_WAREHOUSE = 'postgresql://...': must be duckdb:///",
    ),
    (
        {"NBA_DQ_EXPORT_ROOT": "s3://api/v1"},
        "environment: NBA_DQ_EXPORT_ROOT = 's3://api/v1': must be a local folder or a gs://bucket/prefix URL",
    ),
    (
        {"NBA_DQ_BIGQUERY_ENDPOINT": "localhost:9050"},
        "environment: NBA_DQ_BIGQUERY_ENDPOINT = 'localhost:9050': must be an",
    ),
    (
        {"NBA_DQ_VERDICT_TOPIC": "nba-dq-verdicts"},
        "environment: NBA_DQ_VERDICT_TOPIC = 'nba-dq-verdicts': must be a topic path projects/PROJECT/topics/TOPIC",
    ),
    ({"NBA_DQ_PUSH_AUTH": "no"}, "environment: NBA_DQ_PUSH_AUTH = 'no': must be 'on' or 'off'"),
]


def config_with(tmp_path: Path, old: str, new: str) -> Path:
    assert COMMITTED.count(old) >= 1, old
    config = tmp_path / "elsewhere" / "dq.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(COMMITTED.replace(old, new, 1))
    return config


def no_warehouse(tmp_path: Path) -> dict[str, str]:
    """An environment whose warehouse does not exist: a config error must come first, before any query."""
    (tmp_path / "gx").mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "gx" / "great_expectations.yml", tmp_path / "gx")
    return {"NBA_DQ_WAREHOUSE": f"duckdb:///{tmp_path / 'absent.duckdb'}", "NBA_DQ_GX_ROOT": str(tmp_path / "gx")}


@pytest.mark.parametrize("old, new, line", BAD_VALUES, ids=[new.strip() for _, new, _ in BAD_VALUES])
def test_a_bad_value_is_one_line_naming_the_key(
    seeded: Workspace, tmp_path: Path, old: str, new: str, line: str
) -> None:
    env = {**no_warehouse(tmp_path), "NBA_DQ_CONFIG": str(config_with(tmp_path, old, new))}
    assert_one_line_exit_2(seeded.cli("run", "--phase", "5", "--date", COVERAGE_DROP, env=env), f"dq.toml: {line}")
    assert [path.name for path in (tmp_path / "gx").iterdir()] == ["great_expectations.yml"]  # nothing written


@pytest.mark.parametrize("variables, line", BAD_ENVIRONMENT, ids=[next(iter(v)) for v, _ in BAD_ENVIRONMENT])
def test_a_bad_environment_variable_is_one_line_naming_it(
    seeded: Workspace, tmp_path: Path, variables: dict[str, str], line: str
) -> None:
    result = seeded.cli("run", "--phase", "5", "--date", COVERAGE_DROP, env={**no_warehouse(tmp_path), **variables})
    assert_one_line_exit_2(result, line)
    for hidden in ("SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL_ERROR", "NBA_DQ_WAREHOUSE"):  # secrets; a password in a URL
        assert variables.get(hidden, "\0") not in result.err


def test_a_negative_coverage_threshold_no_longer_passes_the_coverage_drop(seeded: Workspace, tmp_path: Path) -> None:
    """The headline: min_player_coverage = -0.5 made the seeded coverage drop exit 0."""
    config = config_with(tmp_path, "min_player_coverage = 0.90", "min_player_coverage = -0.5")
    result = seeded.cli("run", "--phase", "5", "--date", COVERAGE_DROP, env={"NBA_DQ_CONFIG": str(config)})
    assert_one_line_exit_2(
        result, "nba-dq: error: dq.toml: [phase5] min_player_coverage = -0.5: must be between 0 and 1"
    )


def test_every_problem_of_file_and_environment_in_one_line(seeded: Workspace, tmp_path: Path) -> None:
    config = config_with(tmp_path, "max_tries = 3", "max_tries = 0\nretries = 2")
    config.write_text(config.read_text().replace("min_player_coverage = 0.90", "min_player_coverage = -0.5"))
    env = {**no_warehouse(tmp_path), "NBA_DQ_CONFIG": str(config), "NBA_DQ_ENV": "prod"}
    result = seeded.cli("audit", "--start", "2025-12-01", "--end", "2025-12-31", env=env)
    assert_one_line_exit_2(
        result,
        "dq.toml: [alerts] max_tries = 0: must be at least 1; dq.toml: [alerts] retries = 2: unknown key",
        "dq.toml: [phase5] min_player_coverage = -0.5",
        "environment: NBA_DQ_ENV = 'prod'",
    )


def test_bad_config_is_reported_before_gx_is_imported(tmp_path: Path) -> None:
    """Validation runs first: GX's import (seconds) never happens for a config or environment that cannot run."""
    cases = [{"NBA_DQ_ENV": "Production"}]
    for n, (old, new, _) in enumerate(BAD_VALUES):
        (tmp_path / str(n)).mkdir()
        cases.append({"NBA_DQ_CONFIG": str(config_with(tmp_path / str(n), old, new))})
    script = f"""
import io, json, sys
from runners.cli import main
codes = [main(["run", "--phase", "5", "--date", "{COVERAGE_DROP}"], env=env, stdout=io.StringIO(), stderr=io.StringIO())
         for env in {cases!r}]
print(json.dumps({{"codes": codes, "gx": "great_expectations" in sys.modules}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"codes": [2] * len(cases), "gx": False}


def test_doctor_reports_each_config_problem_and_skips_the_rest(seeded: Workspace, tmp_path: Path) -> None:
    config = config_with(tmp_path, "max_tries = 3", "max_tries = 0")
    env = {"NBA_DQ_CONFIG": str(config), "NBA_DQ_ENV": "Production"}
    result = seeded.cli("doctor", env=env)
    assert result.code == 1 and result.err == ""
    lines = result.out.splitlines()
    assert lines[0] == "nba-dq doctor: 2 problem(s)"
    assert lines[1] == "FAIL  config        dq.toml: [alerts] max_tries = 0: must be at least 1"
    assert lines[2].startswith("FAIL  config        environment: NBA_DQ_ENV = 'Production'")
    assert lines[3] == "skip  other probes  skipped: they need a valid config (fix the config lines above)"
    document = seeded.cli("doctor", "--json", env=env).json()
    assert document["status"] == "fail"
    assert [check["subject"] for check in document["checks"]] == ["config", "config", "other probes"]
    assert document["checks"][2]["skipped"] is True


def test_a_config_elsewhere_keeps_the_project_gx_folder_and_paths(tmp_path: Path) -> None:
    """NBA_DQ_CONFIG changes the values only: the GX folder (history, ledger, Data Docs) moves with
    NBA_DQ_GX_ROOT alone, and relative paths stay the project's, so nothing is written beside the copy."""
    config = config_with(tmp_path, "min_player_coverage = 0.90", "min_player_coverage = 0.80")
    settings = load_settings({"NBA_DQ_CONFIG": str(config)})
    assert settings.phase5.min_player_coverage == 0.80
    assert settings.gx_root == PROJECT_ROOT / "gx"
    assert settings.history.duckdb_file == str(PROJECT_ROOT / "gx/uncommitted/monitoring.duckdb")
    assert settings.warehouse_url == f"duckdb:///{PROJECT_ROOT}/gx/uncommitted/warehouse.duckdb"
    assert settings.export_root == str(PROJECT_ROOT / "gx/uncommitted/exports/v1")
    (tmp_path / "state").mkdir()
    shutil.copy(PROJECT_ROOT / "gx" / "great_expectations.yml", tmp_path / "state")
    moved = load_settings({"NBA_DQ_CONFIG": str(config), "NBA_DQ_GX_ROOT": str(tmp_path / "state")})
    assert moved.gx_root == tmp_path / "state"
    assert moved.history.duckdb_file == str(tmp_path / "state/uncommitted/monitoring.duckdb")


def test_a_gx_root_without_its_project_file_is_refused_before_anything_is_written(
    seeded: Workspace, tmp_path: Path
) -> None:
    """A mistyped NBA_DQ_GX_ROOT used to collect a run's history and alert state before GX failed there."""
    typo = tmp_path / "gx-typo"
    result = seeded.cli("run", "--phase", "5", "--date", COVERAGE_DROP, env={"NBA_DQ_GX_ROOT": str(typo)})
    assert_one_line_exit_2(result, f"environment: NBA_DQ_GX_ROOT = '{typo}': holds no great_expectations.yml")
    assert not typo.exists()
