"""The BigQuery history's replay logic with a stand-in client: the emulator ignores requested job ids
(see tests/test_bigquery_emulator.py::test_a_replayed_history_load_appends_once), so BigQuery's answer
to a duplicate job id, 409 Conflict, is played here by a client that keeps jobs by id as BigQuery does."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.api_core.exceptions import Conflict

import reporting.history_bigquery as history_bigquery
from reporting.history_bigquery import load_into_bigquery, load_job_id
from tests.conftest import make_workspace
from tests.test_history import made_rows
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings, load_settings

TABLE = "p.nba_monitoring.dq_check_results"


@dataclass
class Job:
    job_id: str
    state: str = "DONE"
    error: str | None = None

    def result(self, timeout: float | None = None) -> Job:
        if self.state != "DONE":
            raise TimeoutError(f"job {self.job_id} still running")
        if self.error:
            raise RuntimeError(self.error)
        return self


@dataclass
class Client:
    """BigQuery's rule for job ids: an id is taken once; submitting it again is 409 Conflict."""

    jobs: dict[str, Job] = field(default_factory=dict)
    appended: list[dict[str, Any]] = field(default_factory=list)
    next_job: Job | None = None  # how the next submitted job ends (default: DONE, rows appended)

    def create_dataset(self, dataset: str, exists_ok: bool = False) -> None:
        pass

    def load_table_from_json(self, rows: list[dict[str, Any]], table: str, job_config: Any, job_id: str) -> Job:
        if job_id in self.jobs:
            raise Conflict(f"Already Exists: Job p:{job_id}")
        job = self.jobs[job_id] = self.next_job or Job(job_id)
        job.job_id, self.next_job = job_id, None
        if job.state == "DONE" and not job.error:
            self.appended += rows
        return job

    def get_job(self, job_id: str) -> Job:
        return self.jobs[job_id]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Client:
    stand_in = Client()
    monkeypatch.setattr(history_bigquery, "bigquery_client", lambda settings, labels: stand_in)
    return stand_in


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    workspace = make_workspace(tmp_path, tmp_path / "unused.duckdb")  # a GX folder of its own
    return load_settings({**workspace.env, "NBA_DQ_WAREHOUSE": "bigquery://p", "NBA_DQ_EXPORT_ROOT": str(tmp_path)})


def test_a_replay_of_rows_already_loaded_submits_nothing_new(client: Client, settings: Settings) -> None:
    rows = made_rows("run-1")
    load_into_bigquery(settings, rows)
    load_into_bigquery(settings, rows)  # a run crashed before removing the pending file: the next replays it
    assert client.appended == rows and list(client.jobs) == [load_job_id(TABLE, rows, 0)]


def test_after_a_failed_load_job_the_next_id_of_the_sequence_is_used_and_found_again(
    client: Client, settings: Settings
) -> None:
    rows = made_rows("run-1")
    client.next_job = Job("", error="quota exceeded")
    with pytest.raises(CouldNotRun, match="quota exceeded"):
        load_into_bigquery(settings, rows)
    load_into_bigquery(settings, rows)  # the failed job appended nothing: attempt 1 appends
    load_into_bigquery(settings, rows)  # a replay walks 0 (failed), 1 (done): nothing new
    assert client.appended == rows
    assert list(client.jobs) == [load_job_id(TABLE, rows, 0), load_job_id(TABLE, rows, 1)]


def test_an_earlier_job_still_running_is_not_doubled(client: Client, settings: Settings) -> None:
    rows = made_rows("run-1")
    client.jobs[load_job_id(TABLE, rows, 0)] = Job(load_job_id(TABLE, rows, 0), state="RUNNING")
    with pytest.raises(CouldNotRun, match="still running"):
        load_into_bigquery(settings, rows)  # it may yet append: keep the rows pending, submit nothing
    assert client.appended == [] and len(client.jobs) == 1


def test_other_rows_get_other_ids() -> None:
    assert load_job_id(TABLE, made_rows("run-1"), 0) != load_job_id(TABLE, made_rows("run-2"), 0)
    assert load_job_id(TABLE, made_rows("run-1"), 0) == load_job_id(TABLE, made_rows("run-1"), 0)
