"""Hand-made SVG charts, kept small: a line per source for ``newsmon trend``, bars for the digest's watches.

Every drawn value carries its figures as attributes (``data-series``, ``data-period``, ``data-count``) and
a ``<title>`` tooltip, so a reader can hover for the number and a script can read the chart back. Every
string is XML-escaped. No styles from outside, no script: the digest's Content-Security-Policy holds.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

PALETTE = ("#0b57d0", "#b3261e", "#188038", "#e37400", "#8430ce", "#007b83", "#5f6368", "#c5221f")
WIDTH, HEIGHT, PAD, LEGEND_ROW = 720, 300, 40, 16


def line_chart(title: str, periods: list[str], series: dict[str, list[int]]) -> str:
    """One polyline per series (a source) over ``periods``; the counts are ``series[name][i]``."""
    top = max((max(counts) for counts in series.values() if counts), default=0) or 1
    legend_h = LEGEND_ROW * len(series)
    height = HEIGHT + legend_h
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = plot_w / max(len(periods) - 1, 1)

    def x(i: int) -> float:
        return round(PAD + i * step, 1)

    def y(count: int) -> float:
        return round(PAD + plot_h - count / top * plot_h, 1)

    parts = [
        _open(WIDTH, height, title),
        f'<text x="{PAD}" y="20" font-size="14">{escape(title)}</text>',
        _axes(plot_w, plot_h, top),
        *_period_labels(periods, x, PAD + plot_h + 16),
    ]
    for n, (name, counts) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i)},{y(c)}" for i, c in enumerate(counts))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts += [_point(x(i), y(c), colour, name, periods[i], c) for i, c in enumerate(counts)]
        row = HEIGHT + n * LEGEND_ROW
        parts.append(
            f'<rect x="{PAD}" y="{row - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{PAD + 16}" y="{row}" font-size="11">{escape(name)} ({sum(counts)})</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)} '
        f'font-family="sans-serif"><title>{escape(title)}</title>'
    )


def _axes(plot_w: float, plot_h: float, top: int) -> str:
    bottom = PAD + plot_h
    return (
        f'<line x1="{PAD}" y1="{bottom}" x2="{PAD + plot_w}" y2="{bottom}" stroke="#888"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{bottom}" stroke="#888"/>'
        f'<text x="{PAD - 6}" y="{PAD + 4}" font-size="10" text-anchor="end">{top}</text>'
        f'<text x="{PAD - 6}" y="{bottom}" font-size="10" text-anchor="end">0</text>'
    )


def _period_labels(periods: list[str], x, at_y: float) -> list[str]:
    """At most about ten labels under the axis, the first and last always."""
    every = max(1, -(-len(periods) // 10))
    shown = [i for i in range(len(periods)) if i % every == 0 or i == len(periods) - 1]
    return [
        f'<text x="{x(i)}" y="{at_y}" font-size="10" text-anchor="middle">{escape(periods[i])}</text>' for i in shown
    ]


def _point(x: float, y: float, colour: str, series: str, period: str, count: int) -> str:
    return (
        f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}" data-series={quoteattr(series)} '
        f'data-period={quoteattr(period)} data-count="{count}"><title>{escape(series)} {escape(period)}: '
        f"{count}</title></circle>"
    )


def bars(title: str, labels: list[str], counts: list[int], width: int = 120, height: int = 24) -> str:
    """A small inline bar chart (one bar per label, e.g. per week), for a line of the digest."""
    top = max(counts, default=0) or 1
    slot = width / max(len(counts), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)}><title>{escape(title)}</title>'
    ]
    for i, (label, count) in enumerate(zip(labels, counts)):
        h = round(count / top * (height - 2), 1) if count else 0
        parts.append(
            f'<rect x="{round(i * slot + 1, 1)}" y="{round(height - 1 - h, 1)}" '
            f'width="{round(slot - 2, 1)}" height="{max(h, 1) if count else 1}" '
            f'fill="{"currentColor" if count else "#bbb"}" data-period={quoteattr(label)} '
            f'data-count="{count}"><title>{escape(label)}: {count}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)
