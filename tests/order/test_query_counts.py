"""What one placement and one notify cost the database: queries, one transaction, one commit.

Pinned because they are the hot writes of the shop: a new query or an extra commit here shows up
in every order. The counts include BEGIN and COMMIT, as Django records them, and are the same
on SQLite and MariaDB (`make test` runs both).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.course.models import Course
from apps.order.models import CourseEntitlement, Order, PaymentNotification
from tests.factories import CourseFactory

from .conftest import PAY_URL, post_form, signed_notify

Outcome = PaymentNotification.Outcome
TRADE_NO = "2026112522001400000000000555"


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def table(sql: str) -> str:
    return sql.split(" FROM ")[1].split()[0].strip('`"')


@pytest.mark.django_db(transaction=True)
def test_placing_an_order_takes_nine_queries_and_one_commit(
    alipay, auth_client, course, django_assert_num_queries
):
    """The token's user and the prices; then BEGIN, the buyer's lock, the courses the buyer
    owns, the open orders, the order and its lines, COMMIT."""
    with django_assert_num_queries(9) as captured:
        response = auth_client.post(
            PAY_URL, {"courses": [course.pk], "total_amount": "99.90"}, format="json"
        )
    assert response.status_code == 201
    sqls = statements(captured)
    assert sqls[2].startswith("BEGIN") and sqls[-1] == "COMMIT", "\n".join(sqls)
    assert sqls.count("COMMIT") == 1
    assert sum("luffy_user_course" in s for s in sqls) == 1  # ownership is asked once


@pytest.mark.django_db(transaction=True)
def test_a_first_notify_settles_and_logs_in_one_transaction_of_fourteen_queries(
    alipay, alipay_keys, place, course, django_assert_num_queries
):
    """The redelivery check (no lock); BEGIN, the order locked, marked paid, the coupon it holds
    marked used (one UPDATE, none to find when it has none), its lines' courses,
    the buyer and the courses locked, the owned courses, the entitlements, the students, the
    course documents emptied (they show `students`), the log entry with its outcome; COMMIT.
    Nothing written in autocommit around it, no UPDATE of the log afterwards."""
    _, order = place([course], "99.90")
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with django_assert_num_queries(14) as captured:
        assert post_form(APIClient(), params).content == b"success"
    sqls = statements(captured)
    assert sqls[0].startswith("SELECT") and "FOR UPDATE" not in sqls[0], "\n".join(sqls)
    assert sqls[1].startswith("BEGIN") and sqls[-1] == "COMMIT", "\n".join(sqls)
    assert sqls.count("COMMIT") == 1
    assert sqls[-2].startswith("INSERT") and "luffy_payment_notification" in sqls[-2]
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(order=order).count() == 1
    [entry] = PaymentNotification.objects.all()
    assert (entry.outcome, entry.verified) == (Outcome.SETTLED, True)


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_notify_is_one_read_and_one_log_insert_without_a_transaction(
    alipay, alipay_keys, place, send_notify, course, django_assert_num_queries
):
    _, order = place([course], "99.90")
    assert send_notify(order, trade_no=TRADE_NO).content == b"success"
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with django_assert_num_queries(2) as captured:
        assert post_form(APIClient(), params).content == b"success"
    sqls = statements(captured)
    # The log entry is the only write: in autocommit, its own commit.
    assert sqls[0].startswith("SELECT") and "FOR UPDATE" not in sqls[0], "\n".join(sqls)
    assert sqls[1].startswith("INSERT") and "luffy_payment_notification" in sqls[1]
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        Outcome.SETTLED,
        Outcome.DUPLICATE,
    ]


@pytest.mark.django_db(transaction=True)
def test_a_first_notify_locks_the_order_then_the_buyer_then_the_courses_in_id_order(
    alipay, alipay_keys, place
):
    """The order every state change takes its locks in (deadlock-free), where the backend can."""
    first, second = CourseFactory(price=Decimal("10.00")), CourseFactory(price=Decimal("20.00"))
    _, order = place([second, first], "30.00")  # lines in the other order than the ids
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with CaptureQueriesContext(connection) as captured:
        assert post_form(APIClient(), params).content == b"success"
    locking = [s for s in statements(captured) if s.endswith("FOR UPDATE")]
    if not connection.features.has_select_for_update:  # SQLite: the first write locks it all
        assert locking == []
        return
    assert [table(s) for s in locking] == ["luffy_order", "luffy_user", "luffy_course"]
    assert "ORDER BY" in locking[2]
    assert sorted([first.pk, second.pk]) == list(
        Course.objects.filter(students=1).order_by("pk").values_list("pk", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_a_settled_order_and_its_entitlements_carry_the_time_they_were_written(
    alipay, alipay_keys, place, course
):
    _, order = place([course], "99.90")
    before = timezone.now()
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    assert post_form(APIClient(), params).content == b"success"
    after = timezone.now()
    order.refresh_from_db()
    assert order.trade_no == TRADE_NO
    # MariaDB's DATETIME(6) and SQLite both keep microseconds: within the request, exactly.
    assert before <= order.updated_time <= after
    [entitlement] = CourseEntitlement.objects.filter(order=order)
    assert before <= entitlement.created_time <= after
    assert entitlement.user_id == order.user_id and entitlement.course_id == course.pk


@pytest.mark.django_db(transaction=True)
def test_the_log_entry_a_paid_notify_writes_reads_back_whole(
    alipay, alipay_keys, place, course, caplog
):
    _, order = place([course], "99.90")
    before = timezone.now()
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with caplog.at_level("INFO", logger="luffy.order.notify"):
        assert post_form(APIClient(), params).content == b"success"
    [entry] = PaymentNotification.objects.all()
    assert entry.params == params
    assert (entry.out_trade_no, entry.trade_status) == (order.out_trade_no, "TRADE_SUCCESS")
    assert (entry.outcome, entry.verified, entry.detail) == (Outcome.SETTLED, True, "settled")
    assert entry.client_ip == "127.0.0.1" and entry.body_bytes > 0
    assert before <= entry.received_at <= timezone.now()
    # The new id reached the instance: the log line names the entry it wrote.
    assert f"Alipay notify {entry.pk} for {order.out_trade_no}" in caplog.text


@pytest.mark.django_db
def test_a_placed_order_reads_back_with_its_amount_times_and_lines(alipay, place, user):
    first, second = CourseFactory(price=Decimal("10.10")), CourseFactory(price=Decimal("0.20"))
    before = timezone.now()
    response, order = place([first, second], "10.30")
    assert response.status_code == 201
    assert (order.user_id, order.total_amount) == (user.pk, Decimal("10.30"))
    assert order.order_status == Order.Status.UNPAID and order.pay_type == Order.PayType.ALIPAY
    assert before <= order.created_time <= order.updated_time <= timezone.now()
    assert order.expires_at > order.created_time
    assert list(order.lines.order_by("course_id").values_list("course_id", "real_price")) == [
        (first.pk, Decimal("10.10")),
        (second.pk, Decimal("0.20")),
    ]
