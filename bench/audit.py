"""A season audit (`nba-dq audit`, every audited phase, Phase 6 included) against one hand-written pass.

The hand-written pass is one SQL statement computing the core per-date figures of phases 3 to 5B, a
second listing each date's predicted players, and a plain loop reading and parsing every date's export
files to compare their games and players with those (the limit a set-based audit can approach).
Prints, for one season and for four (one seeded warehouse), wall time (median of repeats: these machines
are shared and noisy) and CPU time of the audit and of the hand pass, the audit's SQL statements and the
time inside them, and the ratios. Run: `make bench` or `python -m bench.audit [--repeats N]` (seeds a
private warehouse of four seasons, about 2 minutes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from bench.common import Timing, Workspace, private_workspace, timed
from checkpoints.audit import AuditReport, audit
from checkpoints.phases import AUDITED
from warehouse.seed import seed_duckdb

SEASON = (date(2022, 10, 18), date(2023, 4, 9))  # the 2022-23 regular season of the synthetic seed
SEASONS = (date(2021, 10, 19), date(2025, 4, 13))  # four seasons (with the seeded gaps)
CLOCK = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
EXPORT_FOLDERS = ("predictions", "tonight")
HAND_STATEMENTS = 2  # the figures and the predicted players (raw DuckDB: not counted by the capture)

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


ACTIVE_PLAYERS = """
SELECT DISTINCT game_date, player_lookup FROM nba_predictions.player_prop_predictions
WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}' AND is_active
"""


def hand_written(path: Path, exports: Path, start: date, end: date) -> int:
    """The hand pass: the figures statement, the predicted players, and every export file read plainly.
    Returns the dates whose files disagree with the predictions (so no work is skipped)."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        figures = connection.execute(HAND_WRITTEN.format(start=start, end=end)).fetchall()
        predicted: dict[date, set[str]] = {}
        for day, player in connection.execute(ACTIVE_PLAYERS.format(start=start, end=end)).fetchall():
            predicted.setdefault(day, set()).add(player)
    finally:
        connection.close()
    disagreeing = 0
    for row in figures:
        day = row[0]
        for folder in EXPORT_FOLDERS:
            try:
                document = json.loads((exports / folder / f"{day}.json").read_bytes())
            except (OSError, ValueError):
                disagreeing += 1
                continue
            games = document["games"]
            players = {player["player_lookup"] for game in games for player in game["players"]}
            empty = any(not game["players"] for game in games)
            age = CLOCK - datetime.fromisoformat(document["generated_at"])
            disagreeing += int(empty or players != predicted.get(day, set()) or age.total_seconds() < 0)
    return disagreeing


def interleaved(first: Callable[[], object], second: Callable[[], object], repeats: int) -> list[tuple[Timing, float]]:
    """Median wall (and statements) and median CPU time of each action, the two run in turn so that a
    change of load on these shared cores weighs on both alike."""
    walls: list[list[Timing]] = [[], []]
    cpus: list[list[float]] = [[], []]
    for _ in range(repeats):
        for index, action in enumerate((first, second)):
            started = time.process_time()
            walls[index].append(timed(action, 1))
            cpus[index].append(time.process_time() - started)
    return [
        (
            Timing(
                statistics.median(t.seconds for t in timings),
                timings[-1].statements,
                statistics.median(t.statement_seconds for t in timings),
            ),
            statistics.median(cpu),
        )
        for timings, cpu in zip(walls, cpus, strict=True)
    ]


def measure(label: str, workspace: Workspace, start: date, end: date, repeats: int) -> None:
    settings, warehouse, exports = workspace.settings, workspace.warehouse, Path(workspace.settings.export_root)
    run = lambda: audit(settings, AUDITED, start, end, CLOCK)  # noqa: E731
    report: AuditReport = run()  # warm-up: imports, first connection
    hand = lambda: hand_written(warehouse, exports, start, end)  # noqa: E731
    hand()
    (full, full_cpu), (sql, sql_cpu) = interleaved(run, hand, repeats)
    dates = len(report.phases[0].game_dates)
    phases = ", ".join(f"{phase.checkpoint} {phase.seconds:.2f}" for phase in report.phases)
    print(f"{label}: audit {start}..{end} on DuckDB, {dates} game dates, phases {', '.join(AUDITED)};"
          f" medians of {repeats}")  # fmt: skip
    print(f"{'':<30}{'wall s':>8}{'cpu s':>8}{'stmts':>7}{'in SQL s':>10}{'ratio':>8}  (in SQL: summed)")
    print(f"{'  nba-dq audit':<30}{full.seconds:>8.2f}{full_cpu:>8.2f}{full.statements:>7}"
          f"{full.statement_seconds:>10.2f}{full.seconds / sql.seconds:>7.1f}x")  # fmt: skip
    print(f"{'  hand-written pass':<30}{sql.seconds:>8.2f}{sql_cpu:>8.2f}{HAND_STATEMENTS:>7}{'':>10}{1:>7.1f}x")
    print(f"  audit vs hand pass: {full.seconds / sql.seconds:.1f}x wall, {full_cpu / sql_cpu:.1f}x CPU;"
          f" per phase (warm-up run, s): {phases}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats per figure (median)")
    repeats = parser.parse_args().repeats
    with private_workspace() as workspace:
        seed_duckdb(workspace.warehouse, workspace.settings, *SEASONS)
        measure("one season", workspace, *SEASON, repeats)
        measure("four seasons", workspace, *SEASONS, repeats)


if __name__ == "__main__":
    main()
