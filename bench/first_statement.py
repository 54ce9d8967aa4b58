"""Runs the `nba-dq` CLI in this process and notes when its first SQL statement starts (bench/startup.py).

`python -m bench.first_statement ARGS...` is `nba-dq ARGS...` with one listener on SQLAlchemy's engines:
at the first statement it writes, to the file named by NBA_DQ_BENCH_OUT, the seconds since the parent's
CLOCK_MONOTONIC reading in NBA_DQ_BENCH_STARTED (so process creation and interpreter start count) and
this process's CPU seconds so far. With NBA_DQ_BENCH_EXIT_AT_FIRST=1 the process then ends at once:
what comes after the first statement is not start-up. SQLAlchemy is imported here first; every command
measured imports it before its first statement anyway, so the figure is the same as without the probe.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any

import sqlalchemy as sa

STARTED = "NBA_DQ_BENCH_STARTED"
OUT = "NBA_DQ_BENCH_OUT"
EXIT_AT_FIRST = "NBA_DQ_BENCH_EXIT_AT_FIRST"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_seen: list[bool] = []  # the listener stays attached: removing it inside SQLAlchemy's dispatch breaks the loop


def _first_statement(*args: Any) -> None:
    if _seen:
        return
    _seen.append(True)
    seconds = time.monotonic() - float(os.environ[STARTED])
    with open(os.environ[OUT], "w", encoding="utf-8") as out:
        json.dump({"wall": seconds, "cpu": _cpu_seconds()}, out)
    if os.environ.get(EXIT_AT_FIRST) == "1":
        os._exit(0)


def main() -> None:
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", _first_statement)
    from runners.cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
