"""Orders with their lines as rows for accounting, written by utils.exports (CSV streamed,
Excel in memory; no cell can run as a formula).

One row per line (course) of an order; an order without lines still gets one row. Money is
written as exact decimals (text in CSV, a number with two places in Excel).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from utils import exports

from .models import Order, OrderDetail

HEADERS = [
    _("订单号"),
    _("支付宝流水号"),
    _("用户名"),
    _("手机号"),
    _("订单标题"),
    _("订单总价"),
    _("订单状态"),
    _("支付方式"),
    _("创建时间"),
    _("支付时间"),
    _("课程ID"),
    _("课程"),
    _("课程原价"),
    _("课程实价"),
]
CHUNK = 2000


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def export_rows(orders: QuerySet[Order]) -> Iterator[list]:
    lines = Prefetch("lines", queryset=OrderDetail.objects.select_related("course"))
    queryset = orders.select_related("user").prefetch_related(lines)
    for order in queryset.iterator(chunk_size=CHUNK):
        head = [
            order.out_trade_no,
            order.trade_no,
            order.user.username,
            order.user.mobile,
            order.subject,
            order.total_amount,
            order.get_order_status_display(),
            order.get_pay_type_display(),
            _when(order.created_time),
            _when(order.pay_time),
        ]
        details = list(order.lines.all())
        if not details:
            yield [*head, "", "", "", ""]
        for line in details:
            yield [*head, line.course_id, line.course.name, line.price, line.real_price]


def csv_chunks(rows: Iterable[list]) -> Iterator[str]:
    return exports.csv_chunks(HEADERS, rows)


def xlsx_bytes(rows: Iterable[list]) -> bytes:
    return exports.xlsx_bytes(_("订单"), HEADERS, rows)
