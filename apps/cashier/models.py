"""Trades and refunds as the local cashier (our stand-in for Alipay) remembers them.

Kept in the database, not in memory, so runserver's threads, a test's live server and the shop's
own processes all see one state.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from . import protocol


class CashierTrade(models.Model):
    class Status(models.TextChoices):
        WAIT_BUYER_PAY = protocol.WAIT_BUYER_PAY, _("等待付款")
        TRADE_SUCCESS = protocol.TRADE_SUCCESS, _("支付成功")
        TRADE_CLOSED = protocol.TRADE_CLOSED, _("已关闭")

    out_trade_no = models.CharField(max_length=64, unique=True)
    trade_no = models.CharField(max_length=64, unique=True)
    app_id = models.CharField(max_length=32)
    subject = models.CharField(max_length=256)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=32, choices=Status, default=Status.WAIT_BUYER_PAY)
    notify_url = models.CharField(max_length=500, blank=True, default="")
    return_url = models.CharField(max_length=500, blank=True, default="")
    # Which cashier the last request opened (page or wap), and the wap request's quit_url.
    method = models.CharField(max_length=32, default=protocol.PAGE_PAY_METHOD)
    quit_url = models.CharField(max_length=500, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    notify_id = models.CharField(max_length=64, blank=True, default="")
    last_notify_answer = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "luffy_cashier_trade"
        verbose_name = verbose_name_plural = _("本地收银台交易")

    def __str__(self) -> str:
        return f"{self.out_trade_no} {self.status}"


class CashierRefund(models.Model):
    trade = models.ForeignKey(CashierTrade, on_delete=models.CASCADE, related_name="refunds")
    out_request_no = models.CharField(max_length=64)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "luffy_cashier_refund"
        verbose_name = verbose_name_plural = _("本地收银台退款")
        constraints = [
            models.UniqueConstraint(
                fields=["trade", "out_request_no"], name="cashier_refund_once_per_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.out_request_no} {self.refund_amount}"
