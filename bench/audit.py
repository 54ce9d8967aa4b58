"""A season audit (`nba-dq audit`, every audited phase) against one hand-written SQL pass over the season.

Prints wall time (median of repeats: these machines are shared and noisy), the SQL statements issued,
the time spent inside them, and the ratio to the hand-written statement, which computes the core
per-date figures of every phase (the limit a set-based audit can approach).
Run: `make bench` or `python -m bench.audit [--repeats N]` (seeds a private warehouse).
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from bench.common import private_workspace, timed
from checkpoints.audit import audit
from checkpoints.phases import AUDITED
from warehouse.seed import seed_duckdb

SEASON = (date(2022, 10, 18), date(2023, 4, 9))  # the 2022-23 regular season of the synthetic seed
CLOCK = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)

HAND_WRITTEN = """
WITH s AS (SELECT game_date, COUNT(*) AS games FROM nba_raw.nbac_schedule
           WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}' GROUP BY game_date),
c AS (SELECT * FROM nba_analytics.upcoming_player_game_context WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}'),
f AS (SELECT * FROM nba_predictions.ml_feature_store_v2 WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}'),
p AS (SELECT * FROM nba_predictions.player_prop_predictions WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}'),
g AS (SELECT * FROM nba_predictions.prediction_accuracy WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}'),
b AS (SELECT * FROM nba_analytics.player_game_summary WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}'),
ctx AS (SELECT game_date, COUNT(*) AS context_rows, COUNT(*) - COUNT(DISTINCT (player_lookup, game_id)) AS dups
        FROM c GROUP BY 1),
ready AS (SELECT DISTINCT game_date, player_lookup, game_id FROM c WHERE is_production_ready),
feat AS (SELECT r.game_date, COUNT(*) AS ready, COUNT(x.player_lookup) AS featured FROM ready r
         LEFT JOIN (SELECT DISTINCT game_date, player_lookup, game_id FROM f) x
           USING (game_date, player_lookup, game_id) GROUP BY 1),
expected AS (SELECT DISTINCT game_date, player_lookup FROM c
             WHERE is_production_ready AND COALESCE(player_status, '') NOT IN ('out', 'doubtful')),
active AS (SELECT * FROM p WHERE is_active),
cov AS (SELECT e.game_date, COUNT(*) AS expected, COUNT(a.player_lookup) AS covered FROM expected e
        LEFT JOIN (SELECT DISTINCT game_date, player_lookup FROM active) a USING (game_date, player_lookup) GROUP BY 1),
pred AS (SELECT game_date, COUNT(*) AS active_rows,
           COUNT(*) - COUNT(DISTINCT (game_id, player_lookup, system_id)) AS dups FROM active GROUP BY 1),
gradable AS (SELECT DISTINCT a.game_date, a.player_lookup, a.game_id, a.system_id FROM active a
             JOIN (SELECT DISTINCT player_lookup, game_id FROM b) x USING (player_lookup, game_id)
             WHERE a.current_points_line IS NOT NULL AND a.current_points_line <> 20.0
               AND a.invalidation_reason IS NULL),
grade AS (SELECT d.game_date, COUNT(*) AS gradable, COUNT(y.player_lookup) AS graded FROM gradable d
          LEFT JOIN (SELECT DISTINCT game_date, player_lookup, game_id, system_id FROM g) y
            USING (game_date, player_lookup, game_id, system_id) GROUP BY 1)
SELECT s.game_date, s.games, ctx.context_rows, ctx.dups, feat.featured * 1.0 / feat.ready AS feature_coverage,
  cov.covered * 1.0 / cov.expected AS coverage, pred.active_rows, pred.dups, grade.graded * 1.0 / grade.gradable
FROM s LEFT JOIN ctx USING (game_date) LEFT JOIN feat USING (game_date) LEFT JOIN cov USING (game_date)
LEFT JOIN pred USING (game_date) LEFT JOIN grade USING (game_date)
ORDER BY s.game_date
"""


def hand_written(path: Path, start: date, end: date) -> int:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return len(connection.execute(HAND_WRITTEN.format(start=start, end=end)).fetchall())
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats per figure (median)")
    repeats = parser.parse_args().repeats
    start, end = SEASON
    with private_workspace() as workspace:
        seed_duckdb(workspace.warehouse, workspace.settings, start, end)
        run = lambda: audit(workspace.settings, AUDITED, start, end, CLOCK)  # noqa: E731
        dates = sum(len(phase.game_dates) for phase in run().phases[:1])  # warm-up: imports, first connection
        full = timed(run, repeats)
        sql = timed(lambda: hand_written(workspace.warehouse, start, end), repeats).seconds
    print(f"season audit {start}..{end} on DuckDB ({dates} game dates, phases {', '.join(AUDITED)};"
          f" medians of {repeats})")  # fmt: skip
    print(f"{'':<26}{'wall s':>8}{'stmts':>7}{'in SQL s':>10}{'ratio':>8}")
    print(f"{'nba-dq audit':<26}{full.seconds:>8.2f}{full.statements:>7}{full.statement_seconds:>10.2f}"
          f"{full.seconds / sql:>7.1f}x")  # fmt: skip
    print(f"{'  of which its statements':<26}{full.statement_seconds:>8.2f}{full.statements:>7}{'':>10}"
          f"{full.statement_seconds / sql:>7.1f}x")  # fmt: skip
    print(f"{'hand-written SQL, one pass':<26}{sql:>8.2f}{1:>7}{sql:>10.2f}{1:>7.1f}x")
    print("The rest of the audit's wall time is GX: one validation per phase, its Data Docs page and index.")


if __name__ == "__main__":
    main()
