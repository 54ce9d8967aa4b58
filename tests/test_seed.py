"""The seeded warehouse: deterministic, clean on clean dates, and each fault breaking exactly its checks.

The check semantics of every checkpoint (phase3, phase4, phase5, phase5b) are recomputed here in plain
SQL, independently of the GX suites, so a seed that stopped tripping (or started over-tripping) a check
shows up here first.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from runners.commands import fault_catalogue
from warehouse.catalog import (
    ALL_TABLES,
    FEATURE_COUNT,
    FEATURE_STORE,
    FEATURE_VALUE_COLUMNS,
    PARTITION_COLUMN,
    PLAYER_GAME_SUMMARY,
    PREDICTION_ACCURACY,
    PREDICTIONS,
    SCHEDULE,
    STAGING_TABLE_PREFIX,
    UPCOMING_CONTEXT,
    Table,
)
from warehouse.dialect import STAGING_NAME_PATTERN
from warehouse.errors import CouldNotRun
from warehouse.seed import (
    DEFAULT_END,
    DEFAULT_SEED,
    DEFAULT_START,
    FAULTS,
    GAPS,
    Fault,
    Gap,
    SeedReport,
    context_faults,
    export_faults,
    feature_faults,
    generate,
    grading_faults,
    prediction_faults,
    seed_duckdb,
    simulated_run_time,
)
from warehouse.seed.faults import PHASES
from warehouse.settings import PROJECT_ROOT, Settings, load_settings

P = PREDICTIONS.c
C = UPCOMING_CONTEXT.c
S = SCHEDULE.c
B = PLAYER_GAME_SUMMARY.c
F = FEATURE_STORE.c
G = PREDICTION_ACCURACY.c
FAULTS_BY_DATE = {fault.game_date: fault for fault in FAULTS}
FAULT = {fault.name: fault for fault in FAULTS}
DEFAULT_DATES = [DEFAULT_START + timedelta(days=n) for n in range((DEFAULT_END - DEFAULT_START).days + 1)]
NO_GAME_DATES = {date(2025, 12, 24)}
GAME_DATES = [day for day in DEFAULT_DATES if day not in NO_GAME_DATES]
CLEAN_DATES = [day for day in GAME_DATES if day not in FAULTS_BY_DATE]
SHORT_START, SHORT_END = date(2025, 12, 8), date(2025, 12, 12)
DIGEST = "md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)))"  # of a table aliased t
FEATURE_SOURCES = [getattr(F, f"feature_{n}_source") for n in range(FEATURE_COUNT)]
FEATURE_QUALITIES = [getattr(F, f"feature_{n}_quality") for n in range(FEATURE_COUNT)]
TIERS_BEST_FIRST = ("gold", "silver", "bronze", "poor", "critical")
# One xdist worker seeds `month` once for the module; `make check` leaves the module to `make test`.
pytestmark = [pytest.mark.xdist_group("seed-month"), pytest.mark.slow]


def expected_failures(day: date, phase: str) -> frozenset[str]:
    fault = FAULTS_BY_DATE.get(day)
    return fault.failing_checks(phase) if fault else frozenset()


CONTEXT_WHOLE_DATES = [day for day in GAME_DATES if not expected_failures(day, "phase3")]


def settings_at(folder: Path) -> Settings:
    """The project's settings with the seed's exports written under `folder` (never into the project)."""
    env = {"NBA_DQ_CONFIG": str(PROJECT_ROOT / "dq.toml"), "NBA_DQ_EXPORT_ROOT": str(folder / "exports" / "v1")}
    return load_settings(env=env)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The month's settings: its exports live in a folder of this module's own."""
    return settings_at(tmp_path_factory.mktemp("month-exports"))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> SeedReport:
    return seed_duckdb(tmp_path_factory.mktemp("month") / "warehouse.duckdb", settings)


@pytest.fixture(scope="module")
def con(month: SeedReport) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(month.path), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def t(settings: Settings) -> dict[str, str]:
    """Each catalog table's qualified name, by bare name."""
    return {table.name: qualified(settings, table) for table in ALL_TABLES}


def qualified(settings: Settings, table: Table) -> str:
    return f"{settings.datasets[table.dataset_role]}.{table.name}"


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return one(con, sql)[0]


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def none_of(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    """True when the query (rows that break a rule) returns no row."""
    return scalar(con, f"SELECT count(*) FROM ({sql})") == 0


def context_game_id(alias: str) -> str:
    """The context's `YYYYMMDD_AWAY_HOME` id of a schedule row."""
    return (
        f"strftime({alias}.{S.game_date}, '%Y%m%d') || '_' || {alias}.{S.away_team_tricode}"
        f" || '_' || {alias}.{S.home_team_tricode}"
    )


def phase3_checks(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> dict[str, bool]:
    th = settings.phase3
    context, box, schedule = (qualified(settings, table) for table in (UPCOMING_CONTEXT, PLAYER_GAME_SUMMARY, SCHEDULE))
    d = f"DATE '{day}'"
    ctx = f"SELECT * FROM {context} WHERE {C.game_date} = {d}"
    scores = f"SELECT * FROM {box} WHERE {B.game_date} = {d}"
    games = f"SELECT *, {context_game_id('s')} AS context_id FROM {schedule} s WHERE s.{S.game_date} = {d}"
    teams = (
        f"SELECT context_id, {S.home_team_tricode} AS team FROM ({games})"
        f" UNION ALL SELECT context_id, {S.away_team_tricode} FROM ({games})"
    )
    share = scalar(con, f"SELECT count(*) FILTER ({C.is_production_ready})::DOUBLE / NULLIF(count(*), 0) FROM ({ctx})")
    return {
        "context_teams_complete": none_of(
            con,
            f"SELECT 1 FROM ({teams}) t LEFT JOIN (SELECT {C.game_id}, {C.team_abbr},"
            f" count(DISTINCT {C.player_lookup}) AS players FROM ({ctx}) GROUP BY ALL) c"
            f" ON c.{C.game_id} = t.context_id AND c.{C.team_abbr} = t.team"
            f" WHERE coalesce(c.players, 0) < {th.min_players_per_team}",
        ),
        "context_players_per_game": none_of(
            con,
            f"SELECT 1 FROM ({ctx}) GROUP BY {C.game_id}"
            f" HAVING count(*) NOT BETWEEN {th.context_rows_per_game_min} AND {th.context_rows_per_game_max}",
        ),
        "context_key_unique": none_of(
            con, f"SELECT 1 FROM ({ctx}) GROUP BY {C.player_lookup}, {C.game_id} HAVING count(*) > 1"
        ),
        "context_keys_not_null": none_of(
            con,
            f"SELECT 1 FROM ({ctx}) WHERE {C.player_lookup} IS NULL OR {C.game_id} IS NULL OR {C.team_abbr} IS NULL",
        ),
        "production_ready_share": share is not None and share >= th.min_production_ready_share,
        "box_score_players_per_game": none_of(
            con,
            f"SELECT 1 FROM ({games}) g LEFT JOIN (SELECT {B.game_id}, count(*) AS players FROM ({scores})"
            f" GROUP BY 1) b ON b.{B.game_id} = g.context_id WHERE g.{S.game_status} = 3 AND coalesce(b.players, 0)"
            f" NOT BETWEEN {th.box_score_rows_per_game_min} AND {th.box_score_rows_per_game_max}",
        ),
        "box_score_key_unique": none_of(
            con, f"SELECT 1 FROM ({scores}) GROUP BY {B.player_lookup}, {B.game_id} HAVING count(*) > 1"
        ),
        "box_score_minutes_range": none_of(
            con, f"SELECT 1 FROM ({scores}) WHERE {B.minutes_played} NOT BETWEEN 0 AND {th.minutes_played_max}"
        ),
        "box_score_points_range": none_of(
            con, f"SELECT 1 FROM ({scores}) WHERE {B.points} NOT BETWEEN 0 AND {th.points_max}"
        ),
    }


def phase4_checks(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> dict[str, bool]:
    th = settings.phase4
    context, features = qualified(settings, UPCOMING_CONTEXT), qualified(settings, FEATURE_STORE)
    d = f"DATE '{day}'"
    rows = f"SELECT * FROM {features} WHERE {F.game_date} = {d}"
    coverage = scalar(
        con,
        f"SELECT count(f.{F.player_lookup})::DOUBLE / NULLIF(count(*), 0)"
        f" FROM (SELECT DISTINCT {C.player_lookup}, {C.game_id} FROM {context}"
        f"  WHERE {C.game_date} = {d} AND {C.is_production_ready}) e"
        f" LEFT JOIN (SELECT DISTINCT {F.player_lookup}, {F.game_id} FROM ({rows})) f"
        f" ON f.{F.player_lookup} = e.{C.player_lookup} AND f.{F.game_id} = e.{C.game_id}",
    )
    tiers = ", ".join(f"'{tier}'" for tier in th.quality_tiers)
    non_zero = ", ".join(f"count(*) FILTER ({column} <> 0)" for column in FEATURE_VALUE_COLUMNS)
    return {
        "feature_store_coverage": coverage is not None and coverage >= th.min_feature_store_coverage,
        "feature_key_unique": none_of(
            con,
            f"SELECT 1 FROM ({rows}) GROUP BY {F.player_lookup}, {F.game_id}, {F.feature_version} HAVING count(*) > 1",
        ),
        "feature_quality_score_range": none_of(
            con,
            f"SELECT 1 FROM ({rows}) WHERE {F.feature_quality_score}"
            f" NOT BETWEEN {th.feature_quality_score_min} AND {th.feature_quality_score_max}",
        ),
        "quality_tier_values": none_of(con, f"SELECT 1 FROM ({rows}) WHERE {F.quality_tier} NOT IN ({tiers})"),
        "feature_columns_not_constant_zero": min(one(con, f"SELECT {non_zero} FROM ({rows})")) > 0,
    }


def volume_within_trailing_bounds(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> bool:
    """Active rows per scheduled game within median +/- k MAD of the trailing game dates (if enough)."""
    th = settings.phase5
    per_date = con.execute(
        f"SELECT s.{S.game_date}, count(*) AS games, (SELECT count(*) FROM {qualified(settings, PREDICTIONS)} p"
        f" WHERE p.{P.game_date} = s.{S.game_date} AND p.{P.is_active}) AS active"
        f" FROM {qualified(settings, SCHEDULE)} s WHERE s.{S.game_date} BETWEEN DATE '{day - timedelta(days=60)}'"
        f" AND DATE '{day}' GROUP BY 1 ORDER BY 1 DESC"
    ).fetchall()
    today = [(games, active) for game_date, games, active in per_date if game_date == day]
    trailing = [active / games for game_date, games, active in per_date if game_date != day][: th.volume_trailing_dates]
    if len(trailing) < th.volume_min_history or not today:
        return True  # not judged
    median = statistics.median(trailing)
    mad = max(statistics.median([abs(value - median) for value in trailing]), 0.01 * median)
    games, active = today[0]
    return (median - th.volume_mad_k * mad) * games <= active <= (median + th.volume_mad_k * mad) * games


def phase5_checks(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> dict[str, bool]:
    th = settings.phase5
    predictions, context = qualified(settings, PREDICTIONS), qualified(settings, UPCOMING_CONTEXT)
    on_date = f"{P.game_date} = DATE '{day}'"
    active = f"{on_date} AND {P.is_active}"
    excluded = ", ".join(f"'{status}'" for status in th.coverage_excluded_statuses)
    key = f"{P.game_id}, {P.player_lookup}, {P.system_id}"
    coverage = scalar(
        con,
        f"SELECT count(a.{P.player_lookup})::DOUBLE / NULLIF(count(*), 0)"
        f" FROM (SELECT DISTINCT {C.player_lookup} FROM {context} WHERE {C.game_date} = DATE '{day}'"
        f"  AND {C.is_production_ready} AND {C.player_status} NOT IN ({excluded})) e"
        f" LEFT JOIN (SELECT DISTINCT {P.player_lookup} FROM {predictions} WHERE {active}) a"
        f" ON a.{P.player_lookup} = e.{C.player_lookup}",
    )
    players = scalar(con, f"SELECT count(DISTINCT {P.player_lookup}) FROM {predictions} WHERE {active}")
    per_system = dict(
        con.execute(
            f"SELECT {P.system_id}, count(DISTINCT {P.player_lookup}) FROM {predictions} WHERE {active} GROUP BY 1"
        ).fetchall()
    )
    era = settings.era_for(day).system_ids
    run_epoch = int(simulated_run_time(day).timestamp())
    staging_pattern = rf"^{STAGING_TABLE_PREFIX}[a-z]+_(\d{{4}}_\d{{2}}_\d{{2}})_(\d+)_"
    orphans = scalar(
        con,
        f"SELECT count(*) FROM information_schema.tables"
        f" WHERE table_schema = '{settings.datasets[PREDICTIONS.dataset_role]}'"
        f" AND starts_with(table_name, '{STAGING_TABLE_PREFIX}')"
        f" AND regexp_extract(table_name, '{staging_pattern}', 1) = '{day:%Y_%m_%d}'"
        f" AND ({run_epoch} - CAST(regexp_extract(table_name, '{staging_pattern}', 2) AS BIGINT)) / 60"
        f"  > {th.staging_grace_minutes}",
    )
    recommendations = ", ".join(f"'{value}'" for value in th.recommendations)
    rows = f"SELECT * FROM {predictions} WHERE {on_date}"
    return {
        "active_prediction_volume": volume_within_trailing_bounds(con, settings, day),
        "active_prediction_count": scalar(con, f"SELECT count(*) FROM {predictions} WHERE {active}")
        >= th.min_active_predictions,
        "predicted_player_count": players >= th.min_predicted_players,
        "player_coverage": coverage is not None and coverage >= th.min_player_coverage,
        "system_coverage": players > 0 and all(per_system.get(s, 0) / players >= th.min_system_coverage for s in era),
        "active_key_unique": none_of(
            con, f"SELECT 1 FROM {predictions} WHERE {active} GROUP BY {key} HAVING count(*) > 1"
        ),
        "consolidation_key_unique": none_of(
            con, f"SELECT 1 FROM ({rows}) GROUP BY {key}, {P.current_points_line} HAVING count(*) > 1"
        ),
        "no_orphaned_staging_tables": orphans == 0,
        "predicted_points_range": none_of(
            con,
            f"SELECT 1 FROM ({rows}) WHERE {P.predicted_points}"
            f" NOT BETWEEN {th.predicted_points_min} AND {th.predicted_points_max}",
        ),
        "confidence_score_range": none_of(
            con,
            f"SELECT 1 FROM ({rows}) WHERE {P.confidence_score}"
            f" NOT BETWEEN {th.confidence_score_min} AND {th.confidence_score_max}",
        ),
        "recommendation_values": none_of(
            con,
            f"SELECT 1 FROM ({rows}) WHERE {P.recommendation} IS NULL OR {P.recommendation} NOT IN ({recommendations})",
        ),
        "ids_not_null": none_of(
            con,
            f"SELECT 1 FROM ({rows}) WHERE {P.prediction_id} IS NULL"
            f" OR {P.system_id} IS NULL OR {P.player_lookup} IS NULL OR {P.game_id} IS NULL",
        ),
    }


def phase5b_checks(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> dict[str, bool]:
    th = settings.phase5b
    predictions, box, grading = (
        qualified(settings, table) for table in (PREDICTIONS, PLAYER_GAME_SUMMARY, PREDICTION_ACCURACY)
    )
    d = f"DATE '{day}'"
    active = f"SELECT * FROM {predictions} WHERE {P.game_date} = {d} AND {P.is_active}"
    graded = f"SELECT * FROM {grading} WHERE {G.game_date} = {d}"
    kept = f"SELECT * FROM ({graded}) WHERE NOT coalesce({G.is_voided}, FALSE)"
    gradable = (
        f"SELECT DISTINCT a.{P.player_lookup} AS player, a.{P.game_id} AS game, a.{P.system_id} AS system"
        f" FROM ({active}) a JOIN {box} b ON b.{B.game_date} = {d}"
        f" AND b.{B.player_lookup} = a.{P.player_lookup} AND b.{B.game_id} = a.{P.game_id}"
        f" WHERE a.{P.current_points_line} IS NOT NULL AND a.{P.current_points_line} <> {th.line_placeholder}"
        f" AND a.{P.invalidation_reason} IS NULL"
    )
    coverage = scalar(
        con,
        f"SELECT count(g.{G.player_lookup})::DOUBLE / NULLIF(count(*), 0) FROM ({gradable}) x"
        f" LEFT JOIN (SELECT DISTINCT {G.player_lookup}, {G.game_id}, {G.system_id} FROM ({graded})) g"
        f" ON g.{G.player_lookup} = x.player AND g.{G.game_id} = x.game AND g.{G.system_id} = x.system",
    )
    error = f"({G.predicted_points} - {G.actual_points})"
    no_bet = ", ".join(f"'{value}'" for value in th.no_bet_recommendations)
    return {
        "grading_coverage": coverage is not None and coverage >= th.min_grading_coverage,
        "grading_key_unique": none_of(
            con, f"SELECT 1 FROM ({graded}) GROUP BY {G.player_lookup}, {G.game_id}, {G.system_id} HAVING count(*) > 1"
        ),
        "grading_errors_consistent": none_of(
            con,
            f"SELECT 1 FROM ({kept}) WHERE abs({G.absolute_error} - abs({error})) > {th.error_tolerance}"
            f" OR abs({G.signed_error} - {error}) > {th.error_tolerance}",
        ),
        "grading_values_present": none_of(
            con,
            f"SELECT 1 FROM ({kept}) WHERE {G.actual_points} IS NULL OR {G.absolute_error} IS NULL"
            f" OR {G.signed_error} IS NULL",
        ),
        "prediction_correct_null_when_no_bet": none_of(
            con,
            f"SELECT 1 FROM ({graded}) WHERE {G.recommendation} IN ({no_bet}) AND {G.prediction_correct} IS NOT NULL",
        ),
        "grading_confidence_range": none_of(
            con,
            f"SELECT 1 FROM ({graded}) WHERE {G.confidence_score}"
            f" NOT BETWEEN {th.confidence_score_min} AND {th.confidence_score_max}",
        ),
        "graded_points_match_prediction": none_of(
            con,
            f"SELECT 1 FROM ({graded}) g WHERE NOT EXISTS (SELECT 1 FROM ({active}) a"
            f" WHERE a.{P.player_lookup} = g.{G.player_lookup} AND a.{P.game_id} = g.{G.game_id}"
            f" AND a.{P.system_id} = g.{G.system_id} AND a.{P.predicted_points} = g.{G.predicted_points})",
        ),
    }


def phase6_checks(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> dict[str, bool]:
    """Read with the json module and plain field names: an oracle independent of the suite's parser."""
    th = settings.phase6
    documents = {folder: read_document(settings, folder, day) for folder in ("predictions", "tonight")}
    readable = [document for document in documents.values() if document is not None]
    scheduled = [row[0] for row in con.execute(
        f"SELECT {S.game_id} FROM {qualified(settings, SCHEDULE)} WHERE {S.game_date} = DATE '{day}'"
    ).fetchall()]  # fmt: skip
    predicted = {row[0] for row in con.execute(
        f"SELECT DISTINCT {P.player_lookup} FROM {qualified(settings, PREDICTIONS)}"
        f" WHERE {P.game_date} = DATE '{day}' AND {P.is_active}"
    ).fetchall()}  # fmt: skip

    def players_per_game(document: dict[str, Any]) -> list[int]:
        listed = {game["game_id"]: {p["player_lookup"] for p in game["players"]} for game in document["games"]}
        return [len(listed.get(game_id, ())) for game_id in {*scheduled, *listed}]

    tonight, exported = documents["tonight"], documents["predictions"]
    run = simulated_run_time(day)
    hours = [(run - datetime.fromisoformat(document["generated_at"])).total_seconds() / 3600 for document in readable]
    return {
        "export_files_readable": len(readable) == 2,
        "export_halt_fields": all({"halt_active", "halt_reason", "halt_since"} <= set(d) for d in readable),
        "export_no_empty_games": all(min(players_per_game(d)) >= 1 for d in readable),
        "export_players_per_game": tonight is None
        or tonight["halt_active"]
        or min(players_per_game(tonight)) >= th.min_players_per_game,
        "export_players_match_predictions": predicted
        == {p["player_lookup"] for game in (exported or {"games": []})["games"] for p in game["players"]}
        and (
            tonight is None
            or tonight["halt_active"]
            or predicted == {p["player_lookup"] for game in tonight["games"] for p in game["players"]}
        ),
        "export_fresh": all(0 <= age <= th.max_export_age_hours for age in hours),
    }


def read_document(settings: Settings, folder: str, day: date) -> dict[str, Any] | None:
    path = Path(settings.export_root) / folder / f"{day}.json"
    return json.loads(path.read_text()) if path.is_file() else None


CHECKS: dict[str, Callable[[duckdb.DuckDBPyConnection, Settings, date], dict[str, bool]]] = {
    "phase3": phase3_checks,
    "phase4": phase4_checks,
    "phase5": phase5_checks,
    "phase5b": phase5b_checks,
    "phase6": phase6_checks,
}


def failing_checks(con: duckdb.DuckDBPyConnection, settings: Settings, day: date, phase: str) -> set[str]:
    """The checks of a checkpoint that fail for a date, each computed with the semantics the suite must have."""
    return {name for name, passed in CHECKS[phase](con, settings, day).items() if not passed}


def export_texts(root: Path) -> dict[str, str]:
    """Every export file under a root, by path relative to it."""
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*.json"))}


def table_digests(path: Path) -> dict[str, str]:
    """md5 of each table's sorted rows (every table in the file, staging included)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables ORDER BY 1"
        ).fetchall()
        return {name: scalar(connection, f"SELECT {DIGEST} FROM {name} t") for (name,) in names}


# --- the catalogue ---------------------------------------------------------------------------------------


def test_fault_catalogue_has_one_date_per_fault_inside_the_default_month() -> None:
    dates = [fault.game_date for fault in FAULTS]
    assert len(set(dates)) == len(dates)
    assert dates == sorted(dates)
    assert all(DEFAULT_START <= day <= DEFAULT_END for day in dates)
    assert len({fault.name for fault in FAULTS}) == len(FAULTS)
    assert len(CLEAN_DATES) >= 8 and {date(2025, 12, 2), date(2025, 12, 3)} <= set(CLEAN_DATES)  # used as clean
    assert all(sum(1 for day in GAME_DATES if not expected_failures(day, phase)) >= 20 for phase in PHASES)


def test_a_fault_lists_its_failing_checks_per_checkpoint() -> None:
    zero = FAULT["zero_predictions"]
    assert zero.failing_checks() == zero.failing_checks("phase5") >= {"player_coverage", "system_coverage"}
    assert zero.failing_checks("phase5b") == {"grading_coverage"}
    assert zero.failing_checks("phase3") == zero.failing_checks("phase4") == frozenset()
    assert FAULT["staging_in_flight"].failing == {}
    assert all(set(fault.failing) <= set(PHASES) and all(fault.failing.values()) for fault in FAULTS)
    with pytest.raises(TypeError):
        zero.failing["phase4"] = frozenset({"x"})  # type: ignore[index]
    with pytest.raises(ValueError, match="phase7"):
        Fault("x", DEFAULT_START, "x", {"phase7": frozenset({"x"})})
    assert len(set(FAULTS)) == len(FAULTS)


def test_every_fault_is_applied_by_exactly_one_phase() -> None:
    modules = (context_faults, feature_faults, prediction_faults, grading_faults, export_faults)
    handled = [module.HANDLED for module in modules]
    assert sorted(name for names in handled for name in names) == sorted(FAULT)


def test_fault_list_prints_each_checkpoints_failing_checks() -> None:
    lines = fault_catalogue().splitlines()
    zero = next(line for line in lines if " zero_predictions " in line)
    assert zero.endswith(
        "phase5: active_prediction_count, active_prediction_volume, player_coverage, predicted_player_count,"
        " system_coverage; phase5b: grading_coverage; phase6: export_no_empty_games, export_players_per_game"
    )
    assert next(line for line in lines if " staging_in_flight " in line).endswith("(none: must pass)")
    assert next(line for line in lines if " grading_nan " in line).endswith("phase5b: grading_values_present")


# --- determinism and the file ------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_another_seed_does_not(tmp_path: Path) -> None:
    seeded = {name: settings_at(tmp_path / name) for name in ("a", "b", "c")}
    settings = seeded["a"]
    first = seed_duckdb(tmp_path / "a.duckdb", settings, SHORT_START, SHORT_END)
    second = seed_duckdb(tmp_path / "b.duckdb", seeded["b"], SHORT_START, SHORT_END)
    other = seed_duckdb(tmp_path / "c.duckdb", seeded["c"], SHORT_START, SHORT_END, seed=DEFAULT_SEED + 1)
    assert first.rows == second.rows and first.staging_tables == second.staging_tables
    assert export_texts(first.export_root) == export_texts(second.export_root) != export_texts(other.export_root)
    assert table_digests(first.path) == table_digests(second.path)
    digests, other_digests = table_digests(first.path), table_digests(other.path)
    assert all(digests[qualified(settings, table)] != other_digests[qualified(settings, table)] for table in ALL_TABLES)


def test_a_dates_rows_do_not_depend_on_the_seeded_range(
    tmp_path: Path, settings: Settings, month: SeedReport, con: duckdb.DuckDBPyConnection
) -> None:
    short = seed_duckdb(tmp_path / "short.duckdb", settings_at(tmp_path), SHORT_END, SHORT_END)
    month_files = export_texts(month.export_root)
    assert export_texts(short.export_root) == {k: v for k, v in month_files.items() if str(SHORT_END) in k} != {}
    with duckdb.connect(str(short.path), read_only=True) as short_con:
        for table in ALL_TABLES:
            sql = f"SELECT {DIGEST} FROM {qualified(settings, table)} t WHERE {PARTITION_COLUMN} = DATE '{SHORT_END}'"
            assert scalar(short_con, sql) == scalar(con, sql), table.name
    assert short.staging_tables == tuple(name for name in month.staging_tables if f"{SHORT_END:%Y_%m_%d}" in name)


def test_report_counts_match_the_file(month: SeedReport, con: duckdb.DuckDBPyConnection) -> None:
    assert month.faults == FAULTS
    assert month.game_dates == len(GAME_DATES)
    for name, rows in month.rows.items():
        assert scalar(con, f"SELECT count(*) FROM {name}") == rows > 0
    assert len(month.rows) == len(ALL_TABLES)
    assert len(month.staging_tables) == 2
    for name in month.staging_tables:
        assert STAGING_NAME_PATTERN.match(name.split(".", 1)[1])
        assert scalar(con, f"SELECT count(*) FROM {name}") > 0


# --- every checkpoint on every date ------------------------------------------------------------------------


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("day", GAME_DATES, ids=str)
def test_date_fails_exactly_its_faults_checks(
    day: date, phase: str, settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    assert failing_checks(con, settings, day, phase) == expected_failures(day, phase)


# --- schedule and context ----------------------------------------------------------------------------------


def test_schedule_holiday_slates(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    schedule = t[SCHEDULE.name]
    per_day = dict(con.execute(f"SELECT {S.game_date}, count(*) FROM {schedule} GROUP BY 1").fetchall())
    assert date(2025, 12, 24) not in per_day
    assert per_day[date(2025, 12, 25)] == 5
    assert all(0 < count <= 15 for count in per_day.values())
    assert all(per_day[fault.game_date] >= 6 for fault in FAULTS)
    twice = f"""SELECT count(*) FROM (SELECT {S.game_date}, team FROM {schedule},
        unnest([{S.home_team_tricode}, {S.away_team_tricode}]) AS u(team) GROUP BY ALL HAVING count(*) > 1)"""
    assert scalar(con, twice) == 0
    malformed_ids = f"SELECT count(*) FROM {schedule} WHERE NOT regexp_full_match({S.game_id}, '00225\\d{{5}}')"
    assert scalar(con, malformed_ids) == 0
    assert scalar(con, f"SELECT count(*) FROM {schedule} WHERE {S.game_status} <> 3") == 0


@pytest.mark.parametrize("day", CONTEXT_WHOLE_DATES, ids=str)
def test_every_game_has_at_least_8_players_per_team(
    day: date, t: dict[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    games = scalar(con, f"SELECT count(*) FROM {t[SCHEDULE.name]} WHERE {S.game_date} = DATE '{day}'")
    sides = one(
        con,
        f"SELECT count(*), min(n) FROM (SELECT {C.game_id}, {C.team_abbr}, count(*) AS n"
        f" FROM {t[UPCOMING_CONTEXT.name]} WHERE {C.game_date} = DATE '{day}' GROUP BY ALL)",
    )
    assert sides[0] == 2 * games
    assert games == 0 or sides[1] >= 8


def test_context_team_missing_loses_one_team_downstream_but_not_in_the_box_score(
    t: dict[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    day = f"DATE '{FAULT['context_team_missing'].game_date}'"
    (game,) = con.execute(
        f"SELECT {C.game_id} FROM {t[UPCOMING_CONTEXT.name]} WHERE {C.game_date} = {day}"
        f" GROUP BY 1 HAVING count(DISTINCT {C.team_abbr}) < 2"
    ).fetchall()
    lost = (
        f"SELECT {B.player_lookup} FROM {t[PLAYER_GAME_SUMMARY.name]} WHERE {B.game_date} = {day}"
        f" AND {B.game_id} = '{game[0]}' AND {B.team_abbr} NOT IN (SELECT {C.team_abbr} FROM {t[UPCOMING_CONTEXT.name]}"
        f" WHERE {C.game_date} = {day} AND {C.game_id} = '{game[0]}')"
    )
    assert 9 <= scalar(con, f"SELECT count(*) FROM ({lost})") <= 15
    for table in (FEATURE_STORE, PREDICTIONS, PREDICTION_ACCURACY):
        column = table.c
        sql = f"SELECT count(*) FROM {t[table.name]} WHERE {column.game_date} = {day}"
        sql += f" AND {column.player_lookup} IN ({lost})"
        assert scalar(con, sql) == 0, table.name


def test_context_players_too_low_leaves_five_per_team_in_one_game(
    t: dict[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    day = f"DATE '{FAULT['context_players_too_low'].game_date}'"
    thin = con.execute(
        f"SELECT {C.game_id}, count(*) FROM {t[UPCOMING_CONTEXT.name]} WHERE {C.game_date} = {day}"
        f" GROUP BY 1 HAVING count(*) < 20"
    ).fetchall()
    assert len(thin) == 1 and thin[0][1] == 10
    per_team = (
        f"SELECT count(*) FROM {t[UPCOMING_CONTEXT.name]} WHERE {C.game_id} = '{thin[0][0]}' GROUP BY {C.team_abbr}"
    )
    assert [row[0] for row in con.execute(per_team).fetchall()] == [5, 5]
    box_rows = f"SELECT count(*) FROM {t[PLAYER_GAME_SUMMARY.name]} WHERE {B.game_id} = '{thin[0][0]}'"
    assert scalar(con, box_rows) >= 18


def test_context_duplicate_key_is_one_exact_copy(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    day = f"DATE '{FAULT['context_duplicate_key'].game_date}'"
    rows = f"SELECT * FROM {t[UPCOMING_CONTEXT.name]} WHERE {C.game_date} = {day}"
    assert (
        scalar(con, f"SELECT count(*) FROM ({rows})")
        - scalar(con, f"SELECT count(*) FROM (SELECT DISTINCT * FROM ({rows}))")
        == 1
    )
    keys = f"SELECT count(*) FROM (SELECT 1 FROM ({rows}) GROUP BY {C.player_lookup}, {C.game_id} HAVING count(*) > 1)"
    assert scalar(con, keys) == 1


def test_downstream_rows_belong_to_context_players(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    """Features, predictions and grades only for players Phase 3 wrote (so a lost player is lost downstream)."""
    for table in (FEATURE_STORE, PREDICTIONS, PREDICTION_ACCURACY):
        column = table.c
        orphans = (
            f"SELECT count(*) FROM {t[table.name]} x WHERE NOT EXISTS (SELECT 1 FROM {t[UPCOMING_CONTEXT.name]} c"
            f" WHERE c.{C.game_date} = x.{column.game_date} AND c.{C.player_lookup} = x.{column.player_lookup}"
            f" AND c.{C.game_id} = x.{column.game_id})"
        )
        assert scalar(con, orphans) == 0, table.name


# --- box scores --------------------------------------------------------------------------------------------


def test_box_scores_are_plausible(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    box = t[PLAYER_GAME_SUMMARY.name]
    per_team = f"SELECT {B.game_id}, {B.team_abbr}, count(*) AS n FROM {box} GROUP BY ALL"
    assert one(con, f"SELECT min(n), max(n) FROM ({per_team})") == (9, 15)
    teams_per_game = f"SELECT count(*) AS teams FROM ({per_team}) GROUP BY {B.game_id}"
    assert scalar(con, f"SELECT count(*) FROM ({teams_per_game}) WHERE teams <> 2") == 0
    misplaced = (
        f"SELECT count(*) FROM {box} b WHERE NOT EXISTS (SELECT 1 FROM {t[SCHEDULE.name]} s"
        f" WHERE {context_game_id('s')} = b.{B.game_id} AND s.{S.game_date} = b.{B.game_date}"
        f" AND ((b.{B.team_abbr}, b.{B.opponent_team_abbr}) = (s.{S.away_team_tricode}, s.{S.home_team_tricode})"
        f" OR (b.{B.team_abbr}, b.{B.opponent_team_abbr}) = (s.{S.home_team_tricode}, s.{S.away_team_tricode})))"
    )
    assert scalar(con, misplaced) == 0
    implausible = (
        f"SELECT count(*) FROM {box} WHERE {B.minutes_played} NOT BETWEEN 0 AND 48"
        f" OR round({B.minutes_played}, 1) <> {B.minutes_played} OR {B.points} NOT BETWEEN 0 AND 45"
        f" OR {B.three_pt_attempts} > {B.fg_attempts}"
        f" OR {B.ft_attempts} + 3 * {B.three_pt_attempts} + 2 * ({B.fg_attempts} - {B.three_pt_attempts}) < {B.points}"
        f" OR {B.usage_rate} NOT BETWEEN 5 AND 35 OR NOT {B.is_active} OR {B.is_dnp} OR {B.season_year} <> 2025"
    )
    assert scalar(con, implausible) == 0
    assert scalar(con, f"SELECT corr({B.points}, {B.minutes_played}) FROM {box}") > 0.5
    assert scalar(con, f"SELECT max({B.points}) FROM {box}") >= 30


def test_box_scores_come_from_context_players_who_could_play(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    dates = ", ".join(f"DATE '{day}'" for day in CONTEXT_WHOLE_DATES)
    outsiders = (
        f"SELECT count(*) FROM {t[PLAYER_GAME_SUMMARY.name]} b LEFT JOIN {t[UPCOMING_CONTEXT.name]} c"
        f" ON c.{C.game_date} = b.{B.game_date} AND c.{C.player_lookup} = b.{B.player_lookup}"
        f" AND c.{C.game_id} = b.{B.game_id} AND c.{C.team_abbr} = b.{B.team_abbr}"
        f" WHERE b.{B.game_date} IN ({dates})"
        f" AND (c.{C.player_lookup} IS NULL OR c.{C.player_status} IN ('out', 'doubtful'))"
    )
    assert scalar(con, outsiders) == 0


def test_nearly_every_predicted_player_played(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    predicted = (
        f"SELECT DISTINCT {P.game_date}, {P.player_lookup}, {P.game_id} FROM {t[PREDICTIONS.name]} WHERE {P.is_active}"
    )
    shares = con.execute(
        f"SELECT p.{P.game_date}, count(b.{B.player_lookup})::DOUBLE / count(*) FROM ({predicted}) p"
        f" LEFT JOIN {t[PLAYER_GAME_SUMMARY.name]} b ON b.{B.game_date} = p.{P.game_date}"
        f" AND b.{B.player_lookup} = p.{P.player_lookup} AND b.{B.game_id} = p.{P.game_id} GROUP BY 1"
    ).fetchall()
    assert len(shares) == len(GAME_DATES) - 1  # all but zero_predictions
    assert min(share for _, share in shares) >= 0.93
    assert sum(share for _, share in shares) / len(shares) >= 0.96


# --- features ----------------------------------------------------------------------------------------------


def test_feature_rows_are_plausible(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    features = t[FEATURE_STORE.name]
    defaults = " + ".join(f"({source} = 'default')::INT" for source in FEATURE_SOURCES)
    odd = " OR ".join(
        [f"{quality} NOT BETWEEN 0 AND 100" for quality in FEATURE_QUALITIES]
        + [f"{source} NOT IN ('phase4', 'phase3', 'default')" for source in FEATURE_SOURCES]
    )
    implausible = (
        f"SELECT count(*) FROM {features} WHERE {F.feature_version} <> 'v2_37features' OR {F.feature_count} <> 37"
        f" OR {F.feature_quality_score} NOT BETWEEN 50 AND 100 OR {F.default_feature_count} NOT BETWEEN 0 AND 3"
        f" OR {F.default_feature_count} <> {defaults} OR {odd}"
    )
    assert scalar(con, implausible) == 0
    assert scalar(con, f"SELECT avg({F.is_quality_ready}::INT) FROM {features}") >= 0.7
    nulls = " + ".join(f"count(*) FILTER ({value} IS NULL)" for value in FEATURE_VALUE_COLUMNS)
    assert scalar(con, f"SELECT {nulls} FROM {features}") > 0
    ready_mismatch = (
        f"SELECT count(*) FROM {features} f JOIN {t[UPCOMING_CONTEXT.name]} c ON c.{C.game_date} = f.{F.game_date}"
        f" AND c.{C.player_lookup} = f.{F.player_lookup} AND c.{C.game_id} = f.{F.game_id}"
        f" WHERE c.{C.is_production_ready} <> f.{F.is_production_ready}"
    )
    assert scalar(con, ready_mismatch) == 0
    assert scalar(con, f"SELECT count(*) FROM {features} WHERE NOT {F.is_production_ready}") > 0


def test_quality_tiers_follow_the_score(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    ranges = dict(
        (tier, (low, high))
        for tier, low, high in con.execute(
            f"SELECT {F.quality_tier}, min({F.feature_quality_score}), max({F.feature_quality_score})"
            f" FROM {t[FEATURE_STORE.name]} GROUP BY 1"
        ).fetchall()
    )
    present = [tier for tier in TIERS_BEST_FIRST if tier in ranges]
    assert set(ranges) == set(present) and len(present) >= 4
    assert all(ranges[better][0] > ranges[worse][1] for better, worse in zip(present, present[1:], strict=False))


@pytest.mark.parametrize("day", CLEAN_DATES, ids=str)
def test_clean_date_features_cover_every_ready_player_and_vary(
    day: date, t: dict[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    d = f"DATE '{day}'"
    uncovered = (
        f"SELECT count(*) FROM {t[UPCOMING_CONTEXT.name]} c WHERE c.{C.game_date} = {d} AND c.{C.is_production_ready}"
        f" AND NOT EXISTS (SELECT 1 FROM {t[FEATURE_STORE.name]} f WHERE f.{F.game_date} = {d}"
        f" AND f.{F.player_lookup} = c.{C.player_lookup} AND f.{F.game_id} = c.{C.game_id})"
    )
    assert scalar(con, uncovered) == 0
    distinct = ", ".join(f"count(DISTINCT {value})" for value in FEATURE_VALUE_COLUMNS)
    assert min(one(con, f"SELECT {distinct} FROM {t[FEATURE_STORE.name]} WHERE {F.game_date} = {d}")) > 1


def test_feature_faults(settings: Settings, t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    zeros = FAULT["feature_all_zeros"].game_date
    zeroed = FEATURE_VALUE_COLUMNS[3]
    values = f"SELECT DISTINCT {zeroed} FROM {t[FEATURE_STORE.name]} WHERE {F.game_date} = DATE '{zeros}'"
    assert con.execute(values).fetchall() == [(0.0,)]
    gap = FAULT["feature_store_gap"].game_date
    coverage = 1 - scalar(
        con,
        f"SELECT avg((f.{F.player_lookup} IS NULL)::INT) FROM {t[UPCOMING_CONTEXT.name]} c"
        f" LEFT JOIN {t[FEATURE_STORE.name]} f ON f.{F.game_date} = c.{C.game_date}"
        f" AND f.{F.player_lookup} = c.{C.player_lookup} AND f.{F.game_id} = c.{C.game_id}"
        f" WHERE c.{C.game_date} = DATE '{gap}' AND c.{C.is_production_ready}",
    )
    assert coverage == pytest.approx(0.7, abs=0.01)
    assert "player_coverage" not in failing_checks(con, settings, gap, "phase5")  # still predicted


# --- predictions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", CLEAN_DATES, ids=str)
def test_clean_date_has_a_pair_that_only_an_integer_cast_would_merge(
    day: date, t: dict[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    predictions = t[PREDICTIONS.name]
    line = P.current_points_line
    pairs = scalar(
        con,
        f"SELECT count(*) FROM {predictions} a"
        f" JOIN {predictions} o USING ({P.game_id}, {P.player_lookup}, {P.system_id})"
        f" WHERE a.{P.game_date} = DATE '{day}' AND o.{P.game_date} = DATE '{day}' AND a.{P.is_active}"
        f" AND NOT o.{P.is_active} AND abs(a.{line} - o.{line}) = 0.5 AND least(a.{line}, o.{line}) % 1 = 0.5"
        f" AND CAST(a.{line} AS BIGINT) = CAST(o.{line} AS BIGINT)",
    )
    assert pairs >= 1


@pytest.mark.parametrize("day", CLEAN_DATES, ids=str)
def test_clean_date_predicts_exactly_the_selected_players(
    day: date, settings: Settings, t: dict[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    context, predictions = t[UPCOMING_CONTEXT.name], t[PREDICTIONS.name]
    selected = {
        row[0]
        for row in con.execute(
            f"SELECT {C.player_lookup} FROM {context} WHERE {C.game_date} = DATE '{day}'"
            f" AND ({C.avg_minutes_per_game_last_7} >= 15 OR {C.has_prop_line} OR {C.is_production_ready})"
            f" AND {C.player_status} NOT IN ('out', 'doubtful')"
        ).fetchall()
    }
    predicted = con.execute(
        f"SELECT {P.player_lookup}, count(*) FROM {predictions} WHERE {P.game_date} = DATE '{day}' AND {P.is_active}"
        f" GROUP BY 1"
    ).fetchall()
    systems = len(settings.era_for(day).system_ids)
    assert {player for player, _ in predicted} == selected
    assert all(count == systems for _, count in predicted)
    mismatched_lines = scalar(
        con,
        f"SELECT count(*) FROM {predictions} p JOIN {context} c"
        f" ON c.{C.player_lookup} = p.{P.player_lookup} AND c.{C.game_id} = p.{P.game_id}"
        f" WHERE p.{P.game_date} = DATE '{day}' AND c.{C.game_date} = DATE '{day}' AND p.{P.is_active}"
        f" AND p.{P.current_points_line} IS DISTINCT FROM c.{C.current_points_line}",
    )
    assert mismatched_lines == 0


# --- grading -----------------------------------------------------------------------------------------------


def test_grades_copy_the_prediction_and_the_box_score(t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    grading = t[PREDICTION_ACCURACY.name]
    unmatched = (
        f"SELECT count(*) FROM {grading} g WHERE NOT EXISTS (SELECT 1 FROM {t[PREDICTIONS.name]} p"
        f" WHERE p.{P.game_date} = g.{G.game_date} AND p.{P.is_active} AND p.{P.player_lookup} = g.{G.player_lookup}"
        f" AND p.{P.game_id} = g.{G.game_id} AND p.{P.system_id} = g.{G.system_id}"
        f" AND p.{P.predicted_points} = g.{G.predicted_points} AND p.{P.current_points_line} = g.{G.line_value}"
        f" AND p.{P.recommendation} = g.{G.recommendation}"
        f" AND abs(p.{P.confidence_score} / 100 - g.{G.confidence_score}) <= 0.0006)"
        f" OR NOT EXISTS (SELECT 1 FROM {t[PLAYER_GAME_SUMMARY.name]} b WHERE b.{B.game_date} = g.{G.game_date}"
        f" AND b.{B.player_lookup} = g.{G.player_lookup} AND b.{B.game_id} = g.{G.game_id}"
        f" AND b.{B.points} = g.{G.actual_points})"
    )
    assert scalar(con, unmatched) == 0
    wrong = (
        f"SELECT count(*) FROM {grading} WHERE {G.is_voided} OR {G.void_reason} IS NOT NULL"
        f" OR epoch({G.graded_at}) <> epoch(CAST({G.game_date} + 1 AS TIMESTAMP)) + 8 * 3600"
        f" OR {G.prediction_correct} IS DISTINCT FROM CASE"
        f"  WHEN {G.recommendation} IN ('PASS', 'HOLD', 'NO_LINE') OR {G.actual_points} = {G.line_value} THEN NULL"
        f"  WHEN {G.recommendation} = 'OVER' THEN {G.actual_points} > {G.line_value}"
        f"  ELSE {G.actual_points} < {G.line_value} END"
    )
    assert scalar(con, wrong) == 0
    outcomes = dict(
        con.execute(
            f"SELECT coalesce({G.prediction_correct}::VARCHAR, 'null'), count(*) FROM {grading} GROUP BY 1"
        ).fetchall()
    )
    assert set(outcomes) == {"true", "false", "null"}
    pushes = f"SELECT count(*) FROM {grading} WHERE {G.actual_points} = {G.line_value}"
    pushes += f" AND {G.recommendation} IN ('OVER', 'UNDER')"
    assert scalar(con, pushes) > 0


@pytest.mark.parametrize("day", CLEAN_DATES, ids=str)
def test_clean_date_has_placeholder_lines_that_are_not_graded(
    day: date, t: dict[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    d = f"DATE '{day}'"
    placeholder = f"SELECT count(*) FROM {t[PREDICTIONS.name]} WHERE {P.game_date} = {d} AND {P.is_active}"
    placeholder += f" AND {P.current_points_line} = 20.0"
    assert scalar(con, placeholder) >= 1
    graded = f"SELECT count(*) FROM {t[PREDICTION_ACCURACY.name]} WHERE {G.game_date} = {d} AND {G.line_value} = 20.0"
    assert scalar(con, graded) == 0


def test_phase5_faults_are_graded_as_written(
    settings: Settings, t: dict[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    grading = t[PREDICTION_ACCURACY.name]
    zero = FAULT["zero_predictions"].game_date
    assert scalar(con, f"SELECT count(*) FROM {grading} WHERE {G.game_date} = DATE '{zero}'") == 0
    silent = FAULT["silent_system"].game_date
    systems = {
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT {G.system_id} FROM {grading} WHERE {G.game_date} = DATE '{silent}'"
        ).fetchall()
    }
    assert systems == set(settings.era_for(silent).system_ids) - {"similarity_balanced_v1"}
    out_of_range = FAULT["points_out_of_range"].game_date
    graded = f"SELECT count(*) FROM {grading} WHERE {G.game_date} = DATE '{out_of_range}'"
    graded += f" AND {G.predicted_points} NOT BETWEEN 0 AND 60"
    assert scalar(con, graded) >= 1
    duplicate = FAULT["duplicate_active_prediction"].game_date
    twice = (
        f"SELECT count(g.{G.player_lookup}) FROM (SELECT {P.player_lookup}, {P.game_id}, {P.system_id}"
        f" FROM {t[PREDICTIONS.name]}"
        f" WHERE {P.game_date} = DATE '{duplicate}' AND {P.is_active} GROUP BY ALL HAVING count(*) > 1) p"
        f" LEFT JOIN {grading} g ON g.{G.game_date} = DATE '{duplicate}' AND g.{G.player_lookup} = p.{P.player_lookup}"
        f" AND g.{G.game_id} = p.{P.game_id} AND g.{G.system_id} = p.{P.system_id}"
    )
    assert scalar(con, twice) <= 1


def test_grading_faults(settings: Settings, t: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    grading = t[PREDICTION_ACCURACY.name]
    mismatch = FAULT["grading_error_mismatch"].game_date
    inflation = [
        row[0]
        for row in con.execute(
            f"SELECT ({G.signed_error} + {G.actual_points}) / {G.predicted_points} FROM {grading}"
            f" WHERE {G.game_date} = DATE '{mismatch}'"
            f" AND abs({G.signed_error} - ({G.predicted_points} - {G.actual_points})) > 0.05"
        ).fetchall()
    ]
    assert len(inflation) == 3 and all(1.95 <= float(ratio) <= 4.05 for ratio in inflation)
    nan = FAULT["grading_nan"].game_date
    nulls = (
        f"SELECT count(*) FROM {grading} WHERE {G.game_date} = DATE '{nan}' AND NOT {G.is_voided}"
        f" AND {G.absolute_error} IS NULL AND {G.signed_error} IS NULL AND {G.actual_points} IS NOT NULL"
    )
    assert scalar(con, nulls) == 3
    half = FAULT["grading_half_coverage"].game_date
    predictions, box = t[PREDICTIONS.name], t[PLAYER_GAME_SUMMARY.name]
    gradable = scalar(
        con,
        f"SELECT count(*) FROM {predictions} p JOIN {box} b ON b.{B.game_date} = p.{P.game_date}"
        f" AND b.{B.player_lookup} = p.{P.player_lookup} AND b.{B.game_id} = p.{P.game_id}"
        f" WHERE p.{P.game_date} = DATE '{half}' AND p.{P.is_active} AND p.{P.current_points_line} <> 20.0",
    )
    graded = scalar(con, f"SELECT count(*) FROM {grading} WHERE {G.game_date} = DATE '{half}'")
    assert graded / gradable == pytest.approx(0.5, abs=0.01)


# --- odds and ends -----------------------------------------------------------------------------------------


def test_staging_tables_are_aged_from_the_simulated_run(month: SeedReport) -> None:
    ages = {}
    for name in month.staging_tables:
        match = STAGING_NAME_PATTERN.match(name.split(".", 1)[1])
        assert match is not None
        day = date(int(match[1]), int(match[2]), int(match[3]))
        ages[day] = simulated_run_time(day).timestamp() - int(match[4])
    assert ages == {date(2025, 12, 12): 3 * 3600, date(2025, 12, 15): 10 * 60}


def test_a_date_outside_every_era_could_not_run(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "warehouse.duckdb"
    with pytest.raises(CouldNotRun, match="2021-06-30"):  # the first era (backfill) starts 2021-07-01
        seed_duckdb(target, settings_at(tmp_path / "nested"), date(2021, 6, 30), date(2021, 7, 2))
    assert not target.exists() and not (tmp_path / "nested" / "exports").exists()


def test_seed_refuses_a_gcs_export_root(tmp_path: Path) -> None:
    env = {"NBA_DQ_CONFIG": str(PROJECT_ROOT / "dq.toml"), "NBA_DQ_EXPORT_ROOT": "gs://bucket/v1"}
    with pytest.raises(CouldNotRun, match="seed writes local exports"):
        seed_duckdb(tmp_path / "warehouse.duckdb", load_settings(env=env))
    assert list(tmp_path.iterdir()) == []


def test_reseeding_replaces_the_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    settings = settings_at(tmp_path)
    target = tmp_path / "warehouse.duckdb"
    seed_duckdb(target, settings, SHORT_START, SHORT_END)
    report = seed_duckdb(target, settings, SHORT_END, SHORT_END)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "warehouse.duckdb", "warehouse.duckdb.nba-dq-seed"]
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["v1"]
    assert sorted(p.name for p in report.export_root.iterdir()) == [".nba-dq-seed", "predictions", "tonight"]
    assert sorted(export_texts(report.export_root)) == [f"predictions/{SHORT_END}.json", f"tonight/{SHORT_END}.json"]
    with duckdb.connect(str(target), read_only=True) as connection:
        dates = connection.execute(f"SELECT DISTINCT {P.game_date} FROM {qualified(settings, PREDICTIONS)}").fetchall()
    assert dates == [(SHORT_END,)]
    assert report.faults == tuple(f for f in FAULTS if f.game_date == SHORT_END)


# --- exports -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", CLEAN_DATES[:3], ids=str)
def test_clean_exports_list_every_game_and_each_active_prediction(
    day: date, settings: Settings, month: SeedReport, con: duckdb.DuckDBPyConnection
) -> None:
    predictions, tonight = (read_document(settings, folder, day) for folder in ("predictions", "tonight"))
    assert predictions is not None and tonight is not None
    active = con.execute(
        f"SELECT {P.player_lookup}, {P.system_id}, CAST({P.predicted_points} AS DOUBLE) FROM"
        f" {qualified(settings, PREDICTIONS)} WHERE {P.game_date} = DATE '{day}' AND {P.is_active}"
    ).fetchall()
    exported = [
        (player["player_lookup"], prediction["system_id"], prediction["predicted_points"])
        for game in predictions["games"]
        for player in game["players"]
        for prediction in player["predictions"]
    ]
    assert sorted(exported) == sorted(active)
    games = scalar(con, f"SELECT count(*) FROM {qualified(settings, SCHEDULE)} WHERE {S.game_date} = DATE '{day}'")
    assert len(predictions["games"]) == len(tonight["games"]) == games
    for document in (predictions, tonight):
        assert (document["halt_active"], document["halt_reason"], document["halt_since"]) == (False, None, None)
        assert datetime.fromisoformat(document["generated_at"]) == simulated_run_time(day) - timedelta(minutes=15)
    assert min(len(game["players"]) for game in tonight["games"]) >= settings.phase6.min_players_per_game
    assert month.export_files == 2 * len(GAME_DATES) - 1  # export_file_missing


def test_export_faults_break_only_the_files(settings: Settings) -> None:
    missing = FAULT["export_file_missing"].game_date
    assert read_document(settings, "predictions", missing) is None
    assert read_document(settings, "tonight", missing) is not None
    halted = read_document(settings, "tonight", FAULT["export_halted_thin_game"].game_date)
    assert halted is not None and halted["halt_active"] and halted["halt_reason"] and halted["halt_since"]
    assert min(len(game["players"]) for game in halted["games"]) == 5
    assert read_document(settings, "predictions", FAULT["export_halted_thin_game"].game_date)["halt_active"]


# --- gaps --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gap", GAPS, ids=lambda gap: gap.name)
def test_a_gap_drops_what_its_phases_write_and_keeps_the_rest(gap: Gap, tmp_path: Path) -> None:
    """Around the gap's first day: before it every table has rows; on it only the phases' tables are empty."""
    from warehouse.seed.gaps import WRITTEN_BY

    before, first = gap.start - timedelta(days=1), gap.start
    data = generate(settings_at(tmp_path), before, first)
    assert {g.name for g in data.gaps} == {gap.name}
    lost = {table for phase in gap.lost_phases for table in WRITTEN_BY[phase]}
    for name, frame in data.frames.items():
        days = set(frame["game_date"])
        assert before in days, name
        assert (first in days) == (name not in lost), name
    exported = {path for path in data.exports if str(first) in path}
    assert (not exported) == ("phase6" in gap.lost_phases)
