"""A user's page shows their orders and owned courses; users are found by mobile, e-mail, name."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.order.models import CourseEntitlement
from tests.factories import CourseFactory, OrderFactory, OrderLineFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_user_page_lists_their_orders_and_owned_courses(staff_client):
    buyer = UserFactory()
    order = OrderFactory(user=buyer, paid=True, out_trade_no="USER-PAGE-1")
    line = OrderLineFactory(order=order, course=CourseFactory(name="已购的课"))
    CourseEntitlement.objects.create(user=buyer, course=line.course, order=order)
    OrderFactory(out_trade_no="SOMEONE-ELSE")

    response = staff_client.get(f"/admin/user/user/{buyer.pk}/change/")

    assert "USER-PAGE-1" in response.text and "已购的课" in response.text
    assert "SOMEONE-ELSE" not in response.text
    assert "路飞学城资料" in response.text and ">Luffy<" not in response.text


@pytest.mark.parametrize("field", ["mobile", "email", "username"])
def test_users_are_found_by_mobile_email_or_username(staff_client, field):
    wanted = UserFactory(username="zhangsan", mobile="13712345678", email="zs@example.cn")
    UserFactory()

    response = staff_client.get("/admin/user/user/", {"q": getattr(wanted, field)})

    assert list(response.context["cl"].queryset) == [wanted]
