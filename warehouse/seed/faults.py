"""The fault catalogue: each real incident the suite must catch, seeded on its own fixed game date.

Every other date is clean, so a test (or a data engineer reading Data Docs) can tell from the date alone
which checks of which checkpoint should fail. The handlers that break a date's rows live beside this
module: context_faults (Phase 3), feature_faults (4), prediction_faults (5), grading_faults (5B) and
export_faults (6).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType

import pandas as pd

from warehouse.catalog import FEATURE_VALUE_COLUMNS

PHASES = ("phase3", "phase4", "phase5", "phase5b", "phase6")  # checkpoint names, in pipeline order
RUN_HOUR_UTC = 18
UNPREDICTED_STATUSES = ("out", "doubtful")  # the coordinator never predicts these players; they never play
SILENT_SYSTEM_ID = "similarity_balanced_v1"
SHADOW_SYSTEM_ID = "catboost_v9_shadow"  # a model enabled in production by mistake
OUT_OF_RANGE_POINTS = (72.5, 64.0, -3.0)
COVERAGE_DROP_SHARE = 0.4
ORPHAN_AGE = timedelta(hours=3)
IN_FLIGHT_AGE = timedelta(minutes=10)
STAGING_ROWS = 4
THIN_TEAM_ROWS = 5
ZEROED_FEATURE = FEATURE_VALUE_COLUMNS[3]
FEATURE_GAP_SHARE = 0.3
BROKEN_GRADES = 3  # rows broken by grading_error_mismatch and grading_nan
INFLATION = (2.0, 4.0)
GRADED_SHARE = 0.5
EXPORT_DELAY = timedelta(minutes=15)  # exports are written this long before the run
STALE_EXPORT_AGE = timedelta(hours=30)
EXPORT_DROPPED_PLAYERS = 3
HALTED_GAME_PLAYERS = 5


@dataclass(frozen=True)
class Fault:
    """One seeded incident: what is wrong on which date, and per checkpoint the checks that must fail there."""

    name: str
    game_date: date
    summary: str
    failing: Mapping[str, frozenset[str]]  # checkpoint ("phase3", ...) -> failing checks; absent: all pass

    def __post_init__(self) -> None:
        unknown = sorted(set(self.failing) - set(PHASES))
        if unknown:
            raise ValueError(f"fault {self.name}: unknown checkpoint(s) {', '.join(unknown)}; use {', '.join(PHASES)}")
        read_only = MappingProxyType({phase: frozenset(checks) for phase, checks in self.failing.items() if checks})
        object.__setattr__(self, "failing", read_only)

    def __hash__(self) -> int:  # the mapping is not hashable; name and date identify a fault
        return hash((self.name, self.game_date))

    def failing_checks(self, phase: str = "phase5") -> frozenset[str]:
        """The checks of checkpoint `phase` that must fail on this fault's date (empty: all must pass)."""
        return self.failing.get(phase, frozenset())


@dataclass(frozen=True, eq=False)
class StagingTable:
    """A `_staging_*` table in the predictions dataset: its bare name and its predictions-shaped rows."""

    name: str
    frame: pd.DataFrame


FAULTS: tuple[Fault, ...] = (
    Fault(
        "context_team_missing",
        date(2025, 12, 4),
        "one game's context has only one team (the other team's rows never written), so those players get"
        " no features, predictions or grades; the game is then below the per-game row floor too",
        {"phase3": frozenset({"context_teams_complete", "context_players_per_game"})},
    ),
    Fault(
        "coverage_drop",
        date(2025, 12, 5),
        "~40% of the selected players have no prediction at all"
        " (mirrors 2025-12-29: 68 of 158 players written through a DML concurrency limit)",
        {"phase5": frozenset({"player_coverage"})},
    ),
    Fault(
        "context_players_too_low",
        date(2025, 12, 6),
        f"one game's context has {THIN_TEAM_ROWS} players per team, and only they are featured and predicted"
        " (mirrors Phase 3 producing 200 of 481 players)",
        {"phase3": frozenset({"context_teams_complete", "context_players_per_game"})},
    ),
    Fault(
        "export_file_missing",
        date(2025, 12, 7),
        "predictions/{date}.json was never written (the tonight file was): every predicted player is missing"
        " from the export",
        {"phase6": frozenset({"export_files_readable", "export_players_match_predictions"})},
    ),
    Fault(
        "duplicate_active_prediction",
        date(2025, 12, 8),
        "one (game_id, player_lookup, system_id) has a second active row with a line 1.0 higher"
        " (mirrors 2026-01-11: two concurrent consolidations); grading MERGEs by key and grades it once",
        {"phase5": frozenset({"active_key_unique"})},
    ),
    Fault(
        "context_duplicate_key",
        date(2025, 12, 9),
        "one context row written twice (same player_lookup, game_id); everything downstream is built"
        " from the de-duplicated context",
        {"phase3": frozenset({"context_key_unique"})},
    ),
    Fault(
        "consolidation_key_duplicate",
        date(2025, 12, 10),
        "an inactive copy of an active N.5-line row on the same consolidation key, beside a superseded"
        " N+1.0 row that only an INT64 cast would merge (mirrors the 2025-12-30/31 consolidation MERGE failures)",
        {"phase5": frozenset({"consolidation_key_unique"})},
    ),
    Fault(
        "export_game_without_players",
        date(2025, 12, 11),
        "the tonight file lists one game with no players (mirrors the tonight export published with games"
        " but no players); its predicted players are missing from the tonight file",
        {"phase6": frozenset({"export_no_empty_games", "export_players_per_game", "export_players_match_predictions"})},
    ),
    Fault(
        "orphaned_staging_table",
        date(2025, 12, 12),
        "a staging table of the date's batch created 3 h before the run"
        " (mirrors staging kept on purpose after a failed MERGE)",
        {"phase5": frozenset({"no_orphaned_staging_tables"})},
    ),
    Fault(
        "feature_all_zeros",
        date(2025, 12, 13),
        f"{ZEROED_FEATURE} is 0.0 on every feature-store row (mirrors a feature column all zeros for four months)",
        {"phase4": frozenset({"feature_columns_not_constant_zero"})},
    ),
    Fault(
        "export_players_differ",
        date(2025, 12, 14),
        f"predictions/{{date}}.json leaves out {EXPORT_DROPPED_PLAYERS} predicted players and lists one player"
        " with no active prediction",
        {"phase6": frozenset({"export_players_match_predictions"})},
    ),
    Fault(
        "staging_in_flight",
        date(2025, 12, 15),
        "a staging table created 10 min before the run: a batch in flight, not an orphan"
        " (guards the orphan check against false alarms)",
        {},
    ),
    Fault(
        "feature_store_gap",
        date(2025, 12, 16),
        f"{FEATURE_GAP_SHARE:.0%} of the production-ready players have no feature-store row"
        " (they are still predicted: the coordinator falls back to defaults)",
        {"phase4": frozenset({"feature_store_coverage"})},
    ),
    Fault(
        "export_stale",
        date(2025, 12, 17),
        f"both export files were generated {STALE_EXPORT_AGE.total_seconds() / 3600:.0f} h before the run"
        " (the export job stopped; an old file stayed published)",
        {"phase6": frozenset({"export_fresh"})},
    ),
    Fault(
        "zero_predictions",
        date(2025, 12, 18),
        "full slate and context but zero prediction rows, so nothing is gradable and the exports list every"
        " game without players (mirrors 2026-02-07/08: schema drift made 100% of writes fail)",
        {
            "phase5": frozenset(
                {
                    "active_prediction_count",
                    "predicted_player_count",
                    "player_coverage",
                    "system_coverage",
                    "active_prediction_volume",
                }
            ),
            "phase5b": frozenset({"grading_coverage"}),
            "phase6": frozenset({"export_no_empty_games", "export_players_per_game"}),
        },
    ),
    Fault(
        "export_halted_thin_game",
        date(2025, 12, 19),
        f"a halt is active (with its reason and time) and the tonight file lists {HALTED_GAME_PLAYERS} players"
        " for one game: allowed while halted (guards the per-game floor against false alarms)",
        {},
    ),
    Fault(
        "silent_system",
        date(2025, 12, 20),
        f"{SILENT_SYSTEM_ID} writes no predictions"
        " (mirrors the shadow models that produced almost nothing for two days, unnoticed)",
        {"phase5": frozenset({"system_coverage", "active_prediction_volume"})},
    ),
    Fault(
        "points_out_of_range",
        date(2025, 12, 22),
        "three active predictions at 72.5, 64.0 and -3.0 points, outside the platform's 0-60 clamp"
        " (mirrors grading's inflated predicted_points); grading grades them as they are",
        {"phase5": frozenset({"predicted_points_range"})},
    ),
    Fault(
        "grading_error_mismatch",
        date(2025, 12, 26),
        f"{BROKEN_GRADES} graded rows whose absolute_error and signed_error come from predicted_points inflated"
        " 2-4x while predicted_points itself is right (mirrors grading inflating predicted_points 2-4x)",
        {"phase5b": frozenset({"grading_errors_consistent"})},
    ),
    Fault(
        "shadow_system_volume",
        date(2025, 12, 27),
        f"an unexpected system, {SHADOW_SYSTEM_ID}, writes an active prediction for every predicted player:"
        " 20% more active rows, every floor, coverage and key still fine (only the volume check sees it)",
        {"phase5": frozenset({"active_prediction_volume"})},
    ),
    Fault(
        "grading_nan",
        date(2025, 12, 28),
        f"{BROKEN_GRADES} non-voided graded rows with NULL absolute_error and signed_error"
        " (grading computed NaN; NaN written to NUMERIC columns lands as NULL)",
        {"phase5b": frozenset({"grading_values_present"})},
    ),
    Fault(
        "grading_half_coverage",
        date(2025, 12, 30),
        "only half the gradable predictions are graded (mirrors the 6-day silent grading outage)",
        {"phase5b": frozenset({"grading_coverage"})},
    ),
)

FAULT_DATES: frozenset[date] = frozenset(fault.game_date for fault in FAULTS)


def simulated_run_time(game_date: date) -> datetime:
    """When the Phase 5 checkpoint runs for a date (18:00 UTC): staging ages are measured from here."""
    return datetime(game_date.year, game_date.month, game_date.day, RUN_HOUR_UTC, tzinfo=timezone.utc)


def new_prediction_id(rng: random.Random) -> str:
    """A uuid4 drawn from the seeded rng, so ids are as reproducible as the rest of the data."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
