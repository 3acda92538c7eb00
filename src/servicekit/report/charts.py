"""Charts as inline SVG text: no script, no font or style sheet from anywhere else.

Each function returns one ``<svg>`` element with a fixed size and a title, ready
to be placed in an HTML page. Values are plain floats; labels are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart", "funnel_chart", "line_chart"]

_WIDTH, _HEIGHT = 560, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 16, 28, 48
_WHOLE = 10
"""From this size on, axis labels are whole numbers."""
_PALETTE = ("#0d6efd", "#d63384", "#198754", "#fd7e14", "#6f42c1")


def _open(name: str, title: str, height: int = _HEIGHT) -> list[str]:
    return [
        (
            f'<svg class="chart" data-chart="{escape(name)}" role="img" '
            f'aria-label="{escape(title)}" width="{_WIDTH}" height="{height}" '
            f'viewBox="0 0 {_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">'
        ),
        f"<title>{escape(title)}</title>",
        f'<text x="{_LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= _WHOLE else f"{value:.1f}".rstrip("0").rstrip(".")


def _axis(low: float, high: float, unit: str) -> list[str]:
    """The y axis from `low` to `high`, with three grid lines."""
    inner = _HEIGHT - _TOP - _BOTTOM
    parts = []
    for step in range(4):
        value = low + (high - low) * step / 3
        y = _HEIGHT - _BOTTOM - inner * step / 3
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#dee2e6"/>'
            f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(_number(value) + unit)}</text>"
        )
    return parts


def bar_chart(
    name: str, title: str, labels: Sequence[str], values: Sequence[float], *, unit: str = ""
) -> str:
    """Vertical bars, one per label (a histogram when the labels are buckets)."""
    parts = _open(name, title)
    top = max([*values, 1.0])
    parts += _axis(0, top, unit)
    inner_w = _WIDTH - _LEFT - _RIGHT
    inner_h = _HEIGHT - _TOP - _BOTTOM
    slot = inner_w / max(len(values), 1)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = inner_h * value / top
        x = _LEFT + index * slot
        y = _HEIGHT - _BOTTOM - height
        parts.append(
            f'<rect class="bar" x="{x + slot * 0.1:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{height:.1f}" fill="{_PALETTE[0]}"><title>{escape(label)}: '
            f"{escape(_number(value) + unit)}</title></rect>"
            f'<text x="{x + slot / 2:.1f}" y="{_HEIGHT - _BOTTOM + 14}" font-size="10" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(  # noqa: PLR0913 - the parts of a chart, all named
    name: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    low: float = 0.0,
    high: float | None = None,
    unit: str = "",
) -> str:
    """Lines over periods, one per series; a gap where a period measured nothing."""
    parts = _open(name, title)
    measured = [value for _, values in series for value in values if value is not None]
    top = high if high is not None else max([*measured, low + 1.0])
    parts += _axis(low, top, unit)
    inner_w = _WIDTH - _LEFT - _RIGHT
    inner_h = _HEIGHT - _TOP - _BOTTOM
    step = inner_w / max(len(labels) - 1, 1)
    every = max(1, len(labels) // 8)
    parts += [
        f'<text x="{_LEFT + index * step:.1f}" y="{_HEIGHT - _BOTTOM + 14}" font-size="10" '
        f'text-anchor="middle">{escape(label)}</text>'
        for index, label in enumerate(labels)
        if index % every == 0
    ]
    for number, (series_name, values) in enumerate(series):
        colour = _PALETTE[number % len(_PALETTE)]
        points = [
            (_LEFT + index * step, _HEIGHT - _BOTTOM - inner_h * (value - low) / (top - low))
            for index, value in enumerate(values)
            if value is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
        parts.append(
            f'<text x="{_WIDTH - _RIGHT - 150 + 90 * number}" y="18" font-size="11" '
            f'fill="{colour}">{escape(series_name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def funnel_chart(name: str, title: str, steps: Sequence[tuple[str, int, str]]) -> str:
    """Horizontal bars, widest first: how many cases reached each stage (label, count, colour)."""
    row = 26
    height = _TOP + row * len(steps) + 12
    parts = _open(name, title, height)
    top = max([count for _, count, _ in steps] + [1])
    # Room for the longest label, at about 6.5 pixels a character of an 11-pixel font.
    label_w = min(280, 20 + round(6.5 * max([len(label) for label, _, _ in steps] + [4])))
    inner_w = _WIDTH - label_w - _RIGHT - 40
    for index, (label, count, colour) in enumerate(steps):
        y = _TOP + index * row
        width = max(inner_w * count / top, 1.0)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" font-size="11" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" '
            f'fill="{colour}" stroke="#495057"><title>{escape(label)}: {count}</title></rect>'
            f'<text x="{label_w + width + 4:.1f}" y="{y + 16}" font-size="11">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
