"""Orders with their lines as rows for accounting: CSV (streamed) and Excel (openpyxl).

One row per line (course) of an order; an order without lines still gets one row. Money is
written as exact decimals (text in CSV, a number with two places in Excel).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

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


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(rows: Iterable[list]) -> Iterator[str]:
    """CSV text, a row at a time, with a BOM first so Excel reads it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([str(header) for header in HEADERS])
    for row in rows:
        yield writer.writerow([str(v) if isinstance(v, Decimal) else v for v in row])


def xlsx_bytes(rows: Iterable[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_("订单")))  # openpyxl takes str, not lazy text
    sheet.append([str(header) for header in HEADERS])
    for row in rows:
        sheet.append(row)  # Decimal cells stay exact numbers
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
