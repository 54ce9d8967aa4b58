"""A broken gx/ folder: a stored result cut short, a read-only or full folder. The verdict still
comes out, one line says what could not be recorded, and nothing half-written is left behind."""

from __future__ import annotations

import pytest

from tests.conftest import Workspace

pytestmark = pytest.mark.acceptance
DAY = "2025-12-05"  # coverage_drop: phase 5 fails player_coverage
CLEAN_DAY = "2025-12-02"


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
