"""Phase 5 checkpoint cost against one hand-written SQL query computing the same figures.

Prints wall time (median of repeats: these machines are shared and noisy), SQL statements issued,
and the ratio to the hand-written query, for one date and for the whole seeded month.
Run: `make bench` or `python -m bench.phase5 [--repeats N]` (seeds a private warehouse if needed).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import duckdb

from bench.common import private_workspace, timed
from checkpoints.run import run_phase
from warehouse.seed import DEFAULT_END, DEFAULT_START, FAULTS, seed_duckdb, simulated_run_time
from warehouse.settings import Settings

ONE_DATE = date(2025, 12, 2)

# The same figures the suite computes, for every date in a range, in one statement.
HAND_WRITTEN = """
WITH p AS (
  SELECT * FROM nba_predictions.player_prop_predictions WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}'
), c AS (
  SELECT * FROM nba_analytics.upcoming_player_game_context WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}'
), expected AS (
  SELECT DISTINCT game_date, player_lookup FROM c
  WHERE is_production_ready AND COALESCE(player_status, '') NOT IN ('out', 'doubtful')
), active AS (SELECT * FROM p WHERE is_active),
per_date AS (
  SELECT game_date, COUNT(*) AS active_rows, COUNT(DISTINCT player_lookup) AS players,
    SUM(CASE WHEN predicted_points NOT BETWEEN 0 AND 60 THEN 1 ELSE 0 END) AS points_out,
    SUM(CASE WHEN confidence_score NOT BETWEEN 0 AND 100 THEN 1 ELSE 0 END) AS confidence_out,
    SUM(CASE WHEN recommendation NOT IN ('OVER', 'UNDER', 'PASS', 'HOLD', 'NO_LINE') THEN 1 ELSE 0 END) AS bad_recs
  FROM active GROUP BY game_date
), coverage AS (
  SELECT e.game_date, COUNT(*) AS expected_players, COUNT(a.player_lookup) AS covered
  FROM expected e LEFT JOIN (SELECT DISTINCT game_date, player_lookup FROM active) a
    ON a.game_date = e.game_date AND a.player_lookup = e.player_lookup
  GROUP BY e.game_date
), systems AS (
  SELECT game_date, MIN(players) AS min_system_players FROM (
    SELECT game_date, system_id, COUNT(DISTINCT player_lookup) AS players FROM active GROUP BY 1, 2) GROUP BY 1
), active_dups AS (
  SELECT game_date, COUNT(*) AS n FROM (
    SELECT game_date FROM active GROUP BY game_date, game_id, player_lookup, system_id HAVING COUNT(*) > 1) GROUP BY 1
), key_dups AS (
  SELECT game_date, COUNT(*) AS n FROM (
    SELECT game_date FROM p GROUP BY game_date, game_id, player_lookup, system_id, current_points_line
    HAVING COUNT(*) > 1) GROUP BY 1
), nulls AS (
  SELECT game_date, SUM(CASE WHEN prediction_id IS NULL OR player_lookup IS NULL OR game_id IS NULL
                          OR system_id IS NULL THEN 1 ELSE 0 END) AS null_ids FROM p GROUP BY 1
)
SELECT c.game_date, d.active_rows, d.players, c.covered * 1.0 / c.expected_players AS coverage,
  s.min_system_players, ad.n AS active_dups, kd.n AS key_dups, d.points_out, d.confidence_out, d.bad_recs, n.null_ids,
  (SELECT COUNT(*) FROM information_schema.tables
   WHERE table_schema = 'nba_predictions' AND starts_with(table_name, '_staging_')) AS staging_tables
FROM coverage c LEFT JOIN per_date d USING (game_date) LEFT JOIN systems s USING (game_date)
LEFT JOIN active_dups ad USING (game_date) LEFT JOIN key_dups kd USING (game_date) LEFT JOIN nulls n USING (game_date)
ORDER BY c.game_date
"""


def hand_written(path: Path, start: date, end: date) -> None:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        connection.execute(HAND_WRITTEN.format(start=start, end=end)).fetchall()
    finally:
        connection.close()


def game_dates(settings: Settings, start: date, end: date) -> list[date]:
    connection = duckdb.connect(settings.warehouse_url.removeprefix("duckdb:///"), read_only=True)
    try:
        rows = connection.execute(
            "SELECT DISTINCT game_date FROM nba_raw.nbac_schedule WHERE game_date BETWEEN ? AND ? ORDER BY 1",
            [start, end],
        ).fetchall()
    finally:
        connection.close()
    return [row[0] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the one-date figures (median)")
    repeats = parser.parse_args().repeats
    with private_workspace() as workspace:
        _measure(workspace.warehouse, workspace.settings, repeats)


def _measure(path: Path, settings: Settings, repeats: int) -> None:
    seed_duckdb(path, settings)
    run = lambda day: run_phase(settings, "5", day, simulated_run_time(day))  # noqa: E731

    run(ONE_DATE)  # warm-up: imports and first-connection costs are not the checkpoint's
    gx_one = timed(lambda: run(ONE_DATE), repeats)
    sql_one = timed(lambda: hand_written(path, ONE_DATE, ONE_DATE), repeats).seconds
    days = game_dates(settings, DEFAULT_START, DEFAULT_END)
    gx_month = timed(lambda: [run(day) for day in days], 1)
    sql_month = timed(lambda: hand_written(path, DEFAULT_START, DEFAULT_END), repeats).seconds

    print(f"phase 5 on DuckDB ({len(days)} game dates, {len(FAULTS)} seeded faults; medians of {repeats})")
    print(f"{'scope':<12}{'GX wall s':>10}{'GX stmts':>10}{'SQL wall s':>12}{'SQL stmts':>10}{'ratio':>9}")
    for scope, gx, sql_s in (("one date", gx_one, sql_one), ("month", gx_month, sql_month)):
        print(f"{scope:<12}{gx.seconds:>10.2f}{gx.statements:>10}{sql_s:>12.3f}{1:>10}{gx.seconds / sql_s:>8.0f}x")


if __name__ == "__main__":
    main()
