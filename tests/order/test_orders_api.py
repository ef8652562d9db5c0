"""The buyer's orders, cancelling, owned courses, and ownership in course detail."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.order.models import Order
from tests.conftest import access_token
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/order/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    return client


def test_orders_are_listed_newest_first_with_details(alipay, place, auth_client):
    a, b = CourseFactory(price=Decimal("10.00")), CourseFactory(price=Decimal("20.00"))
    _, first = place([a], "10")
    _, second = place([a, b], "30")
    response = auth_client.get(ORDERS_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [o["out_trade_no"] for o in body["results"]] == [second.out_trade_no, first.out_trade_no]
    latest = body["results"][0]
    assert latest["total_amount"] == "30.00" and latest["order_status"] == 0
    assert latest["order_status_name"] == "未支付"
    assert [(d["course"], d["real_price"]) for d in latest["order_courses"]] == [
        (a.pk, "10.00"),
        (b.pk, "20.00"),
    ]


def test_order_list_query_count_does_not_grow_with_the_page(
    alipay, place, auth_client, django_assert_max_num_queries
):
    courses = CourseFactory.create_batch(12, price=Decimal("1.00"))
    for i in range(0, 12, 2):
        place(courses[i : i + 2], "2")
    # auth user + count + page + details with their courses
    with django_assert_max_num_queries(4):
        assert len(auth_client.get(ORDERS_URL, {"size": 2}).json()["results"]) == 2
    with django_assert_max_num_queries(4):
        assert len(auth_client.get(ORDERS_URL, {"size": 50}).json()["results"]) == 6


def test_others_orders_are_invisible(alipay, place):
    _, order = place([CourseFactory(price=Decimal("1"))], "1")
    stranger = client_for(UserFactory())
    assert stranger.get(ORDERS_URL).json()["count"] == 0
    response = stranger.get(f"{ORDERS_URL}{order.out_trade_no}/")
    assert response.status_code == 404 and response.json()["code"] == 404
    assert stranger.post(f"{ORDERS_URL}{order.out_trade_no}/cancel/").status_code == 404
    order.refresh_from_db()
    assert order.order_status == Order.Status.UNPAID


def test_one_order_by_its_number(alipay, place, auth_client):
    _, order = place([CourseFactory(price=Decimal("1"))], "1")
    body = auth_client.get(f"{ORDERS_URL}{order.out_trade_no}/").json()
    assert body["out_trade_no"] == order.out_trade_no and body["subject"] == order.subject


@pytest.mark.parametrize("url", [ORDERS_URL, f"{ORDERS_URL}x/", f"{ORDERS_URL}x/cancel/"])
def test_order_endpoints_need_login(url):
    client = APIClient()
    response = client.post(url) if url.endswith("cancel/") else client.get(url)
    assert response.status_code == 401 and response.json()["code"] == 401


def test_cancel_an_unpaid_order_closes_the_alipay_trade(alipay, place, auth_client):
    _, order = place([CourseFactory(price=Decimal("5"))], "5")
    alipay.add_trade(order.out_trade_no, "5.00")  # the buyer opened the cashier
    response = auth_client.post(f"{ORDERS_URL}{order.out_trade_no}/cancel/")
    assert response.status_code == 200 and response.json()["code"] == 100
    order.refresh_from_db()
    assert order.order_status == Order.Status.CANCELLED
    assert alipay.trades[order.out_trade_no]["trade_status"] == "TRADE_CLOSED"
    # cancelling again is harmless
    assert auth_client.post(f"{ORDERS_URL}{order.out_trade_no}/cancel/").status_code == 200


def test_cancel_finds_a_payment_that_beat_it(alipay, place, auth_client, user):
    course = CourseFactory(price=Decimal("5"))
    _, order = place([course], "5")
    alipay.pay(order.out_trade_no, "5.00")  # paid, notify not here yet
    response = auth_client.post(f"{ORDERS_URL}{order.out_trade_no}/cancel/")
    assert response.status_code == 409
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert user.entitlements.filter(course=course).exists()


def test_a_paid_order_cannot_be_cancelled(alipay, place, send_notify, auth_client):
    _, order = place([CourseFactory(price=Decimal("5"))], "5")
    send_notify(order)
    response = auth_client.post(f"{ORDERS_URL}{order.out_trade_no}/cancel/")
    assert response.status_code == 409 and response.json()["code"] == 409
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID


def test_cancel_works_while_alipay_is_down(alipay, place, auth_client):
    _, order = place([CourseFactory(price=Decimal("5"))], "5")
    alipay.mode = "http500"
    assert auth_client.post(f"{ORDERS_URL}{order.out_trade_no}/cancel/").status_code == 200
    order.refresh_from_db()
    assert order.order_status == Order.Status.CANCELLED


def test_owned_courses_and_ownership_in_course_detail(alipay, place, send_notify, auth_client):
    bought, other = CourseFactory(price=Decimal("5")), CourseFactory(price=Decimal("6"))
    detail = f"/api/v1/course/list/{bought.pk}/"
    assert auth_client.get(detail).json()["owned"] is False
    _, order = place([bought], "5")
    send_notify(order)

    assert auth_client.get(detail).json()["owned"] is True
    assert auth_client.get(f"/api/v1/course/list/{other.pk}/").json()["owned"] is False
    assert APIClient().get(detail).json()["owned"] is False
    mine = auth_client.get("/api/v1/user/courses/")
    assert mine.status_code == 200
    assert [c["id"] for c in mine.json()["results"]] == [bought.pk]
    assert APIClient().get("/api/v1/user/courses/").status_code == 401


def test_order_admin_is_read_only_for_staff(alipay, place, send_notify, client):
    _, order = place([CourseFactory(price=Decimal("5"))], "5")
    send_notify(order)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    for model in ["order", "orderdetail", "courseentitlement", "paymentnotification"]:
        assert client.get(f"/admin/order/{model}/").status_code == 200, model
        assert client.get(f"/admin/order/{model}/add/").status_code == 403, model
    assert client.get(f"/admin/order/order/{order.pk}/change/").status_code == 200
    assert client.get("/admin/order/order/", {"order_status__exact": 1}).status_code == 200
    response = client.post(
        f"/admin/order/order/{order.pk}/change/", {"order_status": 0, "total_amount": "0"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
