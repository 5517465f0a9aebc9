"""Charts drawn on the server as SVG: no script, no library in the browser, printable, readable at 390 px.

The SVG scales to its container (`viewBox`, width 100 %), so one drawing serves the phone and the desktop.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 560
HEIGHT = 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 8, 20, 32


def _nice_ceiling(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least `value` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return max(1, step * factor)
        step *= 10


def bar_chart(
    values: Sequence[int],
    labels: Sequence[str],
    *,
    title: str,
    label_every: int = 1,
    highlight: int | None = None,
) -> Markup:
    """Bars of `values` with `labels` under them (every `label_every`th shown), a count above each non-zero bar,
    `highlight` (an index, e.g. the current hour) drawn darker. `title` names the chart for screen readers."""
    top = _nice_ceiling(max(values, default=0))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(1, len(values))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{WIDTH - _RIGHT}" y2="{_TOP + plot_h}" class="axis"/>',
    ]
    for fraction in (0.5, 1.0) if top % 2 == 0 else (1.0,):  # a half-way line only where it is a whole number
        y = _TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 5:.1f}" class="tick" text-anchor="end">{top * fraction:g}</text>')
    for index, value in enumerate(values):
        height = plot_h * value / top
        x = _LEFT + index * slot + slot * 0.12
        y = _TOP + plot_h - height
        kind = "bar now" if index == highlight else "bar"
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" height="{height:.1f}" class="{kind}">')
        parts.append(f"<title>{escape(labels[index])}: {value}</title></rect>")
        if value:
            parts.append(
                f'<text x="{x + slot * 0.38:.1f}" y="{y - 3:.1f}" class="count" text-anchor="middle">{value}</text>'
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + slot * 0.38:.1f}" y="{HEIGHT - 8}" class="tick" text-anchor="middle">'
                f"{escape(labels[index])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
