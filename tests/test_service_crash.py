"""`nba-dq serve` killed with SIGKILL in the middle of a run, started again, the same push delivered
again (as Pub/Sub does when a push gets no answer): the run completes once. One set of history rows,
one alert (tests/slack_server.py counts what reached Slack), the abandoned claim taken over only after
its lease (`[state] lease_seconds`, small in a copied dq.toml).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from state.store import open_store
from tests.conftest import Workspace
from tests.platform_messages import phase_messages
from tests.service_process import ServiceProcess, history_runs, service_env
from tests.slack_server import HANGS, slack_server
from warehouse.settings import PROJECT_ROOT, Settings, load_settings

pytestmark = pytest.mark.acceptance

COVERAGE_DROP = "2025-12-05"  # Phase 5 fails there: its verdict alerts
LEASE_SECONDS, RUN_DEADLINE_SECONDS = 25, 20
CLAIMS = f"events/phase5/{COVERAGE_DROP}.json"  # the service's completion document for (phase5, date)


def short_lease_config(folder: Path) -> Path:
    config = folder / "dq.toml"
    text = (PROJECT_ROOT / "dq.toml").read_text()
    for key, value in (("lease_seconds", LEASE_SECONDS), ("run_deadline_seconds", RUN_DEADLINE_SECONDS)):
        assert f"\n{key} = " in text
        text = "\n".join(f"{key} = {value}" if line.startswith(f"{key} = ") else line for line in text.splitlines())
    config.write_text(text + "\n")
    return config


def wait_for_claim(store: object, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = store.read(CLAIMS)  # type: ignore[attr-defined]
        rounds = stored.document.get("rounds", []) if stored else []
        if rounds and rounds[-1]["state"] == "claimed":
            return dict(rounds[-1])
        time.sleep(0.02)
    raise AssertionError(f"no round of {CLAIMS} claimed within {timeout} s")


def deliver(service: ServiceProcess, data: bytes, answers: list[tuple[int, str]]) -> None:
    """A push whose answer may never come (the service is killed while it runs)."""
    try:
        answers.append(service.push(data, "m-1", timeout=120))
    except OSError:
        pass  # connection reset: Pub/Sub would see a failed push and redeliver


def test_a_service_killed_mid_run_completes_the_run_once_after_a_restart(scratch: Workspace, tmp_path: Path) -> None:
    [message] = phase_messages("5", COVERAGE_DROP)
    with slack_server() as slack:
        env = {**service_env(scratch.env, emulator_host=None, verdict_topic=None, slack_url=slack.url()),
               "NBA_DQ_CONFIG": str(short_lease_config(tmp_path))}  # fmt: skip
        store = open_store(load_settings(env))
        first = ServiceProcess(env, tmp_path / "service-1.log").start()
        answers: list[tuple[int, str]] = []
        delivery = threading.Thread(target=deliver, args=(first, message.data, answers))
        delivery.start()
        claimed = wait_for_claim(store)
        first.kill()  # mid-run: claimed, not finished
        delivery.join(timeout=60)
        assert all(status >= 500 for status, _ in answers)  # no answer (the connection dropped), or not a 2xx
        assert history_runs(load_settings(env), COVERAGE_DROP) == {}  # the killed run recorded nothing

        second = ServiceProcess(env, tmp_path / "service-2.log", port=first.port).start()
        try:
            statuses = []
            deadline = time.monotonic() + LEASE_SECONDS + 180
            while time.monotonic() < deadline:
                status, body = second.push(message.data, "m-1")  # the same delivery again
                statuses.append(status)
                if status < 300:
                    break
                time.sleep(2)  # busy (503) until the dead instance's lease has run out
            assert statuses[-1] < 300, (statuses, second.tail())
            again, _ = second.push(message.data, "m-1")  # and once more after it ran: a duplicate
        finally:
            second.stop()

    assert again < 300
    assert history_runs(load_settings(env), COVERAGE_DROP) == {"phase5": 1}
    assert [str(m["text"]).split(":")[0] for m in slack.messages()] == [f"nba-dq phase5 {COVERAGE_DROP}"]
    rounds = store.read(CLAIMS).document["rounds"]  # type: ignore[union-attr]
    assert [(r["round"], r["state"]) for r in rounds] == [(claimed["round"], "done")]
    assert rounds[0]["taken_over_from"] == claimed["owner"]


def test_a_service_killed_after_recording_its_verdict_appends_no_second_set_of_rows(
    scratch: Workspace, tmp_path: Path
) -> None:
    """The worst moment: the history rows are in, Slack is being sent (it hangs) and the round is not
    marked done. The round run again by the next instance appends no second set of rows (its history
    run id is the round's), and Slack gets the kept alert again, not a new incident."""
    [message] = phase_messages("5", COVERAGE_DROP)
    with slack_server() as slack:
        slack.replies.append(HANGS)  # the first alert never gets its answer
        env = {**service_env(scratch.env, emulator_host=None, verdict_topic=None, slack_url=slack.url()),
               "NBA_DQ_CONFIG": str(short_lease_config(tmp_path))}  # fmt: skip
        settings = load_settings(env)
        first = ServiceProcess(env, tmp_path / "service-1.log").start()
        answers: list[tuple[int, str]] = []
        delivery = threading.Thread(target=deliver, args=(first, message.data, answers))
        delivery.start()
        slack.wait_for_requests(1)  # recorded (the history comes first), alerting
        assert history_runs(settings, COVERAGE_DROP) == {"phase5": 1}
        first.kill()
        delivery.join(timeout=60)

        second = ServiceProcess(env, tmp_path / "service-2.log", port=first.port).start()
        try:
            deadline = time.monotonic() + LEASE_SECONDS + 180
            while (status := second.push(message.data, "m-1")[0]) >= 300 and time.monotonic() < deadline:
                time.sleep(2)  # busy until the dead instance's lease has run out
            assert status < 300, second.tail()
        finally:
            second.stop()

    assert history_runs(settings, COVERAGE_DROP) == {"phase5": 1}
    rows, checks = history_rows_and_checks(settings, COVERAGE_DROP)
    assert rows == checks  # one row per check: nothing appended twice
    titles = {str(request.json()["text"]).splitlines()[0] for request in slack.received}
    assert len(slack.received) == 2 and titles == {f"nba-dq phase5 {COVERAGE_DROP}: FAIL"}


def history_rows_and_checks(settings: Settings, game_date: str) -> tuple[int, int]:
    from reporting.history import read_history

    sql = (
        "SELECT COUNT(*), COUNT(DISTINCT check_name) FROM nba_monitoring.dq_check_results"
        f" WHERE game_date = DATE '{game_date}'"
    )
    [(rows, checks)] = read_history(settings, sql, "test")
    return int(rows), int(checks)
