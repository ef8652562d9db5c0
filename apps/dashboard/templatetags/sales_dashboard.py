"""`{% sales_dashboard %}`: the sales block of the admin index, its chart an inline SVG drawn
here (no JavaScript, nothing fetched from elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import template
from django.utils.formats import date_format
from django.utils.translation import ngettext

from ..selectors import DayTotals, sales_summary

register = template.Library()

WIDTH, HEIGHT = 760, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 40, 16, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    tip: str
    show_label: bool
    dot_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # y, revenue label
    order_ticks: list[tuple[float, int]]
    baseline: float
    points: str  # the orders line


def _nice_max(value: Decimal | int) -> Decimal:
    """A round top for the axis: 1, 2 or 5 times a power of ten, at least the value."""
    value = Decimal(value)
    if value <= 0:
        return Decimal(1)
    step = Decimal(1)
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def build_chart(days: list[DayTotals]) -> Chart:
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    top = _nice_max(max((d.revenue for d in days), default=Decimal(0)))
    # Whole orders at each of the five ticks: a top divisible by 4.
    top_orders = int(_nice_max(max((d.orders for d in days), default=0)))
    top_orders = max(4, -(-top_orders // 4) * 4)
    slot = plot_w / max(len(days), 1)
    baseline = PAD_TOP + plot_h
    bars, points = [], []
    for i, d in enumerate(days):
        h = float(d.revenue / top) * plot_h
        x = PAD_LEFT + i * slot
        dot_y = baseline - d.orders / top_orders * plot_h
        points.append(f"{x + slot / 2:.1f},{dot_y:.1f}")
        bars.append(
            Bar(
                x=round(x + slot * 0.15, 1),
                y=round(baseline - h, 1),
                width=round(slot * 0.7, 1),
                height=round(h, 1),
                label=date_format(d.day, "n/j"),
                tip=ngettext(
                    "%(day)s: ¥%(revenue)s, %(count)s 单",
                    "%(day)s: ¥%(revenue)s, %(count)s 单",
                    d.orders,
                )
                % {"day": date_format(d.day, "Y-m-d"), "revenue": d.revenue, "count": d.orders},
                show_label=i % 5 == 0 or i == len(days) - 1,
                dot_y=round(dot_y, 1),
            )
        )
    ticks = [
        (round(baseline - plot_h * k / 4, 1), f"¥{(top * k / 4).normalize():f}") for k in range(5)
    ]
    order_ticks = [(round(baseline - plot_h * k / 4, 1), int(top_orders * k / 4)) for k in range(5)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks,
        order_ticks=order_ticks,
        baseline=baseline,
        points=" ".join(points),
    )


@register.inclusion_tag("admin/dashboard/sales.html", takes_context=True)
def sales_dashboard(context) -> dict:
    request = context["request"]
    if not request.user.has_perm("order.view_order"):
        return {"allowed": False}
    summary = sales_summary()
    return {"allowed": True, "summary": summary, "chart": build_chart(summary.days)}
