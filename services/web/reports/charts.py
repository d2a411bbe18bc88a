"""Charts drawn on the server as inline SVG: what each shape is, computed here; the SVG is written by
templates/charts.html. Each chart has a title (its accessible name) and stands beside its table, the
accessible equivalent with every number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 600
LABEL = 170  # the left part of a bar chart holds the labels
ROW = 30
PLOT = (40, 20, 580, 200)  # a line chart's plot area: left, top, right, bottom


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    y: int
    width: float


@dataclass(frozen=True)
class Bars:
    """Horizontal bars, one a row: counts by a dimension, or a percentage out of `scale`."""

    title: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    left: int = LABEL

    @classmethod
    def of(
        cls, title: str, values: Sequence[tuple[str, float | None]], scale: float | None = None, unit: str = ""
    ) -> Bars:
        """`values` by label; None is a bar of no length marked with a dash (nothing to measure)."""
        top = scale or max([value or 0 for _, value in values] or [0]) or 1
        room = WIDTH - LABEL - 60
        bars = [
            Bar(
                label[:24], value or 0, "—" if value is None else f"{value:g}{unit}", n * ROW, room * (value or 0) / top
            )
            for n, (label, value) in enumerate(values)
        ]
        return cls(title, bars, max(len(bars), 1) * ROW)


@dataclass(frozen=True)
class Line:
    name: str
    points: str  # SVG polyline points
    dots: list[tuple[float, float]]
    css: str


@dataclass(frozen=True)
class Lines:
    """Series over days (flow: opened, resolved, reopened a day)."""

    title: str
    lines: list[Line]
    top: int  # the highest value, labelled on the axis
    first: str
    last: str
    plot: tuple[int, int, int, int] = PLOT
    width: int = WIDTH
    height: int = 240

    @classmethod
    def of(cls, title: str, days: list[str], series: dict[str, tuple[str, list[int]]]) -> Lines:
        left, top, right, bottom = PLOT
        highest = max([max(values or [0]) for _, values in series.values()] or [0]) or 1
        step = (right - left) / max(len(days) - 1, 1)

        def at(n: int, value: int) -> tuple[float, float]:
            return round(left + n * step, 1), round(bottom - (bottom - top) * value / highest, 1)

        lines = []
        for css, (name, values) in series.items():
            dots = [at(n, value) for n, value in enumerate(values)]
            lines.append(Line(name, " ".join(f"{x},{y}" for x, y in dots), dots, css))
        return cls(title, lines, highest, days[0] if days else "", days[-1] if days else "")
