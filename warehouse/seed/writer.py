"""Write the generated seed into a DuckDB file and an export folder, replacing only what an earlier seed wrote."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from reporting.terminal import printable
from warehouse.catalog import ALL_TABLES, PREDICTIONS, Table
from warehouse.dialect import create_table_ddl, duckdb_type
from warehouse.errors import CouldNotRun
from warehouse.exports import GCS_SCHEME
from warehouse.seed.exports import Document
from warehouse.seed.faults import Fault, StagingTable
from warehouse.seed.gaps import Gap
from warehouse.seed.generator import DEFAULT_END, DEFAULT_SEED, DEFAULT_START, generate
from warehouse.seed.ownership import check_exports, check_warehouse, mark_warehouse, replace_exports
from warehouse.settings import Settings

_FRAME_VIEW = "seed_frame"


@dataclass(frozen=True)
class SeedReport:
    """What was seeded: rows per catalog table (qualified name), faults in range, staging tables (qualified)."""

    path: Path
    start: date
    end: date
    seed: int
    game_dates: int
    rows: dict[str, int]
    faults: tuple[Fault, ...]
    gaps: tuple[Gap, ...]
    staging_tables: tuple[str, ...]
    export_root: Path
    export_files: int


def seed_duckdb(
    path: Path,
    settings: Settings,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    seed: int = DEFAULT_SEED,
    force: bool = False,
) -> SeedReport:
    """Build the embedded warehouse from scratch at `path`, and its exports under the export root.

    Only what an earlier seed wrote is replaced (warehouse.seed.ownership; `force` replaces a warehouse
    file it did not make, and writes the exports beside files it did not write, never deleting them).
    The warehouse is written as a draft beside its target and moved over it only once complete, and the
    exports are all written before any is moved into place, so a bad date range or a failed write
    leaves the old warehouse and exports (or nothing) rather than half-written ones.
    """
    path = Path(path)
    if settings.export_root.startswith(GCS_SCHEME):
        raise CouldNotRun(
            f"seed writes local exports; the export root is {settings.export_root} (set NBA_DQ_EXPORT_ROOT to a folder)"
        )
    check_warehouse(path, settings.gx_root, force)
    owned = check_exports(Path(settings.export_root), settings.gx_root, force)
    data = generate(settings, start, end, seed)  # raises CouldNotRun before any file is touched
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as error:
        raise CouldNotRun(f"could not seed {printable(path)}: {error}") from error
    try:
        draft = workdir / path.name
        rows, staging = _write(draft, settings, data.frames, data.staging)
        stale_wal = path.with_name(path.name + ".wal")  # an old file's WAL would be replayed onto the new one
        stale_wal.unlink(missing_ok=True)
        mark_warehouse(path)
        os.replace(draft, path)
        replace_exports(owned, data.exports, _export_text)
    except (duckdb.Error, OSError) as error:
        raise CouldNotRun(f"could not seed {printable(path)}: {printable(error)}") from error
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return SeedReport(
        path=path,
        start=start,
        end=end,
        seed=seed,
        game_dates=data.game_dates,
        rows=rows,
        faults=data.faults,
        gaps=data.gaps,
        staging_tables=staging,
        export_root=owned.root,
        export_files=len(data.exports),
    )


def _export_text(document: Document) -> str:
    return json.dumps(document, indent=1) + "\n"


def _write(
    draft: Path, settings: Settings, frames: Mapping[str, pd.DataFrame], staging: tuple[StagingTable, ...]
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Schemas, catalog tables and staging tables in a fresh file; returns rows per table and staging names."""
    rows: dict[str, int] = {}
    staged: list[str] = []
    with duckdb.connect(str(draft)) as con:
        for dataset in dict.fromkeys(settings.datasets[table.dataset_role] for table in ALL_TABLES):
            con.execute(f"CREATE SCHEMA {dataset}")
        for table in ALL_TABLES:
            dataset = settings.datasets[table.dataset_role]
            con.execute(create_table_ddl(table, dataset))
            rows[f"{dataset}.{table.name}"] = _insert(con, f"{dataset}.{table.name}", table, frames[table.name])
        predictions_dataset = settings.datasets[PREDICTIONS.dataset_role]
        for staging_table in staging:
            con.execute(create_table_ddl(PREDICTIONS, predictions_dataset, name=staging_table.name))
            _insert(con, f"{predictions_dataset}.{staging_table.name}", PREDICTIONS, staging_table.frame)
            staged.append(f"{predictions_dataset}.{staging_table.name}")
        con.execute("CHECKPOINT")
    return rows, tuple(staged)


def _insert(con: duckdb.DuckDBPyConnection, qualified: str, table: Table, frame: pd.DataFrame) -> int:
    """Insert a frame set-wise, casting each column to the catalog's type.

    Timestamps are handed over as naive UTC and made TIMESTAMPTZ with timezone('UTC', ...): DuckDB needs
    pytz to scan tz-aware pandas columns, and a plain cast would read them in the session's time zone.
    """
    if frame.empty:
        return 0
    selects = []
    naive = frame.copy()
    for column, kind in table.columns.items():
        if kind == "TIMESTAMP":
            naive[column] = naive[column].dt.tz_convert("UTC").dt.tz_localize(None)
            selects.append(f"timezone('UTC', CAST({column} AS TIMESTAMP)) AS {column}")
        else:
            selects.append(f"CAST({column} AS {duckdb_type(kind)}) AS {column}")
    con.register(_FRAME_VIEW, naive[list(table.columns)])
    try:
        con.execute(f"INSERT INTO {qualified} SELECT {', '.join(selects)} FROM {_FRAME_VIEW}")
    finally:
        con.unregister(_FRAME_VIEW)
    return len(frame)
