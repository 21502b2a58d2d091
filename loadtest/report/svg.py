"""Charts as inline SVG text, for the HTML reports: lines over time, shaded bands, marks with links.

Why SVG drawn here rather than a charting library: the report must open with no network, as
one file. A library (Chart.js, Plotly, ECharts) would have to be vendored and inlined, from
about 200 KB to 3.5 MB of JavaScript per report, and kept up to date; its charts would only
exist once its script ran. Our charts are a few lines and marks on a time axis, which SVG
says directly: the page needs no script at all (its Content-Security-Policy forbids one), the
charts are in the DOM as written (a browser test, a text search or a screen reader finds
them), each violation mark is a plain link to its witness, and a report stays tens of KB.

Terms:
- *series*: one named line, a point per bucket (``None`` where it has no value: the line
  breaks there rather than falling to zero).
- *band*: a shaded time interval (a nemesis's fault window), with a label.
- *mark*: a point on a timeline row that links to an anchor of the page (a witness).

Every text that reaches the SVG goes through ``html.escape``: names and labels may come from a
target's answers, which are untrusted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 900
HEIGHT = 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 28, 34
_TIMELINE_LEFT = 170         # room for a property's name
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
BAND_FILL = "#f2c14e"


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: Sequence[tuple[float, float | None]]   # (seconds, value)
    color: str = PALETTE[0]


@dataclass(frozen=True, slots=True)
class Band:
    start: float
    end: float
    label: str


@dataclass(frozen=True, slots=True)
class Mark:
    at: float                  # seconds
    row: str                   # the timeline row (a property)
    href: str                  # "#witness-…"
    title: str                 # the tooltip
    color: str = PALETTE[3]


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (1 for nothing to show)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or float(value).is_integer() else f"{value:.3g}"


class _Frame:
    """The plot area's scales: seconds → x, value → y."""

    def __init__(self, x_max: float, y_max: float, height: int = HEIGHT, left: int = _LEFT) -> None:
        self.x_max = x_max if x_max > 0 else 1.0
        self.y_max = y_max
        self.height = height
        self.left = left

    def x(self, seconds: float) -> float:
        return self.left + (WIDTH - self.left - _RIGHT) * min(max(seconds, 0.0), self.x_max) / self.x_max

    def y(self, value: float) -> float:
        return self.height - _BOTTOM - (self.height - _TOP - _BOTTOM) * min(max(value, 0.0), self.y_max) / self.y_max

    def time_axis(self) -> list[str]:
        step = nice_ceiling(self.x_max / 8)
        out = [f'<line class="axis" x1="{self.left}" y1="{self.y(0):.1f}" x2="{WIDTH - _RIGHT}" y2="{self.y(0):.1f}"/>']
        tick = 0.0
        while tick <= self.x_max + 1e-9:
            x = self.x(tick)
            out.append(f'<text class="tick" x="{x:.1f}" y="{self.height - _BOTTOM + 16}" text-anchor="middle">'
                       f'{_fmt(tick)}s</text>')
            tick += step
        return out

    def bands(self, bands: Sequence[Band]) -> list[str]:
        out = []
        for band in bands:
            x1, x2 = self.x(band.start), self.x(band.end)
            out.append(f'<rect class="fault" x="{x1:.1f}" y="{_TOP}" width="{max(x2 - x1, 1.5):.1f}" '
                       f'height="{self.height - _TOP - _BOTTOM}" fill="{BAND_FILL}" fill-opacity="0.35">'
                       f'<title>{_e(band.label)}</title></rect>')
        return out


def _open(chart_id: str, title: str, height: int, left: int = _LEFT) -> str:
    return (f'<svg id="{_e(chart_id)}" class="chart" role="img" aria-label="{_e(title)}" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
            f'<text class="chart-title" x="{left}" y="18">{_e(title)}</text>')


def line_chart(chart_id: str, title: str, series: Sequence[Series], *, x_max: float, unit: str = "",
               bands: Sequence[Band] = ()) -> str:
    """An SVG line chart of ``series`` over ``[0, x_max]`` seconds, ``bands`` shaded beneath."""
    top = max((v for s in series for _, v in s.points if v is not None), default=0.0)
    step = nice_ceiling(top / 4)             # at most four intervals, each a round number
    intervals = max(1, math.ceil(top / step - 1e-9))
    frame = _Frame(x_max, step * intervals)
    parts = [_open(chart_id, title, HEIGHT), *frame.bands(bands)]
    for i in range(intervals + 1):
        tick = step * i
        y = frame.y(tick)
        parts.append(f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}{_e(unit)}</text>')
    parts += frame.time_axis()
    legend_x = WIDTH - _RIGHT
    for s in reversed(series):
        legend_x -= 24 + 7 * len(s.name)
        parts.append(f'<g class="legend"><rect x="{legend_x}" y="9" width="10" height="10" fill="{_e(s.color)}"/>'
                     f'<text x="{legend_x + 13}" y="18">{_e(s.name)}</text></g>')
    for s in series:
        path, pen_down = [], False
        for seconds, value in s.points:
            if value is None:
                pen_down = False
                continue
            path.append(f'{"L" if pen_down else "M"}{frame.x(seconds):.1f},{frame.y(value):.1f}')
            pen_down = True
        lone = len([v for _, v in s.points if v is not None]) == 1
        parts.append(f'<path class="series" data-series="{_e(s.name)}" d="{" ".join(path)}" fill="none" '
                     f'stroke="{_e(s.color)}" stroke-width="{4 if lone else 1.6}" stroke-linecap="round">'
                     f'<title>{_e(s.name)}</title></path>')
    parts.append("</svg>")
    return "".join(parts)


def timeline(chart_id: str, title: str, rows: Sequence[str], marks: Sequence[Mark], *, x_max: float,
             bands: Sequence[Band] = ()) -> str:
    """One row per name in ``rows``; each mark a dot on its row, linking to its ``href``."""
    height = _TOP + _BOTTOM + 22 * max(len(rows), 1)
    left = _TIMELINE_LEFT
    frame = _Frame(x_max, 1.0, height, left)
    parts = [_open(chart_id, title, height, left), *frame.bands(bands)]
    ys = {row: _TOP + 11 + 22 * i for i, row in enumerate(rows)}
    for row, row_y in ys.items():
        label = row if len(row) <= 24 else row[:23] + "…"
        parts.append(f'<line class="grid" x1="{left}" y1="{row_y}" x2="{WIDTH - _RIGHT}" y2="{row_y}"/>'
                     f'<text class="tick" x="{left - 6}" y="{row_y + 4}" text-anchor="end">{_e(label)}</text>')
    parts += frame.time_axis()
    for mark in marks:
        y = ys.get(mark.row)
        if y is None:
            continue
        parts.append(f'<a class="mark" href="{_e(mark.href)}"><circle cx="{frame.x(mark.at):.1f}" cy="{y}" r="5" '
                     f'fill="{_e(mark.color)}" fill-opacity="0.75"><title>{_e(mark.title)}</title></circle></a>')
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["PALETTE", "Band", "Mark", "Series", "line_chart", "nice_ceiling", "timeline"]
