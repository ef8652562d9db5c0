"""The sales block is on the admin index for staff who may view orders, and only for them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_who_may_view_orders_see_the_sales_block():
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_order"))

    response = client_for(staff).get("/admin/")

    assert 'id="sales-dashboard"' in response.text
    assert "dashboard/dashboard.css" in response.text  # our own static file, no CDN
    assert "<script" not in response.text.split('id="sales-dashboard"')[1].split("</section>")[0]


def test_other_staff_see_the_index_without_sales_figures():
    response = client_for(UserFactory(is_staff=True)).get("/admin/")

    assert response.status_code == 200
    assert 'id="sales-dashboard"' not in response.text


def test_the_header_and_the_site_link():
    response = client_for(UserFactory(is_staff=True, is_superuser=True)).get("/admin/")

    assert "路飞学城 管理后台" in response.text
    assert response.context["site_url"] == "/"
