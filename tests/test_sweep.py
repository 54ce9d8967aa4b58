"""`nba-dq sweep`: phases whose processors never all reported, and rounds an instance abandoned, found
without any message: the real CLI on the seeded month, the state the push service wrote."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from reporting.history import read_history
from runners.completion import DONE, record_report
from runners.messages import Report, parse_envelope
from tests.conftest import Workspace
from tests.pubsub_push import CLOCK, GAME_DATE, PHASE3, Service, body, envelope, truthful
from tests.slack_server import SlackServer, slack_server

pytestmark = pytest.mark.slow
NO_GAMES = "2025-12-24"  # the seeded schedule's one date without games


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


def sweep(workspace: Workspace, now: str, *more: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    result = workspace.cli("sweep", "--date", GAME_DATE, "--now", now, "--json", *more, env=env)
    return result.code, result.json()


def phases(answer: dict) -> dict[str, dict]:
    return {phase["checkpoint"]: phase for phase in answer["phases"]}


def test_a_phase_missing_a_processor_is_overdue_after_the_window_reported_and_alerted(
    seeded: Workspace, slack: SlackServer
) -> None:
    env = {"SLACK_WEBHOOK_URL": slack.url()}
    service = Service(seeded, env=env)
    for name in PHASE3[:-1]:
        assert service.post(envelope(body(name)))[1]["outcome"] == "waiting"
    code, answer = sweep(seeded, "2025-12-31T15:00:00Z", env=env)  # 3 h after the first report: not yet
    assert phases(answer)["phase3"]["state"] == "waiting"
    assert phases(answer)["phase5"]["state"] == "overdue"  # nothing reported by 6 h after the date's run hour
    code, answer = sweep(seeded, "2025-12-31T18:00:01Z", env=env)
    phase3 = phases(answer)["phase3"]
    assert (code, phase3["state"], phase3["missing"]) == (1, "overdue", ["UpcomingTeamGameContextProcessor"])
    sql = "SELECT check_name, success FROM nba_monitoring.dq_check_results WHERE phase = 'phase3'"
    assert [tuple(row) for row in read_history(service.settings, sql, "test")] == [("could_not_run", False)]
    alerts = " ".join(str(message) for message in slack.messages())
    assert "UpcomingTeamGameContextProcessor" in alerts


def test_an_abandoned_round_is_run_by_the_sweep(seeded: Workspace) -> None:
    service = Service(seeded)
    parsed = parse_envelope(envelope(truthful(seeded, body("Phase6Export"))), {"Phase6Export": "phase6"})
    assert isinstance(parsed, Report)
    lease = timedelta(seconds=service.settings.state.lease_seconds)
    claimed = record_report(service.store, parsed, ["Phase6Export"], "killed-instance", CLOCK, lease)
    assert claimed.round == 1  # claimed, and its instance killed before it ran
    code, answer = sweep(seeded, "2025-12-31T12:10:00Z")
    assert phases(answer)["phase6"]["state"] == "running"  # younger than the lease: still its holder's
    code, answer = sweep(seeded, "2025-12-31T12:11:01Z")
    phase6 = phases(answer)["phase6"]
    assert (code, phase6["state"], phase6["run"]["verdict"]) == (1, "abandoned", "pass")
    [round_] = service.document("phase6")["rounds"]
    assert (round_["state"], round_["taken_over_from"]) == (DONE, "killed-instance")


def test_a_date_without_games_is_never_overdue(seeded: Workspace) -> None:
    result = seeded.cli("sweep", "--date", NO_GAMES, "--now", "2025-12-27T12:00:00Z", "--json")
    assert result.code == 0
    assert {phase["state"] for phase in result.json()["phases"]} == {"no_games"}


def test_a_sweep_that_cannot_reach_the_warehouse_exits_2(seeded: Workspace) -> None:
    missing = str(seeded.root / "gone.duckdb")
    result = seeded.cli("sweep", "--date", GAME_DATE, env={"NBA_DQ_WAREHOUSE": f"duckdb:///{missing}"})
    assert result.code == 2 and "gone.duckdb" in result.err
