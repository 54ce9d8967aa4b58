"""A broken gx/ folder: a stored result cut short, a read-only or full folder. The verdict still
comes out, one line says what could not be recorded, and nothing half-written is left behind."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from checkpoints.phases import AUDITED
from tests.conftest import CliResult, Workspace
from tests.slack_server import slack_server
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance
DAY = "2025-12-05"  # coverage_drop: phase 5 fails player_coverage
CLEAN_DAY = "2025-12-02"
ENTRY = "from runners.cli import entry; entry()"


def test_docs_builds_the_site_from_the_other_results_and_names_a_corrupt_one(scratch: Workspace) -> None:
    scratch.cli("run", "--phase", "5", "--date", CLEAN_DAY)
    scratch.cli("run", "--phase", "5", "--date", DAY)
    validations = scratch.root / "gx/uncommitted/validations"
    [cut_short] = validations.glob(f"phase5/player_prop_predictions/phase5-{DAY}/*/*.json")
    whole = cut_short.read_bytes()
    cut_short.write_bytes(whole[:300])  # a full disk stopped GX mid-write
    result = scratch.cli("docs")
    assert result.code == 0, result.err
    assert str(cut_short) in result.err and "JSONDecodeError" in result.err
    index = (scratch.root / "gx/uncommitted/data_docs/local_site/index.html").read_text()
    assert f"phase5-{CLEAN_DAY}" in index and f"phase5-{DAY}" in index  # the date's other table is still there
    assert not cut_short.exists()
    [kept] = (scratch.root / "gx/uncommitted/quarantine").glob(f"*-{cut_short.name}")
    assert kept.read_bytes() == whole[:300]
    doctor = {line["subject"]: line for line in scratch.cli("doctor", "--json").json()["checks"]}
    assert not doctor["state files"]["ok"] and cut_short.name in doctor["state files"]["detail"]


def run_unmountable(workspace: Workspace, setup: str, *argv: str, env: dict[str, str] | None = None) -> CliResult:
    """nba-dq in a mount namespace of its own (`unshare -m`), after `setup` mounted something over the
    gx/ folder; the mounts vanish with the process. Tests run as root, and root ignores permission
    bits: only a read-only mount or a full file system refuses it."""
    command = " ".join(shlex.quote(part) for part in (sys.executable, "-c", ENTRY, *argv))
    completed = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"{setup} && exec {command}"],
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", **workspace.env, **(env or {})},
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def read_only(folder: Path) -> str:
    return f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder}"


def full(folder: Path) -> str:
    """A 256 KB file system over the folder, filled up before nba-dq starts."""
    return f"mount -t tmpfs -o size=256k tmpfs {folder} && (head -c 1M /dev/zero > {folder}/filler 2>/dev/null; true)"


@pytest.fixture
def mounts(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    if subprocess.run(["unshare", "-m", "sh", "-c", read_only(probe)], capture_output=True).returncode != 0:
        pytest.skip("needs root and mount namespaces (unshare -m) to make a folder read-only or full for root")


def unrecorded_lines(result: CliResult) -> list[str]:
    return [line for line in result.err.splitlines() if line.startswith("nba-dq: results could not be recorded: ")]


def test_a_read_only_gx_folder_still_prints_and_alerts_the_verdict(scratch: Workspace, mounts: None) -> None:
    assert scratch.cli("run", "--phase", "5", "--date", CLEAN_DAY).code == 0  # the folder as production has it
    gx = scratch.root / "gx"
    before = sorted(gx.rglob("*"))
    history_before = (gx / "uncommitted/monitoring.duckdb").read_bytes()
    with slack_server() as slack:
        failed = run_unmountable(scratch, read_only(gx), "run", "--phase", "5", "--date", DAY,
                                 env={"SLACK_WEBHOOK_URL": slack.url()})  # fmt: skip
        alerts = slack.messages()
    assert failed.code == 1, failed.err  # the data failed: that verdict stands
    assert failed.out.startswith(f"phase5 {DAY}: FAIL") and "player_coverage (FAIL):" in failed.out
    [line] = unrecorded_lines(failed)
    assert "Read-only file system" in line and "validation results and Data Docs" in line and "history rows" in line
    # The verdict reaches Slack although neither the history nor the alert ledger can be written.
    assert any("player_coverage" in json.dumps(message) for message in alerts), failed.err
    passed = run_unmountable(scratch, read_only(gx), "run", "--phase", "5", "--date", CLEAN_DAY, "--json")
    assert passed.code == 2  # fail closed: a pass whose results are not kept is not a clean pass
    assert passed.json()["status"] == "pass" and len(unrecorded_lines(passed)) == 1
    health = run_unmountable(scratch, read_only(gx), "health", "--end", CLEAN_DAY, "--days", "1", "--json")
    assert health.code == 0, health.err
    assert health.json()["dates"][0]["latest_status"]["phase5"] == "pass" and health.json()["chart"] is None
    assert sorted(gx.rglob("*")) == before and (gx / "uncommitted/monitoring.duckdb").read_bytes() == history_before


def test_a_full_gx_folder_prints_the_verdict_and_leaves_nothing_half_written(
    scratch: Workspace, mounts: None, tmp_path: Path
) -> None:
    uncommitted = scratch.root / "gx" / "uncommitted"
    uncommitted.mkdir()
    listing = tmp_path / "left-behind.txt"
    setup = full(uncommitted)
    command = f"{setup} && {{ {sys.executable} -c {shlex.quote(ENTRY)} run --phase 5 --date {CLEAN_DAY} --json; rc=$?;"
    command += f" find {uncommitted} -type f > {listing}; exit $rc; }}"
    completed = subprocess.run(
        ["unshare", "-m", "sh", "-c", command], env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", **scratch.env},
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    result = CliResult(completed.returncode, completed.stdout, completed.stderr)
    assert result.code == 2 and result.json()["status"] == "pass"
    [line] = unrecorded_lines(result)
    assert "No space left on device" in line
    left = {Path(line).relative_to(uncommitted).as_posix() for line in listing.read_text().splitlines()}
    # No result, page or history file cut short: the filler, a lock and GX's (empty) store id only.
    assert left == {"filler", "monitoring.duckdb.lock", "validations/.ge_store_backend_id"}


@pytest.mark.parametrize(
    "content, reason",
    [("config_version: [\n", "great_expectations.yml is not valid YAML"), ("stores: 5\n", "AttributeError: ")],
    ids=["not YAML", "not a GX project (GX raises)"],
)
def test_a_corrupt_gx_project_file_is_recorded_and_alerted_as_could_not_run(
    scratch: Workspace, content: str, reason: str
) -> None:
    """Whatever a phase raises, ours or GX's, is a could-not-run verdict in the history and in Slack,
    never a crash that leaves no trace."""
    (scratch.root / "gx" / "great_expectations.yml").write_text(content)
    with slack_server() as slack:
        hook = {"SLACK_WEBHOOK_URL": slack.url()}
        result = scratch.cli("run", "--phase", "3", "--date", CLEAN_DAY, "--json", env=hook)
        alerts = slack.messages()
    assert result.code == 2
    assert result.json()["status"] == "error" and reason in result.json()["error"]
    assert [line for line in result.err.splitlines() if line.startswith("nba-dq: error:")] == [
        f"nba-dq: error: {result.json()['error']}"
    ]
    assert len(alerts) == 1 and reason in json.dumps(alerts[0])
    health = scratch.cli("health", "--end", CLEAN_DAY, "--days", "1", "--json").json()
    assert health["dates"][0]["latest_status"]["phase3"] == "error"


def test_a_read_only_gx_folder_still_prints_the_audit(scratch: Workspace, mounts: None) -> None:
    """The audit's verdict is its findings: pages and chart that cannot be written are named, not fatal."""
    gx = scratch.root / "gx"
    (gx / "uncommitted").mkdir(exist_ok=True)
    before = sorted(gx.rglob("*"))
    result = run_unmountable(scratch, read_only(gx), "audit", "--start", "2025-12-02", "--end", DAY, "--json")
    assert result.code == 1, result.err  # 12-04 and 12-05 carry faults
    report = result.json()
    assert [phase["error"] for phase in report["phases"]] == [None] * len(AUDITED)  # every audited phase ran
    assert DAY in next(p for p in report["phases"] if p["phase"] == "phase5")["failing_dates"]
    assert report["chart"] is None and "coverage chart not written: Read-only file system" in result.err
    assert sorted(gx.rglob("*")) == before
