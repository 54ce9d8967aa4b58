"""GX 1.24.1 needs warehouse/gx_duckdb.py on DuckDB: this fails if GX stops needing or accepting it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from great_expectations.execution_engine import sqlalchemy_execution_engine as gx_engine

from checkpoints.summary import raised_exception
from warehouse.gx_duckdb import enable_duckdb_in_gx


def _validate_row_count(tmp_path: Path) -> Any:
    import great_expectations as gx

    path = tmp_path / "tiny.duckdb"
    connection = duckdb.connect(str(path))
    connection.execute("CREATE TABLE t AS SELECT range AS i FROM range(5)")
    connection.close()
    context = gx.get_context(mode="ephemeral")
    datasource = context.data_sources.add_sql(
        name="tiny", connection_string=f"duckdb:///{path}", create_temp_table=False
    )
    batch = datasource.add_query_asset(name="t", query="SELECT i FROM t").add_batch_definition_whole_table("all")
    try:
        return batch.get_batch().validate(gx.expectations.ExpectTableRowCountToBeBetween(min_value=5, max_value=5))
    finally:
        datasource.get_execution_engine().close()


def test_gx_still_needs_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    without_duckdb = tuple(
        d for d in gx_engine._PERSISTED_CONNECTION_DIALECTS if str(getattr(d, "value", d)) != "duckdb"
    )
    monkeypatch.setattr(gx_engine, "_PERSISTED_CONNECTION_DIALECTS", without_duckdb)
    result = _validate_row_count(tmp_path)
    assert not result.success
    assert raised_exception(result.exception_info), "GX no longer needs the DuckDB fix: remove warehouse/gx_duckdb.py"


def test_gx_accepts_the_fix(tmp_path: Path) -> None:
    enable_duckdb_in_gx()
    result = _validate_row_count(tmp_path)
    assert raised_exception(result.exception_info) is None
    assert result.success and result.result["observed_value"] == 5


def test_the_fix_is_idempotent() -> None:
    enable_duckdb_in_gx()
    before = gx_engine._PERSISTED_CONNECTION_DIALECTS
    enable_duckdb_in_gx()
    assert gx_engine._PERSISTED_CONNECTION_DIALECTS == before
