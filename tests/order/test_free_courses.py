"""A free course is taken, not bought (issue 25): POST order/pay/ for courses that cost nothing
gives them to the shopper at once and makes no order, so 我的订单 shows no "已支付 ¥0.00"."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.course.models import Course
from apps.order.models import CourseEntitlement, Order, OrderDetail
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/order/"
MY_COURSES_URL = "/api/v1/user/courses/"


@pytest.fixture
def free(db):
    return CourseFactory(price=Decimal("0.00"), course_type=Course.CourseType.FREE)


def students(course) -> int:
    course.refresh_from_db()
    return course.students


@pytest.mark.parametrize("configured", [True, False], ids=["alipay", "no-alipay"])
def test_a_free_course_is_the_shoppers_at_once_without_an_order(
    request, place, auth_client, user, free, configured
):
    request.getfixturevalue("alipay" if configured else "no_alipay")

    response, order = place([free], "0.00")

    assert response.status_code == 201
    assert response.json() == {
        "code": 100,
        "msg": "课程已开通",
        "pay_url": None,
        "out_trade_no": None,
    }
    assert order is None
    assert not Order.objects.exists() and not OrderDetail.objects.exists()
    entitlement = CourseEntitlement.objects.get(user=user, course=free)
    assert entitlement.order is None
    assert students(free) == 1
    assert auth_client.get(ORDERS_URL).json()["count"] == 0
    mine = auth_client.get(MY_COURSES_URL).json()["results"]
    assert [(c["id"], c["owned"]) for c in mine] == [(free.pk, True)]


def test_a_course_free_by_a_running_discount_is_taken_the_same_way(alipay, place, user):
    now = timezone.now()
    course = CourseFactory(
        price=Decimal("99.00"),
        discount_price=Decimal("0.00"),
        discount_start=now - timedelta(days=1),
        discount_end=now + timedelta(days=1),
    )

    response, order = place([course], "0")

    assert response.status_code == 201 and order is None
    assert user.entitlements.filter(course=course, order=None).exists()
    assert not Order.objects.exists()


def test_taking_a_free_course_again_is_a_409_that_changes_nothing(alipay, place, user, free):
    place([free], "0")

    response, _ = place([free], "0")

    assert response.status_code == 409
    assert free.name in response.json()["msg"]
    assert CourseEntitlement.objects.filter(user=user).count() == 1
    assert students(free) == 1


def test_one_owned_course_among_free_ones_gives_none_of_them(alipay, place, user, free):
    other = CourseFactory(price=Decimal("0.00"))
    CourseEntitlement.objects.create(user=user, course=other)

    response, _ = place([free, other], "0")

    assert response.status_code == 409
    assert not user.entitlements.filter(course=free).exists()
    assert students(free) == 0


def test_a_free_course_with_a_paid_one_is_an_order_to_pay(alipay, place, user, free):
    paid = CourseFactory(price=Decimal("20.00"))

    response, order = place([free, paid], "20.00")

    assert response.status_code == 201 and response.json()["pay_url"]
    assert order.order_status == Order.Status.UNPAID
    assert sorted(line.real_price for line in order.lines.all()) == [Decimal("0"), Decimal("20")]
    assert not user.entitlements.exists()


def test_an_open_order_from_when_the_course_cost_money_is_cancelled(alipay, place, user):
    course = CourseFactory(price=Decimal("30.00"))
    _, old = place([course], "30.00")
    Course.objects.filter(pk=course.pk).update(price=Decimal("0.00"))

    response, order = place([course], "0.00")

    assert response.status_code == 201 and order is None
    old.refresh_from_db()
    assert old.order_status == Order.Status.CANCELLED
    assert user.entitlements.filter(course=course, order=None).exists()
    assert alipay.requests_for("alipay.trade.close")  # the old trade cannot be paid any more


def test_the_client_must_still_send_the_free_total(alipay, place, free):
    response, _ = place([free], "0.01")

    assert response.status_code == 400 and "total_amount" in response.json()["errors"]
    assert not CourseEntitlement.objects.exists()
