from decimal import Decimal

import pytest

from apps.order.models import CourseEntitlement, Order


@pytest.mark.django_db
def test_place_then_notify_pays_and_grants(alipay, place, send_notify, course, user):
    response, order = place([course], "99.9")
    assert response.status_code == 201, response.json()
    assert order.total_amount == Decimal("99.90")
    r = send_notify(order)
    assert r.content == b"success", r.content
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(user=user, course=course).count() == 1
