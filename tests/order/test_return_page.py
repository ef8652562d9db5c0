"""GET /api/v1/order/success/: the Vue pay-success page asks whether an order is paid.

The order's row is the truth; for an order not marked paid the view asks Alipay (the local
gateway) and settles through the same service as the notify.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.course.models import Course
from apps.order.models import CourseEntitlement, Order, PaymentNotification
from tests.factories import CourseFactory
from tests.support.alipay import sign_notify

from .conftest import NOTIFY_URL, post_form, signed_notify

pytestmark = pytest.mark.django_db

SUCCESS_URL = NOTIFY_URL  # the same URL: GET for the page, POST for Alipay's notify
NOT_YET_MSG = "暂未收到您的付款,请稍后刷新再试"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def check(client, out_trade_no: str | None):
    params = {} if out_trade_no is None else {"out_trade_no": out_trade_no}
    return client.get(SUCCESS_URL, params)


def snapshot(order: Order) -> tuple:
    order = Order.objects.get(pk=order.pk)
    return (order.order_status, order.trade_no, order.pay_time, order.updated_time)


def students(course: Course) -> int:
    return Course.objects.get(pk=course.pk).students


@pytest.fixture
def unpaid(alipay, place, course) -> Order:
    response, order = place([course], "99.9")
    assert response.status_code == 201, response.json()
    assert order.order_status == Order.Status.UNPAID
    return order


def test_a_paid_order_is_reported_paid_without_asking_alipay(
    alipay, unpaid, send_notify, api_client
):
    assert send_notify(unpaid).content == b"success"

    response = check(api_client, unpaid.out_trade_no)

    assert response.status_code == 200
    assert response.json() == {"code": 100, "msg": "支付成功"}
    assert alipay.requests_for("alipay.trade.query") == []


def test_unpaid_and_unknown_to_alipay_is_not_yet(alipay, unpaid, api_client, course):
    response = check(api_client, unpaid.out_trade_no)

    assert response.status_code == 200
    assert response.json() == {"code": 101, "msg": NOT_YET_MSG}
    [query] = alipay.requests_for("alipay.trade.query")  # it did ask
    assert query["biz_content"] == {"out_trade_no": unpaid.out_trade_no}
    assert query["signature_ok"] is True
    unpaid.refresh_from_db()
    assert unpaid.order_status == Order.Status.UNPAID
    assert students(course) == 0


def test_unpaid_and_still_waiting_at_alipay_is_not_yet(alipay, unpaid, api_client):
    alipay.add_trade(unpaid.out_trade_no, unpaid.total_amount)  # cashier opened, not paid
    before = snapshot(unpaid)

    response = check(api_client, unpaid.out_trade_no)

    assert response.json() == {"code": 101, "msg": NOT_YET_MSG}
    assert snapshot(unpaid) == before


@pytest.mark.parametrize("trade_status", ["TRADE_SUCCESS", "TRADE_FINISHED"])
def test_paid_at_alipay_settles_the_order_like_a_notify(
    alipay, unpaid, api_client, user, course, send_notify, trade_status
):
    trade_no = alipay.pay(
        unpaid.out_trade_no,
        "99.90",
        status=trade_status,
        send_pay_date="2026-03-01 10:30:45",
    )

    response = check(api_client, unpaid.out_trade_no)

    assert response.status_code == 200
    assert response.json() == {"code": 100, "msg": "支付成功"}
    unpaid.refresh_from_db()
    assert unpaid.order_status == Order.Status.PAID
    assert unpaid.trade_no == trade_no
    assert unpaid.pay_time == datetime(2026, 3, 1, 10, 30, 45, tzinfo=SHANGHAI)
    [entitlement] = CourseEntitlement.objects.filter(user=user)
    assert entitlement.course_id == course.pk and entitlement.order_id == unpaid.pk
    assert students(course) == 1

    # The same settlement as the notify: the notify that follows is a duplicate.
    late = send_notify(unpaid, trade_no=trade_no)
    assert late.content == b"success"
    [entry] = PaymentNotification.objects.all()
    assert entry.outcome == PaymentNotification.Outcome.DUPLICATE
    # Asking again changes nothing and needs no more queries.
    queries = len(alipay.requests_for("alipay.trade.query"))
    assert check(api_client, unpaid.out_trade_no).json()["code"] == 100
    assert len(alipay.requests_for("alipay.trade.query")) == queries
    assert CourseEntitlement.objects.filter(user=user).count() == 1
    assert students(course) == 1


def test_paid_at_alipay_after_a_notify_was_rejected_for_signature_is_settled(
    alipay, alipay_keys, unpaid, api_client, user
):
    """A forged notify must not pay; Alipay's own answer to the query does."""
    genuine = signed_notify(alipay_keys, unpaid)
    forged = sign_notify(genuine, alipay_keys.app.private_pem)  # right fields, wrong key
    assert post_form(api_client, forged).content == b"failure"
    assert check(api_client, unpaid.out_trade_no).json()["code"] == 101
    alipay.pay(unpaid.out_trade_no, "99.90")
    assert check(api_client, unpaid.out_trade_no).json()["code"] == 100
    assert CourseEntitlement.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("paid", ["0.01", "99.89", "199.80"])
def test_paid_at_alipay_with_another_amount_stays_unpaid(
    alipay, unpaid, api_client, course, caplog, paid
):
    alipay.pay(unpaid.out_trade_no, paid)
    before = snapshot(unpaid)

    with caplog.at_level(logging.WARNING, logger="luffy.order"):
        response = check(api_client, unpaid.out_trade_no)

    assert response.json() == {"code": 101, "msg": NOT_YET_MSG}
    assert snapshot(unpaid) == before
    assert not CourseEntitlement.objects.exists()
    assert students(course) == 0
    assert any(
        r.levelno >= logging.ERROR and unpaid.out_trade_no in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize("mode", ["garbage", "http500", "bad_sign", "slow"])
def test_alipay_unreachable_or_confused_leaves_the_order_alone(
    alipay, settings, unpaid, api_client, course, caplog, mode
):
    settings.ALIPAY = replace(settings.ALIPAY, timeout_seconds=1)
    alipay.pay(unpaid.out_trade_no, "99.90")  # even though it was paid: we cannot know
    alipay.mode = mode
    alipay.delay = 2
    before = snapshot(unpaid)

    with caplog.at_level(logging.WARNING, logger="luffy.order"):
        response = check(api_client, unpaid.out_trade_no)

    assert response.status_code == 200
    assert response.json() == {"code": 101, "msg": NOT_YET_MSG}
    assert snapshot(unpaid) == before
    assert not CourseEntitlement.objects.exists()
    assert students(course) == 0
    assert alipay.requests_for("alipay.trade.query")
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and unpaid.out_trade_no in r.getMessage()
    ]
    assert warnings, caplog.text
    assert warnings[0].name.startswith("luffy.")


def test_a_cancelled_order_that_alipay_reports_paid_is_settled(
    alipay, make_order, course, api_client, user
):
    """The money was taken, so the buyer gets the courses even after a cancel."""
    order = make_order([course], status=Order.Status.CANCELLED)
    alipay.pay(order.out_trade_no, order.total_amount)

    assert check(api_client, order.out_trade_no).json()["code"] == 100
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(user=user, course=course).count() == 1


def test_an_unknown_order_is_a_404_envelope(alipay, api_client):
    response = check(api_client, "20990101000000000000ffffffffffffffff")

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == 404 and body["msg"]
    assert alipay.requests_for("alipay.trade.query") == []


@pytest.mark.parametrize(
    "value", [None, "", "   ", "x" * 65], ids=["missing", "empty", "blank", "too-long"]
)
def test_a_missing_or_overlong_order_number_is_a_400_envelope(alipay, api_client, value):
    response = check(api_client, value)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400
    assert "out_trade_no" in body["errors"]
    assert body["msg"]
    assert alipay.requests_for("alipay.trade.query") == []


def test_surrounding_spaces_are_ignored(alipay, unpaid, api_client):
    alipay.pay(unpaid.out_trade_no, "99.90")
    assert check(api_client, f"  {unpaid.out_trade_no} ").json()["code"] == 100


def test_without_alipay_configured_it_answers_from_the_database(
    request, alipay, place, send_notify, api_client, course
):
    other = CourseFactory(price=Decimal("10.00"))
    _, paid = place([course], "99.9")
    _, unpaid = place([other], "10")
    assert send_notify(paid).content == b"success"
    alipay.pay(unpaid.out_trade_no, "10.00")  # Alipay would say paid, but is not asked
    request.getfixturevalue("no_alipay")

    assert check(api_client, paid.out_trade_no).json() == {"code": 100, "msg": "支付成功"}
    assert check(api_client, unpaid.out_trade_no).json() == {"code": 101, "msg": NOT_YET_MSG}
    assert alipay.requests_for("alipay.trade.query") == []
    unpaid.refresh_from_db()
    assert unpaid.order_status == Order.Status.UNPAID
    assert check(api_client, "20990101000000000000ffffffffffffffff").status_code == 404


def test_the_page_needs_no_login(alipay, unpaid, api_client):
    """The Vue page may call it after the token expired; a bad token must not block it."""
    api_client.credentials(HTTP_AUTHORIZATION="jwt not-a-token")
    assert check(api_client, unpaid.out_trade_no).status_code == 200


def test_the_return_page_check_is_throttled_per_client(alipay, api_client, place, course):
    """60 checks a minute per client (THROTTLE_PAY_STATUS): each may query Alipay."""
    _, order = place([course], "99.90")
    codes = [check(api_client, order.out_trade_no).status_code for _ in range(61)]
    assert codes == [200] * 60 + [429]
    assert len(alipay.requests_for("alipay.trade.query")) == 60
