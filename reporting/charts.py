"""A coverage trend chart: one self-contained HTML page (inline SVG, no script, nothing remote)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

WIDTH, HEIGHT, MARGIN = 900, 320, 48


@dataclass(frozen=True)
class Point:
    day: date
    value: float | None  # None: no value (no expected players): drawn at 0 and marked failing
    failing: bool


def coverage_chart(path: Path, title: str, points: Sequence[Point], threshold: float) -> Path:
    """Write the chart (coverage % per date, the threshold line, failing dates in red); returns its path."""
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    step = inner_w / max(len(points) - 1, 1)

    def x(index: int) -> float:
        return MARGIN + index * step

    def y(value: float) -> float:
        return MARGIN + inner_h * (1 - max(0.0, min(1.0, value)))

    line = " ".join(f"{x(i):.1f},{y(p.value or 0.0):.1f}" for i, p in enumerate(points))
    dots = "".join(
        f'<circle cx="{x(i):.1f}" cy="{y(p.value or 0.0):.1f}" r="{5 if p.failing else 3}"'
        f' fill="{"#d62728" if p.failing else "#1f77b4"}"><title>{p.day}: '
        f"{'no value' if p.value is None else f'{p.value:.1%}'}{' (failing)' if p.failing else ''}</title></circle>"
        for i, p in enumerate(points)
    )
    labels = "".join(
        f'<text x="{x(i):.1f}" y="{HEIGHT - MARGIN + 16}" font-size="10" text-anchor="middle">{p.day:%m-%d}</text>'
        for i, p in enumerate(points)
        if len(points) <= 31 or i % max(len(points) // 30, 1) == 0
    )
    ticks = "".join(
        f'<text x="{MARGIN - 6}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.0%}</text>'
        for v in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    failing = [p.day.isoformat() for p in points if p.failing]
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body style="font-family: sans-serif">
<h2>{html.escape(title)}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img">
<rect x="{MARGIN}" y="{MARGIN}" width="{inner_w}" height="{inner_h}" fill="none" stroke="#ccc"/>
{ticks}
<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" stroke="#d62728"
 stroke-dasharray="6 4"><title>threshold {threshold:.0%}</title></line>
<text x="{WIDTH - MARGIN}" y="{y(threshold) - 4:.1f}" font-size="11" text-anchor="end"
 fill="#d62728">threshold {threshold:.0%}</text>
<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="2"/>
{dots}
{labels}
</svg>
<p>Failing dates ({len(failing)}): {html.escape(", ".join(failing)) or "none"}</p>
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
