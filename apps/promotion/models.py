"""Flash sales (限时秒杀): a course at a sale price for a number of seats in a time window, and
who holds which seat."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.course.models import Course
from apps.order.models import Order


class FlashSale(models.Model):
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="flash_sales", verbose_name=_("课程")
    )
    sale_price = models.DecimalField(
        _("秒杀价"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    seats = models.PositiveIntegerField(_("名额"), validators=[MinValueValidator(1)])
    # The seats not held by an order now; taken with one conditional UPDATE (services.py).
    seats_left = models.PositiveIntegerField(_("剩余名额"), editable=False, default=0)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        db_table = "luffy_flash_sale"
        verbose_name = _("限时秒杀")
        verbose_name_plural = verbose_name
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="flash_sale_window")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="flash_sale_window_order"
            ),
            models.CheckConstraint(condition=Q(sale_price__gt=0), name="flash_sale_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.course} ¥{self.sale_price}"

    def save(self, *args, **kwargs) -> None:
        if self._state.adding:
            self.seats_left = self.seats
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("结束时间须晚于开始时间")})


class FlashSeat(models.Model):
    """A seat a buyer took. `holding` is True while the seat is theirs and NULL once given back:
    NULLs never collide in a unique index (SQLite and MariaDB alike), so (sale, buyer, holding)
    allows one held seat per buyer and any number given back."""

    sale = models.ForeignKey(
        FlashSale, on_delete=models.PROTECT, related_name="taken_seats", verbose_name=_("秒杀")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="flash_seats",
        verbose_name=_("买家"),
    )
    order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flash_seat",
        verbose_name=_("订单"),
    )
    holding = models.BooleanField(_("占用中"), null=True, default=True)
    taken_at = models.DateTimeField(_("抢到时间"), auto_now_add=True)
    released_at = models.DateTimeField(_("释放时间"), null=True, blank=True)

    class Meta:
        db_table = "luffy_flash_seat"
        verbose_name = _("秒杀名额")
        verbose_name_plural = verbose_name
        ordering = ["-taken_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sale", "buyer", "holding"], name="flash_seat_one_per_buyer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sale_id}: {self.buyer_id}"
