"""What a huge failure's alert weighs against Slack's limits (50 blocks, 3000 characters a section), and
the CPU time to build it: 60 failing checks of 500 rows each, and a 271-row failure GX sampled to 10.

Prints figures, asserts nothing. Run: `make bench` or `python -m bench.alert_size [--repeats N]`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from checkpoints.summary import CheckOutcome, RunSummary
from reporting.alert_messages import RunLinks, alert_message

LINKS = RunLinks(data_docs_url=str, rerun_command=lambda summary: "nba-dq run", inspect_command=str)
DAY = date(2025, 12, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    repeats = parser.parse_args().repeats
    rows = [{"player_lookup": f"player{n:04d}" + "x" * 60, "system_id": None, "value": n} for n in range(500)]
    checks = [CheckOutcome(f"check_{n:02d}", "fail", "critical", rows, "none", notes="why " * 200) for n in range(60)]
    summary = RunSummary("phase5", DAY, tuple(checks), ())
    cpu = []
    for _ in range(repeats):
        started = time.process_time()
        message = alert_message(summary, checks, LINKS)
        cpu.append(time.process_time() - started)
    texts = [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]
    named = sum(text.count("*check_") for text in texts)
    print(
        f"alert_size huge: blocks={len(message['blocks'])}/50 longest_section={max(map(len, texts))}/3000 chars"
        f" checks_named={named}/60 'None' shown={'None' in message['text']}"
        f" build_cpu_median={statistics.median(cpu) * 1000:.1f} ms ({repeats} repeats)"
    )
    sample = {"unexpected": 271, "rows": 300, "sample": [{"player_lookup": f"p{n}", "v": None} for n in range(10)]}
    sampled = CheckOutcome("points_range", "fail", "critical", sample, "<60")
    text = alert_message(RunSummary("phase5", DAY, (sampled,), ()), [sampled], LINKS)["text"]
    print(f"alert_size sampled: 271 failed, 10 shown, '+261 more rows' said={'+261 more rows' in text}")


if __name__ == "__main__":
    main()
