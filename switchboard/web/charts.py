"""Charts as inline SVG drawn on the server: no script, no CDN, readable with the page's
Content-Security-Policy, and every bar carries its number (`data-value` and a tooltip) so
what the eye reads can be checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

from markupsafe import Markup

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def colors(labels: Sequence[str]) -> dict[str, str]:
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def stacked_days(chart_id: str, days: Sequence[date], series: Mapping[str, Sequence[int]],
                 width: int = 640, height: int = 220) -> Markup:
    """One stacked bar per day, one colour per series (channel or category)."""
    labels = list(series)
    palette = colors(labels)
    totals = [sum(series[s][i] for s in labels) for i in range(len(days))]
    top = max(totals, default=0) or 1
    left, bottom, right = 34, 22, 6
    plot_w, plot_h = width - left - right, height - bottom - 8
    step = plot_w / max(1, len(days))
    bar = max(2.0, step * 0.75)
    parts = [f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-label="{escape(chart_id)}">']
    for tick in (0, top / 2, top):
        y = 8 + plot_h - plot_h * tick / top
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e3e7ee"/><text x="{left - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{tick:.0f}</text>')
    for i, day in enumerate(days):
        x = left + i * step + (step - bar) / 2
        y = 8 + plot_h
        for label in labels:
            value = series[label][i]
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{palette[label]}" '
                         f'data-day="{day.isoformat()}" data-series="{escape(label)}" '
                         f'data-value="{value}"><title>{day:%d/%m} {escape(label)}: {value}'
                         f'</title></rect>')
        if len(days) <= 16 or i % max(1, len(days) // 8) == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 6}" '
                         f'text-anchor="middle">{day:%d/%m}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{palette[label]}"></i>{escape(label)}</span>'
                     for label in labels)
    return Markup("".join(parts) + f'<div class="legend">{legend}</div>')


def hbars(chart_id: str, items: Sequence[tuple[str, float | None]], unit: str = "",
          maximum: float | None = None, width: int = 520) -> Markup:
    """Horizontal bars, one per label (a department's SLA hit rate, a supplier's count)."""
    shown = [(label, value) for label, value in items if value is not None]
    top = maximum or max((v for _, v in shown), default=0) or 1
    row, left = 22, 170
    height = row * len(shown) + 6
    parts = [f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-label="{escape(chart_id)}">']
    for i, (label, value) in enumerate(shown):
        y = 3 + i * row
        w = (width - left - 60) * float(value) / top
        color = PALETTE[0] if unit != "%" else ("#2f7d4f" if value >= 90 else "#d9a400"
                                                if value >= 75 else "#c0392b")
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">'
                     f'{escape(label[:28])}</text><rect class="bar" x="{left}" y="{y}" '
                     f'width="{w:.1f}" height="{row - 6}" fill="{color}" '
                     f'data-label="{escape(label)}" data-value="{value:g}"><title>'
                     f'{escape(label)}: {value:g}{unit}</title></rect><text x="{left + w + 4:.1f}" '
                     f'y="{y + 14}">{value:g}{unit}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
