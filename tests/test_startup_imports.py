"""Start-up guards: what the CLI has imported by the time it prints --help or issues its first statement.

Timing would be flaky on shared machines (bench/startup.py measures it); what a process has imported is
exact. Each case runs in a fresh interpreter, since this one has loaded everything long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Workspace
from warehouse.settings import PROJECT_ROOT

# What --help needs none of; GX and pandas are also what a command's preflight needs none of.
HEAVY = ("great_expectations", "pandas", "numpy", "scipy", "sqlalchemy", "pydantic", "duckdb", "google", "slack_sdk")
NOT_BEFORE_FIRST_STATEMENT = ("great_expectations", "pandas", "scipy", "slack_sdk", "google")
NO_GX = ("great_expectations", "scipy", "slack_sdk", "google")

# To the process's own stdout: a run redirects sys.stdout while it declares (GX's chatter).
# A package's name is in sys.modules once anything of it loaded (scipy.stats's stand-in is not scipy).
REPORT = "import json, sys; print(json.dumps(sorted(sys.modules)), file=sys.__stdout__)"

HELP = """
from runners.cli import main
try:
    main(ARGV)
except SystemExit:
    pass
REPORT
""".replace("REPORT", REPORT)

# The CLI with a listener on every SQLAlchemy engine: at the first statement, report and end the process.
FIRST_STATEMENT = """
import os, sqlalchemy, threading
reporting = threading.Lock()  # the audit's workers issue statements side by side: only the first reports
def first(*args):
    reporting.acquire()  # a later one waits here until os._exit ends the process
    REPORT
    sys.__stdout__.flush()
    os._exit(0)
sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", first)
from runners.cli import main
main(ARGV)
raise SystemExit("the command issued no SQL statement")
""".replace("REPORT", REPORT)


def _imported(code: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _imported(f"import runners.cli\n{REPORT}").isdisjoint(HEAVY)


SUBCOMMANDS = ("run", "seed", "demo", "docs", "health", "audit", "doctor")


@pytest.mark.parametrize("argv", [["--help"], *[[name, "--help"] for name in SUBCOMMANDS]])
def test_help_loads_no_heavy_library(argv: list[str]) -> None:
    imported = _imported(HELP.replace("ARGV", repr(argv)))
    assert "argparse" in imported and imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_a_usage_error_loads_no_heavy_library() -> None:
    imported = _imported(HELP.replace("ARGV", repr(["run", "--phase", "9", "--date", "2025-12-02"])))
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


@pytest.mark.parametrize(
    "argv, not_loaded",
    [
        (["run", "--phase", "5", "--date", "2025-12-02"], NOT_BEFORE_FIRST_STATEMENT),
        (["run", "--phase", "all", "--date", "2025-12-02"], NOT_BEFORE_FIRST_STATEMENT),
        (["doctor"], NOT_BEFORE_FIRST_STATEMENT),
        # Their figures are DataFrames: pandas is theirs from the start, GX only for the audit's validation.
        (["health", "--end", "2025-12-07"], NO_GX),
        (["audit", "--start", "2025-12-01", "--end", "2025-12-31"], NO_GX),
    ],
)
def test_first_statement_comes_before_gx(
    seeded: Workspace, tmp_path: Path, argv: list[str], not_loaded: tuple[str, ...]
) -> None:
    """The preflight (schema, games scheduled; doctor's warehouse probe) runs before the slow imports."""
    env = {**seeded.env, "NBA_DQ_GX_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"}
    (tmp_path / "great_expectations.yml").write_bytes((PROJECT_ROOT / "gx" / "great_expectations.yml").read_bytes())
    imported = _imported(FIRST_STATEMENT.replace("ARGV", repr(argv)), env)
    assert "sqlalchemy" in imported and imported.isdisjoint(not_loaded), sorted(imported & set(not_loaded))


def test_gx_loads_without_scipy_stats() -> None:
    """GX imports scipy.stats for checks nba-dq never declares: it loads on first use (expectations/lazy_scipy.py)."""
    imported = _imported(f"import checkpoints.actions, expectations.no_failing_rows\n{REPORT}")
    assert "great_expectations" in imported and "scipy.linalg" not in imported and "scipy.optimize" not in imported


def test_a_gx_check_using_scipy_stats_still_works() -> None:
    """The KL-divergence expectation computes scipy.stats.entropy: the stand-in loads the real module."""
    code = """
import json, sys
import checkpoints
import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
context = gx.get_context(mode="ephemeral")
asset = context.data_sources.add_pandas("frames").add_dataframe_asset("letters")
batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
    batch_parameters={"dataframe": pd.DataFrame({"x": ["a", "b", "a"]})}
)
check = gxe.ExpectColumnKLDivergenceToBeLessThan(
    column="x", partition_object={"values": ["a", "b"], "weights": [0.6, 0.4]}, threshold=0.1
)
result = batch.validate(check)
print(json.dumps([result.success, float(result.result["observed_value"])]), file=sys.__stdout__)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    success, observed = json.loads(done.stdout.strip().splitlines()[-1])
    assert success is True and observed == pytest.approx(0.0094665, abs=1e-6)


def test_gx_is_loaded_before_any_audit_worker_runs_phase_code(seeded: Workspace, tmp_path: Path) -> None:
    """The audit's workers compute phases' figures side by side and GX loads lazily: two threads importing
    GX for the first time at once failed phases with "partially initialized module" or a _DeadlockError.
    Each worker loads GX under one lock (expectations/gx_import.py) before its phase's code imports it."""
    code = """
import json, sys
import checkpoints.phases as phases
from dataclasses import replace
seen = {}
def watched(phase):
    def audit(request, settings, warehouse):
        seen[phase.checkpoint] = "great_expectations" in sys.modules
        return phase.audit(request, settings, warehouse)
    return audit
for key, phase in list(phases.PHASES.items()):
    if phase.audit is not None:
        phases.PHASES[key] = replace(phase, audit=watched(phase))
from runners.cli import main
main(["audit", "--start", "2025-12-01", "--end", "2025-12-03", "--json"])
print(json.dumps(seen), file=sys.__stdout__)
"""
    env = {**seeded.env, "NBA_DQ_GX_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"}
    (tmp_path / "great_expectations.yml").write_bytes((PROJECT_ROOT / "gx" / "great_expectations.yml").read_bytes())
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen and all(seen.values()), (seen, done.stderr[-2000:])
