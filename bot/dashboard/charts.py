"""The overview's charts as inline SVG: a horizontal bar per unit, a column per day.

Built as strings here rather than in the template: a Jinja loop over 1,000 units allocates
enough to make the garbage collector the overview's slowest part (p99 several times p50).
Widths and x positions are percentages of the chart's width, heights and text sizes are
pixels: the chart fills a phone or a projector and its text stays readable on both.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from bot.dashboard.views import UNIT_STATUS_TEXT, DayCount, UnitRow

ROW = 30
LABEL_CHARS = 14
# Percent of the width: labels end at LABEL_END, bars span TRACK, counts start at VALUE.
LABEL_END, TRACK_START, TRACK_WIDTH, VALUE = 33, 34, 52, 87
DAY_HEIGHT, DAY_BASE = 150, 172


def _label(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def unit_bars(rows: Sequence[UnitRow], prefix: str) -> Markup:
    """One `<g class="bar <status>">` per unit (in the order given), linking to its entries."""
    parts = [
        f'<svg id="unit-chart" class="chart" width="100%" height="{len(rows) * ROW + 8}" '
        'role="img" aria-label="各单位已提交作品数与配额">'
    ]
    for index, u in enumerate(rows):
        y = index * ROW + 4
        share = min(u.completion, 1.0) if u.quota else (1.0 if u.accepted else 0.0)
        name = escape(u.name)
        amount = f"{u.accepted}/{u.quota}" if u.quota else str(u.accepted)
        detail = f"{amount}（{u.percent}%）" if u.quota else amount
        parts.append(
            f'<a href="{prefix}/entries?unit={u.id}">'
            f'<g class="bar {u.status}" data-unit="{name}" data-accepted="{u.accepted}">'
            f"<title>{name}：{detail}，{UNIT_STATUS_TEXT[u.status]}</title>"
            f'<text class="label" x="{LABEL_END}%" y="{y + 19}" text-anchor="end">'
            f"{escape(_label(u.name))}</text>"
            f'<rect class="track" x="{TRACK_START}%" y="{y + 3}" width="{TRACK_WIDTH}%" '
            f'height="{ROW - 8}" rx="3"></rect>'
            f'<rect class="fill" x="{TRACK_START}%" y="{y + 3}" '
            f'width="{TRACK_WIDTH * share:.2f}%" height="{ROW - 8}" rx="3"></rect>'
            f'<text class="value" x="{VALUE}%" y="{y + 19}">{amount}</text>'
            "</g></a>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def day_columns(days: Sequence[DayCount]) -> Markup:
    """One `<g class="day">` per day; at most about twelve date labels, whatever the span."""
    n = max(1, len(days))
    top = max([d.count for d in days] + [1])
    every = n // 12 + 1
    slot = 100 / n
    parts = [
        '<svg id="day-chart" class="chart" width="100%" height="210" role="img" '
        'aria-label="每日提交作品数">'
    ]
    for index, d in enumerate(days):
        x, w = index * slot + slot * 0.15, slot * 0.7
        h = round(DAY_HEIGHT * d.count / top)
        middle = f"{x + w / 2:.2f}%"
        parts.append(
            f'<g class="day"><title>{d.day.isoformat()}：{d.count} 篇</title>'
            f'<rect class="fill" x="{x:.2f}%" y="{DAY_BASE - h}" width="{w:.2f}%" '
            f'height="{h}"></rect>'
        )
        if d.count and (n <= 16 or index % every == 0):
            parts.append(
                f'<text class="value" x="{middle}" y="{DAY_BASE - 6 - h}" '
                f'text-anchor="middle">{d.count}</text>'
            )
        if index % every == 0:
            parts.append(
                f'<text class="label" x="{middle}" y="196" text-anchor="middle">'
                f"{d.day.month}/{d.day.day}</text>"
            )
        parts.append("</g>")
    parts.append(f'<line x1="0" x2="100%" y1="{DAY_BASE}" y2="{DAY_BASE}" class="axis"></line>')
    parts.append("</svg>")
    return Markup("".join(parts))
