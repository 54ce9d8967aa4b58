"""The seeded warehouse: deterministic, clean on clean dates, and each fault breaking exactly its checks.

The Phase 5 check semantics are recomputed here in plain SQL, independently of the GX suites, so a
seed that stopped tripping (or started over-tripping) a check shows up here first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from warehouse.catalog import PARTITION_COLUMN, PREDICTIONS, SCHEDULE, STAGING_TABLE_PREFIX, UPCOMING_CONTEXT, Table
from warehouse.dialect import STAGING_NAME_PATTERN
from warehouse.errors import CouldNotRun
from warehouse.seed import (
    DEFAULT_END,
    DEFAULT_SEED,
    DEFAULT_START,
    FAULTS,
    Fault,
    SeedReport,
    seed_duckdb,
    simulated_run_time,
)
from warehouse.settings import PROJECT_ROOT, Settings, load_settings

P = PREDICTIONS.c
C = UPCOMING_CONTEXT.c
S = SCHEDULE.c
FAULTS_BY_DATE = {fault.game_date: fault for fault in FAULTS}
DEFAULT_DATES = [DEFAULT_START + timedelta(days=n) for n in range((DEFAULT_END - DEFAULT_START).days + 1)]
NO_GAME_DATES = {date(2025, 12, 24)}
CLEAN_DATES = [day for day in DEFAULT_DATES if day not in FAULTS_BY_DATE and day not in NO_GAME_DATES]
SHORT_START, SHORT_END = date(2025, 12, 8), date(2025, 12, 12)
DIGEST = "md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)))"  # of a table aliased t


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(env={"NBA_DQ_CONFIG": str(PROJECT_ROOT / "dq.toml")})


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> SeedReport:
    return seed_duckdb(tmp_path_factory.mktemp("month") / "warehouse.duckdb", settings)


@pytest.fixture(scope="module")
def con(month: SeedReport) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(month.path), read_only=True) as connection:
        yield connection


def qualified(settings: Settings, table: Table) -> str:
    return f"{settings.datasets[table.dataset_role]}.{table.name}"


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def failing_checks(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> set[str]:
    """The Phase 5 checks that fail for a date, each computed with the semantics the suite must have."""
    t = settings.phase5
    predictions, context = qualified(settings, PREDICTIONS), qualified(settings, UPCOMING_CONTEXT)
    on_date = f"{P.game_date} = DATE '{day}'"
    active = f"{on_date} AND {P.is_active}"
    excluded = ", ".join(f"'{status}'" for status in t.coverage_excluded_statuses)
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
        f"  > {t.staging_grace_minutes}",
    )
    recommendations = ", ".join(f"'{value}'" for value in t.recommendations)
    checks = {
        "active_prediction_count": scalar(con, f"SELECT count(*) FROM {predictions} WHERE {active}")
        >= t.min_active_predictions,
        "predicted_player_count": players >= t.min_predicted_players,
        "player_coverage": coverage is not None and coverage >= t.min_player_coverage,
        "system_coverage": players > 0 and all(per_system.get(s, 0) / players >= t.min_system_coverage for s in era),
        "active_key_unique": scalar(
            con, f"SELECT count(*) FROM (SELECT 1 FROM {predictions} WHERE {active} GROUP BY {key} HAVING count(*) > 1)"
        )
        == 0,
        "consolidation_key_unique": scalar(
            con,
            f"SELECT count(*) FROM (SELECT 1 FROM {predictions} WHERE {on_date}"
            f" GROUP BY {key}, {P.current_points_line} HAVING count(*) > 1)",
        )
        == 0,
        "no_orphaned_staging_tables": orphans == 0,
        "predicted_points_range": scalar(
            con,
            f"SELECT count(*) FROM {predictions} WHERE {on_date}"
            f" AND {P.predicted_points} NOT BETWEEN {t.predicted_points_min} AND {t.predicted_points_max}",
        )
        == 0,
        "confidence_score_range": scalar(
            con,
            f"SELECT count(*) FROM {predictions} WHERE {on_date}"
            f" AND {P.confidence_score} NOT BETWEEN {t.confidence_score_min} AND {t.confidence_score_max}",
        )
        == 0,
        "recommendation_values": scalar(
            con,
            f"SELECT count(*) FROM {predictions} WHERE {on_date}"
            f" AND ({P.recommendation} IS NULL OR {P.recommendation} NOT IN ({recommendations}))",
        )
        == 0,
        "ids_not_null": scalar(
            con,
            f"SELECT count(*) FROM {predictions} WHERE {on_date} AND ({P.prediction_id} IS NULL"
            f" OR {P.system_id} IS NULL OR {P.player_lookup} IS NULL OR {P.game_id} IS NULL)",
        )
        == 0,
    }
    return {name for name, passed in checks.items() if not passed}


def table_digests(path: Path) -> dict[str, str]:
    """md5 of each table's sorted rows (every table in the file, staging included)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables ORDER BY 1"
        ).fetchall()
        return {name: scalar(connection, f"SELECT {DIGEST} FROM {name} t") for (name,) in names}


def test_fault_catalogue_has_one_date_per_fault_inside_the_default_month() -> None:
    dates = [fault.game_date for fault in FAULTS]
    assert len(set(dates)) == len(dates)
    assert dates == sorted(dates)
    assert all(DEFAULT_START <= day <= DEFAULT_END for day in dates)
    assert len({fault.name for fault in FAULTS}) == len(FAULTS)


def test_same_seed_gives_identical_tables_and_another_seed_does_not(tmp_path: Path, settings: Settings) -> None:
    first = seed_duckdb(tmp_path / "a.duckdb", settings, SHORT_START, SHORT_END)
    second = seed_duckdb(tmp_path / "b.duckdb", settings, SHORT_START, SHORT_END)
    other = seed_duckdb(tmp_path / "c.duckdb", settings, SHORT_START, SHORT_END, seed=DEFAULT_SEED + 1)
    assert first.rows == second.rows and first.staging_tables == second.staging_tables
    assert table_digests(first.path) == table_digests(second.path)
    digests, other_digests = table_digests(first.path), table_digests(other.path)
    catalog_tables = [qualified(settings, table) for table in (SCHEDULE, UPCOMING_CONTEXT, PREDICTIONS)]
    assert all(digests[name] != other_digests[name] for name in catalog_tables)


def test_a_dates_rows_do_not_depend_on_the_seeded_range(
    tmp_path: Path, settings: Settings, month: SeedReport, con: duckdb.DuckDBPyConnection
) -> None:
    short = seed_duckdb(tmp_path / "short.duckdb", settings, SHORT_END, SHORT_END)
    with duckdb.connect(str(short.path), read_only=True) as short_con:
        for table in (SCHEDULE, UPCOMING_CONTEXT, PREDICTIONS):
            sql = f"SELECT {DIGEST} FROM {qualified(settings, table)} t WHERE {PARTITION_COLUMN} = DATE '{SHORT_END}'"
            assert scalar(short_con, sql) == scalar(con, sql), table.name
    assert short.staging_tables == tuple(name for name in month.staging_tables if f"{SHORT_END:%Y_%m_%d}" in name)


def test_report_counts_match_the_file(month: SeedReport, con: duckdb.DuckDBPyConnection) -> None:
    assert month.faults == FAULTS
    assert month.game_dates == len(DEFAULT_DATES) - len(NO_GAME_DATES)
    for name, rows in month.rows.items():
        assert scalar(con, f"SELECT count(*) FROM {name}") == rows > 0
    assert len(month.staging_tables) == 2
    for name in month.staging_tables:
        assert STAGING_NAME_PATTERN.match(name.split(".", 1)[1])
        assert scalar(con, f"SELECT count(*) FROM {name}") > 0


def test_schedule_holiday_slates(settings: Settings, con: duckdb.DuckDBPyConnection) -> None:
    schedule = qualified(settings, SCHEDULE)
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


@pytest.mark.parametrize("day", DEFAULT_DATES, ids=str)
def test_every_game_has_at_least_8_players_per_team(
    day: date, settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    context, schedule = qualified(settings, UPCOMING_CONTEXT), qualified(settings, SCHEDULE)
    games = scalar(con, f"SELECT count(*) FROM {schedule} WHERE {S.game_date} = DATE '{day}'")
    sides = con.execute(
        f"SELECT count(*), min(n) FROM (SELECT {C.game_id}, {C.team_abbr}, count(*) AS n FROM {context}"
        f" WHERE {C.game_date} = DATE '{day}' GROUP BY ALL)"
    ).fetchone()
    assert sides[0] == 2 * games
    assert games == 0 or sides[1] >= 8


@pytest.mark.parametrize("day", CLEAN_DATES, ids=str)
def test_clean_date_passes_every_check(day: date, settings: Settings, con: duckdb.DuckDBPyConnection) -> None:
    assert failing_checks(con, settings, day) == set()


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
def test_fault_date_fails_exactly_its_checks(fault: Fault, settings: Settings, con: duckdb.DuckDBPyConnection) -> None:
    assert failing_checks(con, settings, fault.game_date) == fault.failing_checks


@pytest.mark.parametrize("day", CLEAN_DATES, ids=str)
def test_clean_date_has_a_pair_that_only_an_integer_cast_would_merge(
    day: date, settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    predictions = qualified(settings, PREDICTIONS)
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
    day: date, settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    context, predictions = qualified(settings, UPCOMING_CONTEXT), qualified(settings, PREDICTIONS)
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


def test_staging_tables_are_aged_from_the_simulated_run(month: SeedReport) -> None:
    ages = {}
    for name in month.staging_tables:
        match = STAGING_NAME_PATTERN.match(name.split(".", 1)[1])
        day = date(int(match[1]), int(match[2]), int(match[3]))
        ages[day] = simulated_run_time(day).timestamp() - int(match[4])
    assert ages == {date(2025, 12, 12): 3 * 3600, date(2025, 12, 15): 10 * 60}


def test_a_date_outside_every_era_could_not_run(tmp_path: Path, settings: Settings) -> None:
    target = tmp_path / "nested" / "warehouse.duckdb"
    with pytest.raises(CouldNotRun, match="2025-09-30"):
        seed_duckdb(target, settings, date(2025, 9, 30), date(2025, 10, 2))
    assert not target.exists()


def test_reseeding_replaces_the_file_and_leaves_nothing_behind(tmp_path: Path, settings: Settings) -> None:
    target = tmp_path / "warehouse.duckdb"
    seed_duckdb(target, settings, SHORT_START, SHORT_END)
    report = seed_duckdb(target, settings, SHORT_END, SHORT_END)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]
    with duckdb.connect(str(target), read_only=True) as connection:
        dates = connection.execute(f"SELECT DISTINCT {P.game_date} FROM {qualified(settings, PREDICTIONS)}").fetchall()
    assert dates == [(SHORT_END,)]
    assert report.faults == tuple(f for f in FAULTS if f.game_date == SHORT_END)
