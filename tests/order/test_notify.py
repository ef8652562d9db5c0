"""POST /api/v1/order/success/: Alipay's asynchronous notify, checked and settled exactly once."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.order.models import CourseEntitlement, Order, PaymentNotification
from tests.factories import CourseFactory
from tests.support.alipay import generate_keypair, sign_notify

from .conftest import NOTIFY_URL, post_form, signed_notify

Outcome = PaymentNotification.Outcome


@pytest.fixture
def order(alipay, place, course):
    return place([course], "99.90")[1]


def assert_untouched(order: Order) -> None:
    order.refresh_from_db()
    assert order.order_status == Order.Status.UNPAID
    assert order.trade_no == "" and order.pay_time is None
    assert not CourseEntitlement.objects.exists()


def last_log() -> PaymentNotification:
    return PaymentNotification.objects.order_by("-id").first()


@pytest.mark.django_db
class TestAccepted:
    @pytest.mark.parametrize("status", ["TRADE_SUCCESS", "TRADE_FINISHED"])
    def test_paid_notify_settles_grants_and_answers_bare_success(
        self, order, send_notify, course, user, status
    ):
        response = send_notify(order, trade_status=status, trade_no="2026112522001400001234567890")
        assert response.status_code == 200
        assert response.content == b"success"
        assert response["Content-Type"].startswith("text/plain")

        order.refresh_from_db()
        assert order.order_status == Order.Status.PAID
        assert order.trade_no == "2026112522001400001234567890"
        # gmt_payment is Beijing time
        assert timezone.localtime(order.pay_time).replace(tzinfo=None) == datetime(
            2026, 11, 25, 10, 0, 0
        )
        assert CourseEntitlement.objects.get(user=user, course=course).order == order
        course.refresh_from_db()
        assert course.students == 1
        log = last_log()
        assert (log.verified, log.outcome, log.out_trade_no) == (
            True,
            Outcome.SETTLED,
            order.out_trade_no,
        )
        assert log.params["trade_no"] == order.trade_no and "sign" in log.params

    def test_same_notify_eight_times_changes_the_order_once(self, order, send_notify, course):
        kwargs = {"trade_no": "2026112522001400000000000008", "notify_id": "n-8"}
        answers = [send_notify(order, **kwargs).content for _ in range(8)]
        assert answers == [b"success"] * 8
        assert CourseEntitlement.objects.count() == 1
        course.refresh_from_db()
        assert course.students == 1
        outcomes = list(
            PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)
        )
        assert outcomes == [Outcome.SETTLED] + [Outcome.DUPLICATE] * 7

    def test_every_course_of_the_order_is_granted(self, alipay, place, send_notify, user):
        courses = CourseFactory.create_batch(3, price=Decimal("10.00"))
        _, order = place(courses, "30")
        assert send_notify(order).content == b"success"
        owned = set(CourseEntitlement.objects.filter(user=user).values_list("course_id", flat=True))
        assert owned == {c.pk for c in courses}

    @pytest.mark.parametrize("previous", [Order.Status.CANCELLED, Order.Status.TIMED_OUT])
    def test_payment_for_a_cancelled_order_is_not_lost(
        self, order, send_notify, user, course, previous, caplog
    ):
        Order.objects.filter(pk=order.pk).update(order_status=previous)
        assert send_notify(order).content == b"success"
        order.refresh_from_db()
        assert order.order_status == Order.Status.PAID
        assert CourseEntitlement.objects.filter(user=user, course=course).exists()
        assert "accepted: order reopened as paid" in caplog.text
        assert last_log().detail == "settled_late"

    def test_trade_closed_cancels_an_unpaid_order(self, order, send_notify):
        assert send_notify(order, trade_status="TRADE_CLOSED").content == b"success"
        order.refresh_from_db()
        assert order.order_status == Order.Status.CANCELLED
        assert last_log().outcome == Outcome.CLOSED

    def test_trade_closed_after_payment_changes_nothing(self, order, send_notify):
        send_notify(order)
        assert send_notify(order, trade_status="TRADE_CLOSED").content == b"success"
        order.refresh_from_db()
        assert order.order_status == Order.Status.PAID
        assert CourseEntitlement.objects.count() == 1
        assert last_log().outcome == Outcome.IGNORED

    def test_wait_buyer_pay_is_acknowledged_without_change(self, order, send_notify):
        assert send_notify(order, trade_status="WAIT_BUYER_PAY").content == b"success"
        assert_untouched(order)

    def test_no_seller_id_configured_means_any_seller(self, order, send_notify, settings):
        settings.ALIPAY = replace(settings.ALIPAY, seller_id="")
        assert send_notify(order, seller_id="2088999999999999").content == b"success"


@pytest.mark.django_db
class TestRejected:
    """Anything we cannot accept answers `failure`, changes nothing and is logged."""

    def check(self, response, order: Order, detail: str, verified: bool = True) -> None:
        assert response.content == b"failure"
        assert response.status_code == 400
        assert_untouched(order)
        log = last_log()
        assert log.outcome == Outcome.REJECTED and log.verified is verified
        assert detail in log.detail

    def test_forged_signature(self, order, alipay_keys):
        params = signed_notify(alipay_keys, order)
        forger = generate_keypair()
        forged = sign_notify({k: v for k, v in params.items() if k != "sign"}, forger.private_pem)
        self.check(post_form(APIClient(), forged), order, "signature", verified=False)

    def test_tampered_amount_breaks_the_signature(self, order, alipay_keys):
        params = signed_notify(alipay_keys, order)
        params["total_amount"] = "0.01"
        self.check(post_form(APIClient(), params), order, "signature", verified=False)

    @pytest.mark.parametrize("sign", ["", "not base64!!", "QUJD"])
    def test_missing_or_garbage_signature(self, order, alipay_keys, sign):
        params = signed_notify(alipay_keys, order)
        params["sign"] = sign
        self.check(post_form(APIClient(), params), order, "signature", verified=False)

    def test_rsa1_sign_type_is_refused(self, order, alipay_keys):
        params = signed_notify(alipay_keys, order)
        params["sign_type"] = "RSA"
        self.check(post_form(APIClient(), params), order, "signature", verified=False)

    def test_wrong_app_id(self, order, send_notify):
        self.check(send_notify(order, app_id="2021000000000999"), order, "app_id")

    def test_wrong_seller(self, order, send_notify):
        self.check(send_notify(order, seller_id="2088999999999999"), order, "seller_id")

    @pytest.mark.parametrize("amount", ["99.89", "9.99", "0.01", "999.00"])
    def test_amount_other_than_the_orders(self, order, send_notify, amount):
        self.check(send_notify(order, total_amount=amount), order, "does not match")

    @pytest.mark.parametrize("amount", ["abc", "", "NaN", "Infinity"])
    def test_amount_that_is_not_a_number(self, order, send_notify, amount):
        self.check(send_notify(order, total_amount=amount), order, "total_amount")

    def test_unknown_order(self, order, send_notify):
        self.check(
            send_notify(order, out_trade_no="20261125000000000000ffffffffffffffff"),
            order,
            "unknown order",
        )

    def test_unknown_order_waiting_for_payment(self, order, send_notify):
        response = send_notify(order, out_trade_no="nope", trade_status="WAIT_BUYER_PAY")
        self.check(response, order, "unknown order")

    def test_unknown_trade_status(self, order, send_notify):
        self.check(send_notify(order, trade_status="TRADE_PENDING"), order, "trade_status")

    def test_closed_notify_with_wrong_amount(self, order, send_notify):
        self.check(
            send_notify(order, trade_status="TRADE_CLOSED", total_amount="1.00"), order, "amount"
        )

    def test_not_configured_answers_failure_for_retry(self, order, send_notify, no_alipay):
        response = send_notify(order)
        assert response.content == b"failure" and response.status_code == 503
        assert_untouched(order)
        assert last_log().outcome == Outcome.ERROR


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, content_type",
    [
        ("", "application/x-www-form-urlencoded"),
        ('{"out_trade_no": "x"}', "application/json"),
        ("--xx\r\ngarbage", "multipart/form-data; boundary=xx"),
        ("a=%ZZ&&&=", "application/x-www-form-urlencoded"),
    ],
)
def test_garbage_notifies_answer_failure(alipay, order, body, content_type):
    response = APIClient().generic("POST", NOTIFY_URL, body, content_type=content_type)
    assert response.content == b"failure"
    assert response.status_code >= 400
    assert_untouched(order)


@pytest.mark.django_db
def test_notify_needs_no_login_and_no_csrf(order, alipay_keys):
    client = APIClient(enforce_csrf_checks=True)
    assert post_form(client, signed_notify(alipay_keys, order)).content == b"success"


def failing_inserts(trigger: str, table: str) -> str:
    """A trigger making every INSERT into `table` fail, on SQLite or MariaDB."""
    if connection.vendor == "sqlite":
        return (
            f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
    return (
        f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'"
    )


@pytest.mark.django_db(transaction=True)
def test_database_error_mid_notify_answers_failure_and_writes_nothing(
    alipay, place, send_notify, course, user
):
    """The order row is updated before the grant fails: the whole settlement must roll back."""
    _, order = place([course], "99.90")
    with connection.cursor() as cursor:
        cursor.execute(failing_inserts("fail_grant", "luffy_user_course"))
    try:
        response = send_notify(order, trade_no="2026112522001400000000000777")
        assert response.content == b"failure" and response.status_code == 503
        assert_untouched(order)
        course.refresh_from_db()
        assert course.students == 0
        assert last_log().outcome == Outcome.ERROR
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER fail_grant")
    # Alipay delivers again: now it settles, once.
    for _ in range(2):
        assert send_notify(order, trade_no="2026112522001400000000000777").content == b"success"
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(user=user).count() == 1
    course.refresh_from_db()
    assert course.students == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "status", [Order.Status.UNPAID, Order.Status.TIMED_OUT], ids=["on-time", "late"]
)
def test_a_log_entry_that_cannot_be_written_with_the_grant_settles_nothing_and_asks_again(
    alipay, place, send_notify, course, user, caplog, status
):
    """The log entry's INSERT is the settlement transaction's last write: when it fails, the
    notify answers as when the log could not be written, not as a failed settlement (nothing
    settled, no entry at all, Alipay delivers again)."""
    _, order = place([course], "99.90")
    Order.objects.filter(pk=order.pk).update(order_status=status)
    with connection.cursor() as cursor:
        cursor.execute(failing_inserts("fail_log", "luffy_payment_notification"))
    try:
        response = send_notify(order, trade_no="2026112522001400000000000778")
        assert response.content == b"failure" and response.status_code == 503
        order.refresh_from_db()
        assert (order.order_status, order.trade_no, order.pay_time) == (status, "", None)
        assert not CourseEntitlement.objects.exists()
        course.refresh_from_db()
        assert course.students == 0
        assert not PaymentNotification.objects.exists()
        errors = [
            r.getMessage()
            for r in caplog.records
            if r.name == "luffy.order.notify" and r.levelno == logging.ERROR
        ]
        assert errors == ["Cannot log an Alipay notify: database unavailable"]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER fail_log")
    assert send_notify(order, trade_no="2026112522001400000000000778").content == b"success"
    detail = "settled" if status == Order.Status.UNPAID else "settled_late"
    assert (last_log().outcome, last_log().detail) == (Outcome.SETTLED, detail)
    assert CourseEntitlement.objects.filter(user=user, order=order).count() == 1


@pytest.mark.django_db
def test_a_notify_that_pays_an_order_is_one_log_line_naming_the_order_the_entry_and_the_trade(
    order, send_notify, caplog
):
    with caplog.at_level(logging.INFO):
        assert send_notify(order, trade_no=LATE_TRADE).content == b"success"
    entry = last_log()
    lines = [r.getMessage() for r in caplog.records if order.out_trade_no in r.getMessage()]
    assert lines == [
        f"Alipay notify {entry.pk} for {order.out_trade_no}: settled settled, "
        f"order paid (trade {LATE_TRADE})"
    ]
    # Outside the notify (the return page, reconcile) the settlement logs its own line.
    from apps.order import services

    settled = services.SettledPayment("x", "t", services.Settlement.SETTLED, None)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        services.finish_settlement(settled)
    assert [r.getMessage() for r in caplog.records] == ["Order x paid (trade t)"]


# --- the redelivery read without a lock (services.is_redelivery), then settled -----------------

LATE_TRADE = "2026112522001400000000000901"


def read_then(monkeypatch, change) -> None:
    """The notify's unlocked redelivery check answers what it read, then `change` commits:
    another request that ran between that read and the settlement's lock."""
    from apps.order import services

    real = services.is_redelivery

    def read_and_change(*args, **kwargs):
        found = real(*args, **kwargs)
        change()
        return found

    monkeypatch.setattr(services, "is_redelivery", read_and_change)


@pytest.mark.django_db(transaction=True)
def test_an_order_settled_by_another_delivery_after_the_read_is_not_settled_twice(
    order, send_notify, course, user, monkeypatch
):
    from apps.order import services

    def other_delivery() -> None:
        services.settle_payment(
            order.out_trade_no, trade_no=LATE_TRADE, total_amount=order.total_amount, paid_at=None
        )

    read_then(monkeypatch, other_delivery)
    assert send_notify(order, trade_no=LATE_TRADE).content == b"success"
    assert (last_log().outcome, last_log().detail) == (Outcome.DUPLICATE, "duplicate")
    assert CourseEntitlement.objects.filter(user=user).count() == 1
    course.refresh_from_db()
    assert course.students == 1


@pytest.mark.django_db(transaction=True)
def test_an_order_timed_out_after_the_read_is_settled_late_under_the_lock(
    order, send_notify, course, user, monkeypatch
):
    def timeout() -> None:
        Order.objects.filter(pk=order.pk).update(order_status=Order.Status.TIMED_OUT)

    read_then(monkeypatch, timeout)
    assert send_notify(order, trade_no=LATE_TRADE).content == b"success"
    # What the locked read saw (timed out), not what the unlocked one did (unpaid).
    assert (last_log().outcome, last_log().detail) == (Outcome.SETTLED, "settled_late")
    order.refresh_from_db()
    assert (order.order_status, order.trade_no) == (Order.Status.PAID, LATE_TRADE)
    assert CourseEntitlement.objects.filter(user=user, order=order).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trade_no", [LATE_TRADE, "2026112522001400000000000902"])
@pytest.mark.parametrize("amount", ["99.90", "99.91"])
def test_the_unlocked_read_is_a_redelivery_only_when_the_locked_settlement_changes_nothing(
    order, send_notify, trade_no, amount
):
    """is_redelivery answers without a lock; it may only be True when settle_under_lock, the
    locked path, answers DUPLICATE and opens no refund."""
    from django.db import transaction

    from apps.order import services

    assert not services.is_redelivery(
        order.out_trade_no, trade_no=LATE_TRADE, total_amount=order.total_amount
    )
    assert send_notify(order, trade_no=LATE_TRADE).content == b"success"
    kwargs = {"trade_no": trade_no, "total_amount": Decimal(amount)}
    redelivery = services.is_redelivery(order.out_trade_no, **kwargs)
    with transaction.atomic():
        try:
            answer = services.settle_under_lock(order.out_trade_no, paid_at=None, **kwargs)
            unchanged = answer.result is services.Settlement.DUPLICATE and answer.refund is None
        except services.SettlementRejected:
            unchanged = False  # the notify is answered and logged as rejected, not duplicate
        transaction.set_rollback(True)
    assert redelivery == unchanged
    assert redelivery == (trade_no == LATE_TRADE and amount == "99.90")


@pytest.mark.django_db
def test_an_unexpected_error_while_settling_is_logged_at_error_with_its_traceback(
    order, send_notify, monkeypatch, caplog
):
    from apps.order import services

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in settlement")

    monkeypatch.setattr(services, "settle_under_lock", broken)
    with caplog.at_level("INFO", logger="luffy.order.notify"):
        response = send_notify(order, trade_no=LATE_TRADE)
    # Alipay reads `failure` and delivers it again; no HTML page.
    assert (response.status_code, response.content) == (503, b"failure")
    [record] = [r for r in caplog.records if r.name == "luffy.order.notify"]
    assert record.levelname == "ERROR"
    assert f"Alipay notify for {order.out_trade_no} failed unexpectedly" in record.getMessage()
    assert record.exc_info and "a bug in settlement" in str(record.exc_info[1])
    assert_untouched(order)
