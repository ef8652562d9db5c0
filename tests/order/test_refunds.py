"""Refunds: staff refunds (service and admin form), lost answers, console refunds by notify."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.exceptions import ValidationError

from apps.course.models import Course
from apps.order import services
from apps.order.models import CourseEntitlement, Order, PaymentNotification, Refund
from tests.factories import CourseFactory, UserFactory
from utils.exceptions import Conflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def courses(db) -> list[Course]:
    return [CourseFactory(price=Decimal(p)) for p in ("99.90", "10.00", "0.50")]


@pytest.fixture
def paid_order(alipay, make_order):
    """An order paid at Alipay (the fake knows the trade) and settled here."""

    def make(courses, **kwargs) -> Order:
        order = make_order(courses, status=Order.Status.PAID, **kwargs)
        alipay.pay(order.out_trade_no, order.total_amount, trade_no=order.trade_no)
        return order

    return make


def owned(user) -> set[int]:
    return set(CourseEntitlement.objects.filter(user=user).values_list("course_id", flat=True))


def students(course: Course) -> int:
    course.refresh_from_db()
    return course.students


def status_of(order: Order) -> int:
    order.refresh_from_db()
    return order.order_status


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def test_refunding_a_whole_order_pays_back_everything_and_takes_every_course_back(
    alipay, paid_order, courses, user, staff
):
    order = paid_order(courses)
    assert owned(user) == {c.pk for c in courses}

    refund = services.refund_order(order, reason="买家申请", staff=staff)

    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.amount == Decimal("110.40") and refund.staff == staff
    assert refund.finished_at is not None and refund.alipay_answer["code"] == "10000"
    assert set(refund.lines.values_list("course_id", flat=True)) == {c.pk for c in courses}
    assert alipay.refunded_total(order.out_trade_no) == Decimal("110.40")
    [call] = alipay.requests_for("alipay.trade.refund")
    assert call["signature_ok"]
    assert call["biz_content"]["out_request_no"] == refund.out_request_no
    assert call["biz_content"]["refund_amount"] == "110.40"
    assert owned(user) == set()
    assert [students(c) for c in courses] == [0, 0, 0]
    assert status_of(order) == Order.Status.REFUNDED


def test_refunding_chosen_lines_leaves_the_others_and_marks_the_order_partly_refunded(
    alipay, paid_order, courses, user, staff
):
    order = paid_order(courses)
    line = order.lines.get(course=courses[1])

    refund = services.refund_order(order, lines=[line], reason="课程不满意", staff=staff)

    assert refund.status == Refund.Status.SUCCEEDED and refund.amount == Decimal("10.00")
    assert owned(user) == {courses[0].pk, courses[2].pk}
    assert [students(c) for c in courses] == [1, 0, 1]
    assert status_of(order) == Order.Status.PARTLY_REFUNDED
    with pytest.raises(Conflict):  # the same line twice
        services.refund_order(order, lines=[line], reason="again", staff=staff)

    rest = services.refund_order(order, reason="全部退掉", staff=staff)

    assert rest.amount == Decimal("100.40")
    assert alipay.refunded_total(order.out_trade_no) == order.total_amount
    assert status_of(order) == Order.Status.REFUNDED
    assert alipay.trades[order.out_trade_no]["trade_status"] == "TRADE_CLOSED"
    with pytest.raises(Conflict):
        services.refund_order(order, reason="nothing left", staff=staff)


def test_students_counter_never_goes_below_zero(alipay, paid_order, courses, staff):
    order = paid_order(courses[:1])
    Course.objects.filter(pk=courses[0].pk).update(students=0)  # corrected by hand meanwhile

    services.refund_order(order, reason="x", staff=staff)

    assert students(courses[0]) == 0


def test_a_refund_needs_a_reason_a_paid_order_and_its_own_lines(
    alipay, make_order, paid_order, courses, staff
):
    unpaid = make_order(courses[:1])
    order = paid_order(courses[1:2])
    other = paid_order(courses[2:])
    with pytest.raises(Conflict):
        services.refund_order(unpaid, reason="x", staff=staff)
    with pytest.raises(ValidationError):
        services.refund_order(order, reason="  ", staff=staff)
    with pytest.raises(ValidationError):
        services.refund_order(order, lines=list(other.lines.all()), reason="x", staff=staff)
    assert not Refund.objects.exists()
    assert alipay.requests_for("alipay.trade.refund") == []


def test_alipay_refusing_a_refund_records_it_failed_and_takes_nothing_back(
    alipay, paid_order, courses, user, staff
):
    order = paid_order(courses[:1])
    alipay.add_refund(order.out_trade_no, "console", "0.10")  # someone refunded in the console

    refund = services.refund_order(order, reason="x", staff=staff)

    assert refund.status == Refund.Status.FAILED
    assert refund.alipay_answer["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert owned(user) == {courses[0].pk}
    assert status_of(order) == Order.Status.PAID


def test_a_lost_refund_answer_is_resolved_by_the_refund_query_never_by_refunding_again(
    alipay, paid_order, courses, user, staff
):
    order = paid_order(courses[:1])
    alipay.mode, alipay.delay = "lost_answer", 4  # refunds, then answers after our 2 s timeout

    refund = services.refund_order(order, reason="x", staff=staff)

    assert refund.status == Refund.Status.SUCCEEDED
    assert [r["method"] for r in alipay.requests][-2:] == [
        "alipay.trade.refund",
        "alipay.trade.fastpay.refund.query",
    ]
    [query] = alipay.requests_for("alipay.trade.fastpay.refund.query")
    assert query["biz_content"]["out_request_no"] == refund.out_request_no
    assert len(alipay.requests_for("alipay.trade.refund")) == 1
    assert alipay.refunded_total(order.out_trade_no) == Decimal("99.90")
    assert owned(user) == set()


def test_a_refund_alipay_never_received_stays_pending_then_reconcile_sends_the_same_number(
    alipay, paid_order, courses, user, staff
):
    order = paid_order(courses[:1])
    alipay.mode = "http500"

    refund = services.refund_order(order, reason="x", staff=staff)

    assert refund.status == Refund.Status.PENDING
    assert owned(user) == {courses[0].pk}  # nothing taken back before the money went back
    assert status_of(order) == Order.Status.PAID
    assert alipay.refunded_total(order.out_trade_no) == 0

    alipay.mode = "ok"
    Refund.objects.filter(pk=refund.pk).update(created_at=refund.created_at.replace(year=2025))
    call_command("reconcile_orders")
    call_command("reconcile_orders")

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    numbers = {
        r["biz_content"]["out_request_no"] for r in alipay.requests_for("alipay.trade.refund")
    }
    assert numbers == {refund.out_request_no}
    assert alipay.refunded_total(order.out_trade_no) == Decimal("99.90")
    assert owned(user) == set()


def test_free_lines_are_refunded_without_asking_alipay(alipay, courses, user, staff, make_order):
    free = CourseFactory(price=Decimal("0"))
    order = make_order([free, courses[0]], status=Order.Status.PAID)
    free_line = order.lines.get(course=free)

    refund = services.refund_order(order, lines=[free_line], reason="x", staff=staff)

    assert (refund.status, refund.amount) == (Refund.Status.SUCCEEDED, Decimal("0"))
    assert alipay.requests_for("alipay.trade.refund") == []
    assert owned(user) == {courses[0].pk}
    assert status_of(order) == Order.Status.PARTLY_REFUNDED


# --- refunds made in Alipay's console -----------------------------------------------------------


def test_a_console_refund_notify_is_recorded_and_takes_the_matching_line_back(
    alipay, paid_order, courses, user, send_notify
):
    order = paid_order(courses)
    fields = {
        "trade_no": order.trade_no,
        "refund_fee": "10.00",
        "gmt_refund": "2026-11-26 09:00:00",
    }

    for _ in range(3):  # Alipay redelivers
        response = send_notify(order, out_biz_no="HZ01RF001", **fields)
        assert (response.status_code, response.content) == (200, b"success")

    [refund] = Refund.objects.all()
    assert (refund.kind, refund.staff, refund.status) == ("console", None, "succeeded")
    assert refund.amount == Decimal("10.00") and refund.out_request_no == "HZ01RF001"
    assert list(refund.lines.values_list("course_id", flat=True)) == [courses[1].pk]
    assert owned(user) == {courses[0].pk, courses[2].pk}
    assert status_of(order) == Order.Status.PARTLY_REFUNDED
    outcomes = list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["refunded", "duplicate", "duplicate"]


def test_a_full_console_refund_closes_the_order_as_refunded(
    alipay, paid_order, courses, user, send_notify
):
    order = paid_order(courses[:2])

    response = send_notify(
        order,
        trade_status="TRADE_CLOSED",
        trade_no=order.trade_no,
        refund_fee="109.90",
        gmt_refund="2026-11-26 09:00:00",
    )

    assert response.content == b"success"
    [refund] = Refund.objects.all()
    assert refund.amount == Decimal("109.90") and refund.lines.count() == 2
    assert owned(user) == set()
    assert status_of(order) == Order.Status.REFUNDED


def test_a_refund_notify_for_our_own_refund_changes_nothing_more(
    alipay, paid_order, courses, user, staff, send_notify
):
    order = paid_order(courses[:2])
    line = order.lines.get(course=courses[0])
    refund = services.refund_order(order, lines=[line], reason="x", staff=staff)

    response = send_notify(
        order, trade_no=order.trade_no, refund_fee="99.90", out_biz_no=refund.out_request_no
    )

    assert response.content == b"success"
    assert Refund.objects.count() == 1
    assert owned(user) == {courses[1].pk}
    assert status_of(order) == Order.Status.PARTLY_REFUNDED


def test_a_console_refund_confirms_our_pending_refund_whose_answer_was_lost(
    alipay, paid_order, courses, user, staff, send_notify
):
    order = paid_order(courses[:1])
    alipay.mode = "http500"
    refund = services.refund_order(order, reason="x", staff=staff)
    assert refund.status == Refund.Status.PENDING

    send_notify(order, trade_status="TRADE_CLOSED", trade_no=order.trade_no, refund_fee="99.90")

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert Refund.objects.count() == 1
    assert owned(user) == set()


# --- the admin ----------------------------------------------------------------------------------


def test_staff_refund_chosen_lines_through_the_admin_form(
    alipay, paid_order, courses, user, staff, client
):
    order = paid_order(courses)
    client.force_login(staff)
    url = f"/admin/order/order/{order.pk}/refund/"
    action = client.post(
        "/admin/order/order/",
        {"action": "refund_order_action", "_selected_action": [order.pk]},
    )
    assert action.status_code == 302 and action["Location"] == url
    page = client.get(url)
    assert page.status_code == 200 and "退款原因" in page.text
    line = order.lines.get(course=courses[0])

    empty = client.post(url, {"lines": [line.pk], "reason": ""})
    assert empty.status_code == 200 and not Refund.objects.exists()
    done = client.post(url, {"lines": [line.pk], "reason": "买家申请退款"})

    assert done.status_code == 302
    [refund] = Refund.objects.all()
    assert (refund.staff, refund.reason, refund.amount) == (staff, "买家申请退款", Decimal("99.90"))
    assert owned(user) == {courses[1].pk, courses[2].pk}
    detail = client.get(f"/admin/order/order/{order.pk}/change/")
    assert refund.out_request_no in detail.text
    assert f'href="{url}"' in detail.text  # the refund button on the order's page


def test_staff_without_the_refund_permission_cannot_open_the_refund_form(
    alipay, paid_order, courses, client
):
    order = paid_order(courses[:1])
    client.force_login(UserFactory(is_staff=True))
    assert client.get(f"/admin/order/order/{order.pk}/refund/").status_code == 403
    assert client.post(f"/admin/order/order/{order.pk}/refund/", {"reason": "x"}).status_code == 403
    assert not Refund.objects.exists()


def test_a_console_refund_of_an_order_whose_paid_notify_was_lost_settles_it_first(
    alipay, make_order, courses, user, send_notify
):
    order = make_order(courses[:2])
    trade_no = alipay.pay(order.out_trade_no, order.total_amount)

    response = send_notify(order, trade_no=trade_no, refund_fee="10.00")

    assert response.content == b"success"
    assert owned(user) == {courses[0].pk}
    assert status_of(order) == Order.Status.PARTLY_REFUNDED
    assert Refund.objects.get().amount == Decimal("10.00")


def test_the_admin_form_offers_every_line_after_a_refund_that_named_none(
    alipay, paid_order, courses, staff, client, send_notify
):
    order = paid_order(courses[:2])
    send_notify(order, trade_no=order.trade_no, refund_fee="0.01")  # matches no line
    assert Refund.objects.get().lines.count() == 0
    client.force_login(staff)

    page = client.get(f"/admin/order/order/{order.pk}/refund/")

    assert len(page.context["form"].fields["lines"].queryset) == 2


def test_a_console_refund_of_a_second_trade_takes_no_course_back(
    alipay, paid_order, courses, user, send_notify
):
    order = paid_order(courses[:1])
    second = "2026000000000000000000000002"

    response = send_notify(order, trade_no=second, refund_fee="99.90", trade_status="TRADE_CLOSED")

    assert response.content == b"success"
    refund = Refund.objects.get()
    assert (refund.trade_no, refund.revokes_courses, refund.lines.count()) == (second, False, 0)
    assert owned(user) == {courses[0].pk}
    assert status_of(order) == Order.Status.PAID


def test_a_console_refund_next_to_a_pending_one_records_only_the_difference(
    alipay, paid_order, courses, user, staff, send_notify
):
    order = paid_order(courses)
    alipay.mode = "http500"
    line = order.lines.get(course=courses[0])
    pending = services.refund_order(order, lines=[line], reason="x", staff=staff)
    assert pending.status == Refund.Status.PENDING
    alipay.mode = "ok"

    # 99.90 (ours, answer lost) + 10.00 made in the console
    send_notify(order, trade_no=order.trade_no, refund_fee="109.90", out_biz_no="HZ-CONSOLE")

    console = Refund.objects.get(kind="console")
    assert console.amount == Decimal("10.00")
    assert list(console.lines.values_list("course_id", flat=True)) == [courses[1].pk]
    pending.refresh_from_db()
    assert pending.status == Refund.Status.PENDING  # the refund query will tell
    assert owned(user) == {courses[0].pk, courses[2].pk}


def test_a_refund_shows_in_the_courses_student_count_at_once(
    alipay, paid_order, courses, staff, api_client
):
    order = paid_order(courses[:1])
    url = f"/api/v1/course/list/{courses[0].pk}/"
    assert api_client.get(url).json()["students"] == 1
    assert api_client.get(url).json()["students"] == 1  # from the course document

    services.refund_order(order, reason="买家申请", staff=staff)

    assert api_client.get(url).json()["students"] == 0
