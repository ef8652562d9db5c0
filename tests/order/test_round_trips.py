"""What one placement and one notify cost the database: statements, transactions, commits.

Pinned because they are the hot writes of the shop (issue 12): a new query or an extra commit
here shows up in every order. The counts are the same on SQLite and MariaDB (`make test` runs
both). Commits are counted from the statements: one COMMIT, and no write outside BEGIN..COMMIT
(a write in autocommit is a commit of its own; MariaDB's Com_commit does not count those).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.order.models import CourseEntitlement, Order, PaymentNotification

from .conftest import PAY_URL, post_form, signed_notify

Outcome = PaymentNotification.Outcome
TRADE_NO = "2026112522001400000000000555"


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def data_statements(sqls: list[str]) -> list[str]:
    """Without transaction control (BEGIN, COMMIT, savepoints)."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [s for s in sqls if not s.upper().startswith(control)]


@pytest.mark.django_db
def test_placing_an_order_takes_seven_statements(alipay, auth_client, course):
    """Token's user, the courses and their prices, then under the buyer's lock: owned courses,
    open orders, the order and its lines. Whether the buyer owns a course is asked once."""
    with CaptureQueriesContext(connection) as captured:
        response = auth_client.post(
            PAY_URL, {"courses": [course.pk], "total_amount": "99.90"}, format="json"
        )
    assert response.status_code == 201
    sqls = data_statements(statements(captured))
    assert len(sqls) == 7, "\n".join(sqls)
    assert sum("luffy_user_course" in s for s in sqls) == 1


@pytest.mark.django_db(transaction=True)
def test_a_first_notify_settles_and_logs_in_one_transaction(alipay, alipay_keys, place, course):
    _, order = place([course], "99.90")
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with CaptureQueriesContext(connection) as captured:
        assert post_form(APIClient(), params).content == b"success"
    sqls = statements(captured)
    # Everything between one BEGIN and one COMMIT: nothing written in autocommit around it.
    assert sqls[0].startswith("BEGIN") and sqls[-1] == "COMMIT", "\n".join(sqls)
    assert sqls.count("COMMIT") == 1
    data = data_statements(sqls)
    # order (locked once, updated once), its lines, buyer and courses locked, owned courses,
    # entitlements, students, the log entry with its outcome: no UPDATE of the log afterwards.
    assert len(data) == 9, "\n".join(data)
    assert sum(s.startswith("UPDATE") and "luffy_payment_notification" in s for s in data) == 0
    assert sum("FROM `luffy_order` " in s or 'FROM "luffy_order" ' in s for s in data) == 1
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(order=order).count() == 1
    [entry] = PaymentNotification.objects.all()
    assert (entry.outcome, entry.verified) == (Outcome.SETTLED, True)


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_notify_is_one_locked_read_and_one_log_insert(
    alipay, alipay_keys, place, send_notify, course
):
    _, order = place([course], "99.90")
    assert send_notify(order, trade_no=TRADE_NO).content == b"success"
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with CaptureQueriesContext(connection) as captured:
        assert post_form(APIClient(), params).content == b"success"
    sqls = statements(captured)
    assert sqls[0].startswith("BEGIN") and sqls[-1] == "COMMIT", "\n".join(sqls)
    data = data_statements(sqls)
    assert len(data) == 2 and data[1].startswith("INSERT"), "\n".join(data)
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        Outcome.SETTLED,
        Outcome.DUPLICATE,
    ]
