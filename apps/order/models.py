"""Orders, what they bought, who owns which course, and every payment notify received."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.course.models import Course

MONEY = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class Order(models.Model):
    class Status(models.IntegerChoices):
        UNPAID = 0, _("未支付")
        PAID = 1, _("已支付")
        CANCELLED = 2, _("已取消")
        TIMED_OUT = 3, _("超时取消")
        # Paid, then some (PARTLY_REFUNDED) or all (REFUNDED) of the money went back. Codes 0-3
        # keep their meaning for API clients.
        REFUNDED = 4, _("已退款")
        PARTLY_REFUNDED = 5, _("部分退款")

    class PayType(models.IntegerChoices):
        ALIPAY = 1, _("支付宝")
        WECHAT = 2, _("微信支付")  # reserved

    subject = models.CharField(_("订单标题"), max_length=150)
    total_amount = models.DecimalField(_("订单总价"), **MONEY)
    out_trade_no = models.CharField(_("订单号"), max_length=64, unique=True)
    trade_no = models.CharField(_("支付宝流水号"), max_length=64, blank=True, default="")
    order_status = models.SmallIntegerField(
        _("订单状态"), choices=Status.choices, default=Status.UNPAID
    )
    pay_type = models.SmallIntegerField(
        _("支付方式"), choices=PayType.choices, default=PayType.ALIPAY
    )
    pay_time = models.DateTimeField(_("支付时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("支付截止时间"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("下单用户"),
    )
    created_time = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_time = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        db_table = "luffy_order"
        verbose_name = _("订单记录")
        verbose_name_plural = verbose_name
        ordering = ["-created_time", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_time"], name="order_user_recent"),
            models.Index(fields=["order_status", "expires_at"], name="order_status_expiry"),
            models.Index(fields=["order_status", "created_time"], name="order_status_created"),
            # The sales dashboard: a range of pay_time, read from the index alone (status, amount).
            models.Index(
                fields=["pay_time", "order_status", "total_amount"], name="order_paid_sales"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="order_total_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.out_trade_no} - ¥{self.total_amount}"

    @property
    def is_paid(self) -> bool:
        """Alipay took the money for this order (even if some or all went back since)."""
        return self.order_status in PAID_STATES


PAID_STATES = frozenset({Order.Status.PAID, Order.Status.PARTLY_REFUNDED, Order.Status.REFUNDED})


class OrderDetail(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("订单")
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="course_orders", verbose_name=_("课程")
    )
    price = models.DecimalField(_("课程原价"), **MONEY)
    real_price = models.DecimalField(_("课程实价"), **MONEY)

    class Meta:
        db_table = "luffy_order_detail"
        verbose_name = _("订单详情")
        verbose_name_plural = verbose_name
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "course"], name="order_detail_unique_course"),
        ]

    def __str__(self) -> str:
        return f"{self.order.out_trade_no}: {self.course_id}"


class CourseEntitlement(models.Model):
    """A user owns a course, granted by a paid order, by staff (no order: see `ManualGrant` for
    who and why), or taken free (no order either: a course that costs nothing is not sold,
    services.take_free_courses)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="entitlements",
        verbose_name=_("用户"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="entitlements", verbose_name=_("课程")
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entitlements",
        verbose_name=_("来源订单"),
    )
    created_time = models.DateTimeField(_("获得时间"), auto_now_add=True)

    class Meta:
        db_table = "luffy_user_course"
        verbose_name = _("已购课程")
        verbose_name_plural = verbose_name
        ordering = ["-created_time", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="entitlement_unique_course"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} owns {self.course_id}"


class PaymentNotification(models.Model):
    """Every Alipay notify as received, whether it could be verified, and what we did with it."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("处理中")
        SETTLED = "settled", _("已入账")
        DUPLICATE = "duplicate", _("重复通知")
        CLOSED = "closed", _("交易关闭")
        REFUNDED = "refunded", _("已退款")
        IGNORED = "ignored", _("无需处理")
        REJECTED = "rejected", _("已拒绝")
        ERROR = "error", _("处理出错")

    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    out_trade_no = models.CharField(_("订单号"), max_length=64, blank=True, default="")
    notify_id = models.CharField(_("通知ID"), max_length=128, blank=True, default="")
    trade_status = models.CharField(_("交易状态"), max_length=32, blank=True, default="")
    verified = models.BooleanField(_("验签通过"), default=False)
    outcome = models.CharField(
        _("处理结果"), max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED
    )
    detail = models.TextField(_("说明"), blank=True, default="")
    # Whole for verified notifies only; a rejected one keeps the summary fields below, so junk
    # posted to the public endpoint costs us a few hundred bytes a request at most.
    params = models.JSONField(_("原始参数"), default=dict)
    client_ip = models.GenericIPAddressField(_("来源IP"), null=True, blank=True)
    body_bytes = models.PositiveIntegerField(_("请求体字节数"), default=0)

    class Meta:
        db_table = "luffy_payment_notification"
        verbose_name = _("支付通知")
        verbose_name_plural = verbose_name
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["out_trade_no"], name="notify_out_trade_no"),
            models.Index(fields=["verified", "received_at"], name="notify_verified_received"),
        ]

    def __str__(self) -> str:
        return f"{self.out_trade_no or '?'} {self.trade_status} {self.outcome}"


class Refund(models.Model):
    """Money sent back for some lines of an order (or for a second payment of it).

    One `out_request_no` per refund: Alipay refunds each at most once, so retrying a refund
    whose answer was lost (same number) can never pay twice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        SUCCEEDED = "succeeded", _("已退款")
        FAILED = "failed", _("失败")

    class Kind(models.TextChoices):
        STAFF = "staff", _("人工退款")
        DUPLICATE = "duplicate", _("重复购买自动退款")
        CONSOLE = "console", _("支付宝后台退款")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("订单")
    )
    lines = models.ManyToManyField(
        OrderDetail, related_name="refunds", blank=True, verbose_name=_("退款课程")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    # The Alipay trade refunded: the order's own, or a second trade that paid it again.
    trade_no = models.CharField(_("支付宝流水号"), max_length=64, blank=True, default="")
    amount = models.DecimalField(_("退款金额"), **MONEY)
    reason = models.CharField(_("退款原因"), max_length=256)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds_made",
        verbose_name=_("操作员"),
    )
    out_request_no = models.CharField(_("退款请求号"), max_length=64, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    revokes_courses = models.BooleanField(_("收回课程"), default=True)
    alipay_answer = models.JSONField(_("支付宝应答"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        db_table = "luffy_order_refund"
        verbose_name = _("退款记录")
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="refund_status_created")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.out_request_no} ¥{self.amount} {self.status}"


class ManualGrant(models.Model):
    """A course staff gave a user by hand, who did it and why (the entitlement has no order)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="manual_grants",
        verbose_name=_("用户"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="manual_grants", verbose_name=_("课程")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="grants_made",
        verbose_name=_("操作员"),
    )
    reason = models.CharField(_("开通原因"), max_length=256)
    # Kept when the course is taken back later (the record of the grant stays).
    entitlement = models.OneToOneField(
        CourseEntitlement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="manual_grant",
        verbose_name=_("开通记录"),
    )
    created_at = models.DateTimeField(_("开通时间"), auto_now_add=True)

    class Meta:
        db_table = "luffy_manual_grant"
        verbose_name = _("人工开通课程")
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} ← {self.course_id}: {self.reason}"
