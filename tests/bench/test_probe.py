"""bench/probe.py: commits and requests per request, the time waited for MariaDB, and a first
notify delivery's statements in one request."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

import pytest

from apps.course.models import Course, CourseDocument
from apps.order.models import CourseEntitlement, Order, PaymentNotification
from bench import probe
from bench.probe import commits_in
from tests.factories import CourseFactory, UserFactory
from tests.order.conftest import NOTIFY_URL, signed_notify


def test_each_commit_and_each_write_in_autocommit_count_as_one_commit():
    # The notify before issue 12: log INSERT, the settlement's transaction, outcome UPDATE.
    old_notify = [
        "INSERT INTO log",
        "BEGIN",
        "SELECT ... FOR UPDATE",
        "UPDATE o",
        "COMMIT",
        "UPDATE log",
    ]
    assert commits_in(old_notify) == 3
    assert commits_in(["BEGIN", "SELECT ... FOR UPDATE", "INSERT INTO log", "COMMIT"]) == 1


def test_reads_and_rolled_back_transactions_commit_nothing():
    assert commits_in(["SELECT 1", "SELECT 2"]) == 0
    assert commits_in(["BEGIN IMMEDIATE", "INSERT INTO t", "ROLLBACK"]) == 0


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)
def test_the_driver_counts_a_batch_as_one_request_where_mariadb_counts_each_statement(
    monkeypatch,
):
    from django.db import connection

    from utils.db import batch
    from utils.db.batch import Statement

    connection.ensure_connection()
    cls = type(connection.connection)
    for name in probe.DriverRequests.WAITS:  # restored after the test
        monkeypatch.setattr(cls, name, getattr(cls, name))
    requests = probe.DriverRequests()
    requests.install()
    before = probe.session_counters()
    sent = requests.count
    batch.run([Statement("SELECT 1"), Statement("SELECT 2"), Statement("SELECT 3")])
    sent = requests.count - sent
    assert sent == 1
    assert probe.counter_deltas(before, probe.session_counters())["round_trips"] == 3
    # The time waited is the server's: a statement that sleeps 50 ms is waited for.
    waited = requests.waited_s
    batch.run([Statement("SELECT 1"), Statement("SELECT SLEEP(0.05)")])
    assert 0.05 <= requests.waited_s - waited < 1.0
    waited = requests.waited_s
    batch.run([Statement("SELECT 1")])
    assert requests.waited_s - waited < 0.05


@pytest.mark.django_db(transaction=True)
def test_a_first_delivery_in_one_request_writes_what_the_served_notify_writes(
    alipay, alipay_keys, make_order, send_notify
):
    """notify_first_in_one_request_ms is the served notify's work with the two decisions left
    out: for two like orders, one settled by the view and one by the probe, the same rows."""
    served = make_order([CourseFactory(price=Decimal("10.00"))], owner=UserFactory())
    probed = make_order([CourseFactory(price=Decimal("10.00"))], owner=UserFactory())
    assert send_notify(served).content == b"success"
    params = signed_notify(alipay_keys, probed)
    call = probe.Call("POST", NOTIFY_URL, urlencode(params))

    assert probe.notify_first_in_one_request_ms([call]) > 0

    assert _settled_rows(probed) == _settled_rows(served)
    assert PaymentNotification.objects.get(out_trade_no=probed.out_trade_no).params == params
    # Not a first delivery any more: the probe refuses it rather than time something else.
    with pytest.raises(SystemExit, match="not a first delivery"):
        probe.notify_first_in_one_request_ms([call])


def _settled_rows(order: Order) -> dict:
    order.refresh_from_db()
    (course_id,) = order.lines.values_list("course_id", flat=True)
    entry = PaymentNotification.objects.get(out_trade_no=order.out_trade_no)
    return {
        "status": order.order_status,
        "trade_no": bool(order.trade_no),
        "pay_time": order.pay_time is not None,
        "entitlements": list(
            CourseEntitlement.objects.filter(user_id=order.user_id).values_list(
                "course_id", "order_id"
            )
        )
        == [(course_id, order.pk)],
        "students": Course.objects.get(pk=course_id).students,
        "document": list(
            CourseDocument.objects.filter(course_id=course_id).values_list("generation", "detail")
        ),
        "log": (entry.outcome, entry.detail, entry.verified, entry.body_bytes > 0),
    }
