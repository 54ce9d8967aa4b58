"""The deterministic seed of the embedded warehouse: a synthetic NBA season with each known fault on its date.

generator builds every table's rows date by date (engine-free) with predictions, features and outcomes
(box scores, grading); faults holds the catalogue of seeded incidents and *_faults the code that breaks
each phase's rows; writer puts the rows into a DuckDB file.
"""

from __future__ import annotations

from warehouse.seed.faults import FAULTS, PHASES, Fault, StagingTable, simulated_run_time
from warehouse.seed.gaps import GAPS, Gap
from warehouse.seed.generator import DEFAULT_END, DEFAULT_SEED, DEFAULT_START, SeedData, generate
from warehouse.seed.writer import SeedReport, seed_duckdb

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "FAULTS",
    "Fault",
    "GAPS",
    "Gap",
    "PHASES",
    "SeedData",
    "SeedReport",
    "StagingTable",
    "generate",
    "seed_duckdb",
    "simulated_run_time",
]
