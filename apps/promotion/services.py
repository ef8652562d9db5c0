"""Flash-sale rules: taking a seat (one per buyer, never more than the sale has), placing its
order at the sale price, and giving the seat back when that order ends unpaid."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from apps.course.models import Course
from apps.order import services as order_services
from apps.order.models import Order
from apps.user.models import User
from utils.exceptions import Conflict
from utils.logging import get_logger

from . import seats
from .models import FlashSale, FlashSeat

logger = get_logger("promotion")

# Redis keeps a sale's keys this long after it ends (returns after the end still count).
KEY_GRACE_SECONDS = 86400
# A seat without an order this long after it was taken lost its placement (the process died
# between the two): far longer than a placement can take (three Alipay closes at most).
ORPHAN_AFTER = timedelta(minutes=10)


class SoldOut(Exception):
    """The database has no seat left (Redis thought it had)."""


def _sold_out() -> Conflict:
    return Conflict(_("已抢光"))


def _holding() -> Conflict:
    return Conflict(_("您已抢到名额,请在订单页完成支付"))


def _check_window(sale: FlashSale, now: datetime) -> None:
    if now < sale.starts_at:
        raise exceptions.ValidationError({"sale": [_("秒杀尚未开始")]})
    if now >= sale.ends_at:
        raise exceptions.ValidationError({"sale": [_("秒杀已结束")]})


def buy_flash_sale(
    sale_id: int,
    *,
    buyer: User,
    pay_channel: order_services.PayChannel = order_services.PayChannel.PAGE,
) -> order_services.PlacedOrder:
    """Take a seat of the sale and place its order at the sale price, payable for
    FLASH_SALE_PAY_MINUTES, with the pay URL of the cashier asked (`pay_channel`): 404 unknown
    sale, 400 outside its window, 409 sold out or already holding a seat (or owning the
    course). A placement that fails gives the seat back.

    Races with every other buyer of the sale: Redis (when the shared cache is Redis) admits at
    most the seats left, then the database takes the seat with one conditional UPDATE, which
    only as many buyers as there are seats can win; the unique (sale, buyer, holding) row keeps
    one seat per buyer even if Redis forgot.
    """
    sale = FlashSale.objects.filter(pk=sale_id, course__in=Course.objects.visible()).first()
    if sale is None:
        raise exceptions.NotFound(_("秒杀活动不存在"))
    now = timezone.now()
    _check_window(sale, now)
    ttl = int((sale.ends_at - now).total_seconds()) + KEY_GRACE_SECONDS
    gate = seats.take(sale.pk, buyer.pk, seats_left=sale.seats_left, ttl_seconds=ttl)
    if gate == seats.Gate.SOLD_OUT:
        raise _sold_out()
    if gate == seats.Gate.HOLDING:
        raise _holding()
    if gate == seats.Gate.NO_REDIS and sale.seats_left <= 0:
        # Sold out when the sale was read: most of a burst arrives after the last seat went,
        # and is answered here without a transaction (bench/flash.py: the burst's 409s). A seat
        # given back a moment later goes to the next try.
        raise _holding() if _holds_seat(sale, buyer) else _sold_out()
    try:
        seat = _take_in_database(sale, buyer)
    except SoldOut:
        seats.give_back(sale.pk, buyer.pk, sold_out=True)
        raise _sold_out() from None
    except Exception:
        seats.give_back(sale.pk, buyer.pk)
        raise
    try:
        placed = order_services.place_sale_order(
            buyer=buyer,
            course_id=sale.course_id,
            sale_price=sale.sale_price,
            pay_minutes=settings.FLASH_SALE_PAY_MINUTES,
            pay_channel=pay_channel,
        )
    except Exception:
        _give_back(seat)
        raise
    FlashSeat.objects.filter(pk=seat.pk).update(order=placed.order)
    logger.info(
        "Flash sale %s: seat taken by user %s, order %s",
        sale.pk,
        buyer.pk,
        placed.order.out_trade_no,
    )
    return placed


def _holds_seat(sale: FlashSale, buyer: User) -> bool:
    return FlashSeat.objects.filter(sale=sale, buyer=buyer, holding=True).exists()


def _take_in_database(sale: FlashSale, buyer: User) -> FlashSeat:
    """One seat for the buyer: SoldOut when none is left, 409 when they hold one."""
    with transaction.atomic():
        if _holds_seat(sale, buyer):
            raise _holding()
        taken = FlashSale.objects.filter(pk=sale.pk, seats_left__gt=0).update(
            seats_left=F("seats_left") - 1
        )
        if not taken:
            raise SoldOut()
        try:
            with transaction.atomic():
                return FlashSeat.objects.create(sale=sale, buyer=buyer)
        except IntegrityError:  # the same buyer at the same instant: the UPDATE rolls back too
            raise _holding() from None


def _give_back(seat: FlashSeat) -> None:
    """The seat returns to the sale (and to the Redis counter once committed); once only."""
    with transaction.atomic():
        released = FlashSeat.objects.filter(pk=seat.pk, holding=True).update(
            holding=None, released_at=timezone.now()
        )
        if released:
            FlashSale.objects.filter(pk=seat.sale_id).update(seats_left=F("seats_left") + 1)
            transaction.on_commit(lambda: seats.give_back(seat.sale_id, seat.buyer_id))


ENDED_UNPAID = frozenset({Order.Status.CANCELLED, Order.Status.TIMED_OUT})


def follow_order_status(sender, *, order: Order, previous, by, **kwargs) -> None:
    """Receiver of order `status_changed`, in the transaction that changed it (the order's row
    lock held): an unpaid order cancelled or timed out gives its seat back; an ended one paid
    late (Alipay could not close the trade in time) takes it again."""
    if previous == Order.Status.UNPAID and order.order_status in ENDED_UNPAID:
        seat = FlashSeat.objects.filter(order=order, holding=True).first()
        if seat is not None:
            _give_back(seat)
            logger.info(
                "Flash sale %s: seat of order %s back on sale", seat.sale_id, order.out_trade_no
            )
    elif previous in ENDED_UNPAID and order.is_paid:
        seat = FlashSeat.objects.filter(order=order, holding=None).first()
        if seat is not None:
            _take_back(seat)


def _take_back(seat: FlashSeat) -> None:
    """A late payment keeps its seat: the sale counts it sold again. When the seat was sold
    to someone else meanwhile, the sale is over its seats by one; the money is kept (the
    buyer paid for the course) and staff see it in the log and the admin."""
    taken = FlashSale.objects.filter(pk=seat.sale_id, seats_left__gt=0).update(
        seats_left=F("seats_left") - 1
    )
    try:
        with transaction.atomic():
            FlashSeat.objects.filter(pk=seat.pk).update(holding=True, released_at=None)
    except IntegrityError:  # the buyer holds another seat of this sale: keep this one released
        pass
    if not taken:
        logger.warning(
            "Flash sale %s: a late payment took a seat over the sale's count", seat.sale_id
        )


def release_orphan_seats(now: datetime | None = None) -> int:
    """Give back the seats taken more than ORPHAN_AFTER ago that never got their order (the
    process died between taking the seat and placing it); returns how many."""
    cutoff = (now or timezone.now()) - ORPHAN_AFTER
    orphans = list(FlashSeat.objects.filter(holding=True, order=None, taken_at__lt=cutoff))
    for seat in orphans:
        _give_back(seat)
        logger.warning(
            "Flash sale %s: seat of user %s had no order, back on sale", seat.sale_id, seat.buyer_id
        )
    return len(orphans)
