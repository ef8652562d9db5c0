"""Coupons staff define (kind, scope, validity, stock) and the coupons shoppers hold."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.course.models import Course, CourseCategory

MONEY = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class Coupon(models.Model):
    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("满减")  # `amount` off when the eligible lines reach min_spend
        PERCENT = "percent", _("折扣")  # `percent_off` % off, at most `max_discount`
        AMOUNT = "amount", _("立减")  # `amount` off

    class Scope(models.TextChoices):
        ALL = "all", _("全部课程")
        CATEGORIES = "categories", _("指定分类")
        COURSES = "courses", _("指定课程")

    class Validity(models.TextChoices):
        FIXED = "fixed", _("固定日期")
        AFTER_CLAIM = "after_claim", _("领取后N天")

    class Obtain(models.TextChoices):
        CLAIM = "claim", _("用户领取")
        CODE = "code", _("兑换码")
        STAFF = "staff", _("后台发放")
        BATCH = "batch", _("一次性兑换码")  # codes made in batches (CodeBatch), each used once

    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("减免金额"), null=True, blank=True, **MONEY)
    min_spend = models.DecimalField(_("最低消费"), default=Decimal("0.00"), **MONEY)
    percent_off = models.PositiveSmallIntegerField(
        _("折扣百分比"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("填 20 即减两成(八折)"),
    )
    max_discount = models.DecimalField(_("最高减免"), null=True, blank=True, **MONEY)
    scope = models.CharField(_("适用范围"), max_length=16, choices=Scope.choices, default="all")
    categories = models.ManyToManyField(
        CourseCategory, blank=True, related_name="coupons", verbose_name=_("适用分类")
    )
    courses = models.ManyToManyField(
        Course, blank=True, related_name="coupons", verbose_name=_("适用课程")
    )
    validity = models.CharField(
        _("有效期类型"), max_length=16, choices=Validity.choices, default="fixed"
    )
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(_("领取后有效天数"), null=True, blank=True)
    obtain = models.CharField(_("获取方式"), max_length=16, choices=Obtain.choices, default="claim")
    code = models.CharField(_("兑换码"), max_length=32, unique=True, null=True, blank=True)
    claim_starts_at = models.DateTimeField(_("开始领取时间"))
    claim_ends_at = models.DateTimeField(_("结束领取时间"))
    total_stock = models.PositiveIntegerField(_("发行总量"))
    issued = models.PositiveIntegerField(_("已发放"), default=0, editable=False)
    per_user_limit = models.PositiveSmallIntegerField(
        _("每人限领"), default=1, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        db_table = "luffy_coupon"
        verbose_name = _("优惠券")
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]
        constraints = [
            # The claim's conditional update relies on it: stock is never oversold.
            models.CheckConstraint(
                condition=Q(issued__lte=F("total_stock")), name="coupon_issued_within_stock"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.code:
            self.code = self.code.strip().upper()  # redeem_code matches it so
        errors: dict[str, str] = {}
        if self.kind in (self.Kind.THRESHOLD, self.Kind.AMOUNT) and not self.amount:
            errors["amount"] = _("满减、立减券须填写减免金额")
        if self.kind == self.Kind.PERCENT and not self.percent_off:
            errors["percent_off"] = _("折扣券须填写折扣百分比")
        if self.validity == self.Validity.FIXED and not (self.valid_from and self.valid_until):
            errors["valid_until"] = _("固定日期须填写生效和失效时间")
        if self.validity == self.Validity.AFTER_CLAIM and not self.valid_days:
            errors["valid_days"] = _("须填写领取后有效天数")
        if self.obtain == self.Obtain.CODE and not self.code:
            errors["code"] = _("兑换码券须填写兑换码")
        if (
            self.claim_starts_at
            and self.claim_ends_at
            and self.claim_ends_at <= self.claim_starts_at
        ):
            errors["claim_ends_at"] = _("结束领取时间须晚于开始时间")
        if errors:
            raise ValidationError(errors)

    @property
    def stock_left(self) -> int:
        return self.total_stock - self.issued

    def validity_window(self, claimed_at: datetime) -> tuple[datetime, datetime]:
        """When a coupon claimed at `claimed_at` can be used: (from, until)."""
        if self.validity == self.Validity.AFTER_CLAIM:
            return claimed_at, claimed_at + timedelta(days=self.valid_days or 0)
        return self.valid_from or claimed_at, self.valid_until or claimed_at


class UserCoupon(models.Model):
    """A coupon a shopper holds. USABLE until an unpaid order holds it (HELD); the payment of that
    order uses it (USED); the order's expiry or cancel makes it USABLE again. Expired is not a
    status: a USABLE coupon whose `valid_until` has passed."""

    class Status(models.TextChoices):
        USABLE = "usable", _("可使用")
        HELD = "held", _("已锁定")
        USED = "used", _("已使用")

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="holdings", verbose_name=_("优惠券")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="coupons",
        verbose_name=_("用户"),
    )
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default="usable")
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    order = models.ForeignKey(
        "order.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coupons",
        verbose_name=_("使用订单"),
    )
    # What the coupon took off the order holding or using it (set with `order`).
    discount = models.DecimalField(_("优惠金额"), null=True, blank=True, **MONEY)
    obtained_at = models.DateTimeField(_("获得时间"), auto_now_add=True)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        db_table = "luffy_user_coupon"
        verbose_name = _("用户优惠券")
        verbose_name_plural = verbose_name
        ordering = ["valid_until", "id"]
        indexes = [
            models.Index(fields=["user", "status", "valid_until"], name="user_coupon_wallet"),
            models.Index(fields=["coupon", "user"], name="user_coupon_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.coupon_id} {self.status}"


class CodeBatch(models.Model):
    """Single-use redeem codes staff made at once for a BATCH coupon, handed out as a CSV."""

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="code_batches", verbose_name=_("优惠券")
    )
    size = models.PositiveIntegerField(_("数量"))
    note = models.CharField(_("备注"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        db_table = "luffy_coupon_code_batch"
        verbose_name = _("兑换码批次")
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.coupon} #{self.pk}"


class CouponCode(models.Model):
    """One code of a batch: redeemed once (`redeemed_at` set by one conditional update)."""

    batch = models.ForeignKey(
        CodeBatch, on_delete=models.PROTECT, related_name="codes", verbose_name=_("批次")
    )
    code = models.CharField(_("兑换码"), max_length=32, unique=True)
    redeemed_at = models.DateTimeField(_("兑换时间"), null=True, blank=True)
    user_coupon = models.OneToOneField(
        UserCoupon,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="redeemed_code",
        verbose_name=_("兑换所得"),
    )

    class Meta:
        db_table = "luffy_coupon_code"
        verbose_name = _("兑换码")
        verbose_name_plural = verbose_name
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code
