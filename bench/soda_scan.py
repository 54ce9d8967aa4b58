"""Soda Core scans of SodaCL check files, timed inside the Soda process (run by bench/soda_yardstick.py in Soda's venv).

Reads a JSON job on stdin: {"warehouse": path, "scans": [{"name", "sodacl", "repeats"}]}; each scan
runs once to warm up, then `repeats` times; prints JSON: per scan the median and each repeat's seconds
(wall and CPU, the Scan object built and executed) and each check's outcome. Stdlib and Soda only:
this runs in bench/.soda-venv, which has none of nba-dq's packages.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any


def scan_once(warehouse: str, sodacl: str) -> tuple[float, float, dict[str, str]]:
    from soda.scan import Scan

    started, cpu = time.perf_counter(), time.process_time()
    scan = Scan()
    scan.disable_telemetry()
    scan.set_data_source_name("nba")
    # Read-only: Soda never writes to the warehouse nba-dq checks.
    scan.add_configuration_yaml_str(
        f"data_source nba:\n  type: duckdb\n  path: {json.dumps(warehouse)}\n  read_only: true\n"
        "  schema: nba_predictions\n"
    )
    scan.add_sodacl_yaml_str(sodacl)
    scan.execute()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if scan.has_error_logs():
        raise SystemExit(f"soda scan errored: {scan.get_error_logs_text()}")
    outcomes = {check["name"]: check["outcome"] for check in scan.get_scan_results()["checks"]}
    return wall, cpu, outcomes


def main() -> None:
    job: dict[str, Any] = json.load(sys.stdin)
    results = {}
    for spec in job["scans"]:
        scan_once(job["warehouse"], spec["sodacl"])  # warm-up: imports, first connection, parser
        walls, cpus, outcomes = [], [], {}
        for _ in range(spec["repeats"]):
            wall, cpu, outcomes = scan_once(job["warehouse"], spec["sodacl"])
            walls.append(wall)
            cpus.append(cpu)
        results[spec["name"]] = {
            "wall": statistics.median(walls),
            "cpu": statistics.median(cpus),
            "outcomes": outcomes,
        }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
