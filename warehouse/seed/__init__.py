"""The deterministic seed of the embedded warehouse: a synthetic NBA season with each known fault on its date.

generator builds the rows (engine-free), faults holds the catalogue of seeded incidents, writer puts the
rows into a DuckDB file.
"""

from __future__ import annotations

from warehouse.seed.faults import FAULTS, Fault, StagingTable, simulated_run_time
from warehouse.seed.generator import DEFAULT_END, DEFAULT_SEED, DEFAULT_START, SeedData, generate
from warehouse.seed.writer import SeedReport, seed_duckdb

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "FAULTS",
    "Fault",
    "SeedData",
    "SeedReport",
    "StagingTable",
    "generate",
    "seed_duckdb",
    "simulated_run_time",
]
