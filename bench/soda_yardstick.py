"""Soda Core as a yardstick: Phase 5's checks for one date in SodaCL, scanned by Soda in its own venv.

soda-core-duckdb 3.5.6 (the last v3 plugin) pins duckdb<1.1, which cannot open the project's files:
the venv (bench/.soda-venv, git-ignored) gets it first, then duckdb 2.0.0 without dependencies (it
reads them) and pytz (duckdb 2.0 fetches timestamp-with-time-zone columns with it). Soda's telemetry is
off: a private HOME holds a config that says so, and every scan disables it too. The warehouse is
opened read-only. Thresholds come from dq.toml; the volume bounds, the era's systems and the staging
rule's statement from nba-dq's own declarations (inputs, as a scheduler would hand them to Soda).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from warehouse.settings import Settings

VENV = Path(__file__).resolve().parent / ".soda-venv"
SCAN_SCRIPT = Path(__file__).resolve().parent / "soda_scan.py"
PACKAGES = (["soda-core-duckdb==3.5.6"], ["--no-deps", "duckdb==2.0.0"], ["pytz"])
TABLE = "player_prop_predictions"  # in the data source's schema, nba_predictions


@dataclass(frozen=True)
class SodaScan:
    wall: float  # median seconds of the scans, measured inside Soda's process
    cpu: float
    outcomes: dict[str, str]  # check name -> pass / fail


def soda_python() -> Path:
    """Soda's interpreter, the venv created and filled on first use."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        for packages in PACKAGES:
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    return python


def scan(warehouse: Path, sodacl: dict[str, str], repeats: int) -> dict[str, SodaScan]:
    """Each named SodaCL text scanned `repeats` times (after a warm-up) in one Soda process."""
    job = {
        "warehouse": str(warehouse),
        "scans": [{"name": n, "sodacl": t, "repeats": repeats} for n, t in sodacl.items()],
    }
    with tempfile.TemporaryDirectory(prefix="nba-dq-soda-home-") as home:
        (Path(home) / ".soda").mkdir()
        (Path(home) / ".soda" / "config.yml").write_text("send_anonymous_usage_stats: false\n")
        completed = subprocess.run(
            [str(soda_python()), str(SCAN_SCRIPT)], input=json.dumps(job), capture_output=True, text=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}, cwd=home, check=False,
        )  # fmt: skip
    if completed.returncode != 0:
        raise SystemExit(f"the Soda scan failed: {completed.stderr.strip()[-2000:]}")
    return {name: SodaScan(**figures) for name, figures in json.loads(completed.stdout).items()}


def phase5_sodacl(settings: Settings, day: date, now: datetime) -> str:
    """Phase 5's checks of one date: one SodaCL check (or two: a range and its NULLs) per nba-dq check,
    named after it."""
    from expectations import phase5_predictions
    from expectations.declare import PhaseRequest
    from warehouse.connection import open_warehouse
    from warehouse.dialect import staging_tables_query

    t = settings.phase5
    warehouse = open_warehouse(settings, {})
    request = PhaseRequest(game_date=day, now=now, engine=warehouse.engine_name, datasets=warehouse.datasets)
    bounds = phase5_predictions.volume_baseline(request, warehouse, t).bounds(t)
    low, high = bounds if bounds is not None else (0, 10**9)
    staging = staging_tables_query(warehouse.engine_name, "nba_predictions", t.staging_grace_minutes, now, day)
    on_day = f"game_date = DATE '{day}'"
    active = f"{on_day} AND is_active = TRUE"
    excluded = ", ".join(f"'{status}'" for status in t.coverage_excluded_statuses)
    systems = " UNION ALL ".join(f"SELECT '{system}' AS system_id" for system in settings.era_for(day).system_ids)
    recommendations = ", ".join(json.dumps(value) for value in t.recommendations)
    predictions = f"nba_predictions.{TABLE}"
    checks = f"""
filter {TABLE} [day]:
  where: {on_day}

checks for {TABLE} [day]:
  - row_count >= {t.min_active_predictions}:
      name: active_prediction_count
      filter: is_active = TRUE
  - row_count between {low} and {high}:
      name: active_prediction_volume
      filter: is_active = TRUE
  - predicted_players >= {t.min_predicted_players}:
      name: predicted_player_count
      predicted_players query: SELECT COUNT(DISTINCT player_lookup) FROM {predictions} WHERE {active}
  - player_coverage >= {t.min_player_coverage}:
      name: player_coverage
      player_coverage query: |
        SELECT COALESCE(COUNT(p.player_lookup) * 1.0 / NULLIF(COUNT(*), 0), 0)
        FROM (SELECT DISTINCT player_lookup FROM nba_analytics.upcoming_player_game_context
              WHERE {on_day} AND is_production_ready = TRUE AND COALESCE(player_status, '') NOT IN ({excluded})) e
        LEFT JOIN (SELECT DISTINCT player_lookup FROM {predictions} WHERE {active}) p USING (player_lookup)
  - system_coverage >= {t.min_system_coverage}:
      name: system_coverage
      system_coverage query: |
        WITH a AS (SELECT player_lookup, system_id FROM {predictions} WHERE {active}),
        per_system AS (SELECT system_id, COUNT(DISTINCT player_lookup) AS players FROM a GROUP BY system_id)
        SELECT COALESCE(MIN(COALESCE(s.players, 0) * 1.0 / NULLIF((SELECT COUNT(DISTINCT player_lookup) FROM a), 0)), 0)
        FROM ({systems}) e LEFT JOIN per_system s USING (system_id)
  - duplicate_count(game_id, player_lookup, system_id) = 0:
      name: active_key_unique
      filter: is_active = TRUE
  - duplicate_count(game_id, player_lookup, system_id, current_points_line) = 0:
      name: consolidation_key_unique
  - invalid_count(predicted_points) = 0:
      name: predicted_points_range
      valid min: {t.predicted_points_min}
      valid max: {t.predicted_points_max}
      filter: is_active = TRUE
  - missing_count(predicted_points) = 0:
      name: predicted_points_range NULL
      filter: is_active = TRUE
  - invalid_count(confidence_score) = 0:
      name: confidence_score_range
      valid min: {t.confidence_score_min}
      valid max: {t.confidence_score_max}
      filter: is_active = TRUE
  - missing_count(confidence_score) = 0:
      name: confidence_score_range NULL
      filter: is_active = TRUE
  - invalid_count(recommendation) = 0:
      name: recommendation_values
      valid values: [{recommendations}]
      filter: is_active = TRUE
  - missing_count(recommendation) = 0:
      name: recommendation_values NULL
      filter: is_active = TRUE
"""
    for column in phase5_predictions.NEVER_NULL:
        checks += f"  - missing_count({column}) = 0:\n      name: {column}_not_null\n"
    indented = "\n".join(f"        {line}" for line in staging.strip().splitlines())
    checks += (
        "  - failed_staging_tables = 0:\n      name: no_orphaned_staging_tables\n"
        "      failed_staging_tables query: |\n"
        f"        SELECT COUNT(*) FROM (\n{indented}\n        ) AS s WHERE failed\n"
    )
    return checks


def verdicts(outcomes: dict[str, str]) -> dict[str, bool]:
    """nba-dq check name -> passed, from Soda's outcomes (a range fails with its NULL check too)."""
    passed: dict[str, bool] = {}
    for name, outcome in outcomes.items():
        check = name.removesuffix(" NULL")
        passed[check] = passed.get(check, True) and outcome == "pass"
    return passed
