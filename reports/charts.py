"""Charts drawn on the server as SVG: no JavaScript, no CDN, the same markup on screen and in PDFs.

Each chart is an ``<svg role="img">`` labelled by its own ``<title>`` and
``<desc>`` (the desc states every number, for screen readers), and every
mark carries a ``<title>`` so it shows as a tooltip. The pages also show the
same numbers in a table; the charts are never the only way to read them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.display import long_date, short_date
from reports.selectors import Row, TimelinePoint

SIGNED, OUTSTANDING, OVERDUE = "#198754", "#ffc107", "#b02a37"  # Bootstrap's success / warning / a darker danger
INK, GRID, MUTED = "#212529", "#dee2e6", "#495057"
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'


def _percent(value: float | None) -> str:
    return "no one owes it" if value is None else f"{value:.1f}% signed"


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _labelled_indices(count: int, most: int = 5) -> set[int]:
    """Which x-axis points get a date label: evenly spaced, always the last, never two crowded together."""
    every = max(1, -(-count // most))
    chosen = list(range(0, count, every))
    if chosen and chosen[-1] != count - 1:
        if count - 1 - chosen[-1] < every and len(chosen) > 1:
            chosen.pop()
        chosen.append(count - 1)
    return set(chosen)


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" id="{chart_id}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT} font-size="12">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def school_bars(
    rows: Sequence[Row], *, chart_id: str = "chart-schools", title: str = "Signatures by school"
) -> SafeString:
    """One horizontal bar per school, split into signed / outstanding / overdue shares, labelled with % signed."""
    label_width, bar_width, right, row_height, top = 230, 380, 110, 26, 34
    width = label_width + bar_width + right
    height = top + row_height * max(len(rows), 1) + 10
    desc = (
        "; ".join(
            f"{row.label}: {row.counts.owe} owe, {row.counts.signed} signed, {row.counts.outstanding} outstanding, "
            f"{row.counts.overdue} overdue, {_percent(row.counts.percent)}"
            for row in rows
        )
        or "No one owes this code here."
    )
    parts = _open(chart_id, width, height, title, desc)
    legend = [("Signed", SIGNED), ("Outstanding", OUTSTANDING), ("Overdue", OVERDUE)]
    x = label_width
    for name, colour in legend:
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}" stroke="{INK}" stroke-width="0.5"/>')
        parts.append(f'<text x="{x + 16}" y="16" fill="{INK}">{name}</text>')
        x += 110
    if not rows:
        parts.append(f'<text x="{label_width}" y="{top + 16}" fill="{MUTED}">No one owes this code here.</text>')
    for index, row in enumerate(rows):
        y = top + index * row_height
        counts = row.counts
        parts.append(
            f"<g><title>{escape(row.label)}: {counts.signed} of {counts.owe} signed, "
            f"{counts.outstanding} outstanding, {counts.overdue} overdue</title>"
        )
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">'
            f"{escape(_short(row.label))}</text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{bar_width}" height="16" fill="#f8f9fa" stroke="{GRID}"/>'
        )
        offset = float(label_width)
        for value, colour in ((counts.signed, SIGNED), (counts.outstanding, OUTSTANDING), (counts.overdue, OVERDUE)):
            if counts.owe and value:
                share = bar_width * value / counts.owe
                parts.append(f'<rect x="{offset:.2f}" y="{y + 3}" width="{share:.2f}" height="16" fill="{colour}"/>')
                offset += share
        text = "—" if counts.percent is None else f"{counts.percent:.1f}%"
        parts.append(
            f'<text x="{label_width + bar_width + 8}" y="{y + 15}" fill="{INK}">{text} of {counts.owe}</text></g>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def timeline_line(
    points: Sequence[TimelinePoint], *, chart_id: str = "chart-timeline", title: str = "Percentage signed over time"
) -> SafeString:
    """A line of the percentage signed on each sampled day, 0–100%."""
    left, plot_width, plot_height, top, bottom = 48, 620, 200, 16, 40
    width, height = left + plot_width + 24, top + plot_height + bottom
    desc = (
        "; ".join(
            f"{long_date(point.day)}: {point.counts.signed} of {point.counts.owe} signed "
            f"({_percent(point.counts.percent)})"
            for point in points
        )
        or "Nothing was owed in this period."
    )
    parts = _open(chart_id, width, height, title, desc)
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_height * (1 - tick / 100)
        parts.append(f'<line x1="{left}" x2="{left + plot_width}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick}%</text>')
    if not points:
        parts.append(
            f'<text x="{left + 10}" y="{top + plot_height / 2}" fill="{MUTED}">Nothing was owed in this period.</text>'
        )
        parts.append("</svg>")
        return mark_safe("".join(parts))
    step = plot_width / max(len(points) - 1, 1)
    coordinates = []
    for index, point in enumerate(points):
        percent = point.counts.percent or 0.0
        coordinates.append((left + index * step, top + plot_height * (1 - percent / 100), point))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coordinates)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{SIGNED}" stroke-width="2.5"/>')
    labelled = _labelled_indices(len(points))
    for index, (x, y, point) in enumerate(coordinates):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{SIGNED}" stroke="#fff" stroke-width="1">'
            f"<title>{short_date(point.day)}: {point.counts.signed} of {point.counts.owe} signed "
            f"({_percent(point.counts.percent)})</title></circle>"
        )
        if index in labelled:
            anchor = "end" if index == len(coordinates) - 1 and index else "middle"
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_height + 18}" text-anchor="{anchor}" fill="{MUTED}">'
                f"{point.day:%-d %b %Y}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
