"""A batch's single-use codes as CSV for staff to hand out, written by utils.exports (no cell
can run as a formula)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from utils import exports

from .models import CodeBatch

HEADERS = [
    gettext_lazy("兑换码"),
    gettext_lazy("优惠券"),
    gettext_lazy("批次"),
    gettext_lazy("备注"),
    gettext_lazy("状态"),
    gettext_lazy("兑换时间"),
    gettext_lazy("兑换用户"),
]


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def batch_rows(batch: CodeBatch) -> Iterator[list]:
    codes = batch.codes.select_related("user_coupon__user").order_by("id")
    for code in codes.iterator(chunk_size=2000):
        holder = code.user_coupon.user if code.user_coupon else None
        yield [
            code.code,
            batch.coupon.name,
            batch.pk,
            batch.note,
            _("已兑换") if code.redeemed_at else _("未兑换"),
            _when(code.redeemed_at),
            holder.username if holder else "",
        ]


def batch_csv(batch: CodeBatch) -> Iterator[str]:
    return exports.csv_chunks(HEADERS, batch_rows(batch))


def batch_filename(batch: CodeBatch) -> str:
    return f"coupon-{batch.coupon_id}-codes-{batch.pk}.csv"
