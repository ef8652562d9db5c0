"""What one placement and one notify cost the database: statements, transactions, commits.

Pinned because they are the hot writes of the shop (issue 12): a new query or an extra commit
here shows up in every order. The counts are the same on SQLite and MariaDB (`make test` runs
both). Commits are counted from the statements: one COMMIT, and no write outside BEGIN..COMMIT
(a write in autocommit is a commit of its own; MariaDB's Com_commit does not count those).
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
from tests.support.round_trips import counting_round_trips

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
def test_placing_an_order_takes_six_statements(alipay, auth_client, course):
    """Token's user, the courses and their prices, then the buyer's lock with the owned courses
    (one statement), open orders, the order and its lines. Ownership is asked once."""
    with CaptureQueriesContext(connection) as captured:
        response = auth_client.post(
            PAY_URL, {"courses": [course.pk], "total_amount": "99.90"}, format="json"
        )
    assert response.status_code == 201
    sqls = data_statements(statements(captured))
    assert len(sqls) == 6, "\n".join(sqls)
    assert sum("luffy_user_course" in s for s in sqls) == 1


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)
def test_on_mariadb_placing_an_order_is_three_round_trips(alipay, auth_client, course, monkeypatch):
    """Requests sent to the server, counted at the driver (tests/support/round_trips.py): the
    token's user; BEGIN with the prices, the buyer's lock with the owned courses and the open
    orders (one batch); the order with its lines, which read its new id, and the COMMIT (one
    batch: the pay URL is signed before). Nothing after it, not even the COMMIT alone."""
    body = {"courses": [course.pk], "total_amount": "99.90"}
    with CaptureQueriesContext(connection) as captured, counting_round_trips(monkeypatch) as trips:
        response = auth_client.post(PAY_URL, body, format="json")
    assert response.status_code == 201
    assert len(trips.sent) == 3, trips.sent
    # The prices: Course.objects.visible().with_current_price() compiled (apps/course/pricing.py).
    assert trips.sent[1].startswith("BEGIN;\nSELECT `luffy_course`.`id` AS `pk`"), trips.sent
    assert trips.sent[2].startswith("INSERT INTO `luffy_order` "), trips.sent
    sqls = statements(captured)
    assert sqls[-3].startswith("INSERT INTO `luffy_order` ") and sqls[-1] == "COMMIT", sqls
    assert sqls.count("COMMIT") == 1
    order = Order.objects.get(out_trade_no=response.json()["out_trade_no"])
    assert list(order.lines.values_list("course_id", flat=True)) == [course.pk]


@pytest.mark.django_db(transaction=True)
def test_a_first_notify_reads_the_order_then_settles_and_logs_in_one_transaction(
    alipay, alipay_keys, place, course
):
    _, order = place([course], "99.90")
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with CaptureQueriesContext(connection) as captured:
        assert post_form(APIClient(), params).content == b"success"
    sqls = statements(captured)
    # One read of the order and its lines, no lock; then everything written between one
    # BEGIN and one COMMIT: nothing written in autocommit around it.
    assert sqls[0].startswith("SELECT") and "FOR UPDATE" not in sqls[0], "\n".join(sqls)
    assert sqls[1].startswith("BEGIN") and sqls[-1] == "COMMIT", "\n".join(sqls)
    assert sqls.count("COMMIT") == 1
    data = data_statements(sqls)
    # the order with its lines' courses (one join), the order marked paid (its UPDATE locks
    # it), buyer and courses locked, owned courses, entitlements, students, the course
    # documents emptied (one upsert: they show `students`), the log entry with its outcome:
    # no UPDATE of the log afterwards.
    assert len(data) == 9, "\n".join(data)
    assert sum(s.startswith("UPDATE") and "luffy_payment_notification" in s for s in data) == 0
    assert sum("FROM `luffy_order` " in s or 'FROM "luffy_order" ' in s for s in data) == 1
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(order=order).count() == 1
    [entry] = PaymentNotification.objects.all()
    assert (entry.outcome, entry.verified) == (Outcome.SETTLED, True)


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_notify_is_one_read_and_one_log_insert_without_a_transaction(
    alipay, alipay_keys, place, send_notify, course
):
    _, order = place([course], "99.90")
    assert send_notify(order, trade_no=TRADE_NO).content == b"success"
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with CaptureQueriesContext(connection) as captured:
        assert post_form(APIClient(), params).content == b"success"
    sqls = statements(captured)
    # The log entry is the only write: in autocommit, its own commit.
    assert len(sqls) == 2, "\n".join(sqls)
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
    """The grant's statements are written as SQL (apps/order/services/sql.py): they must still
    lock, in the order every state change takes (deadlock-free), where the backend can. The
    order's lock is taken by the UPDATE that marks it paid."""
    first, second = CourseFactory(price=Decimal("10.00")), CourseFactory(price=Decimal("20.00"))
    _, order = place([second, first], "30.00")  # lines in the other order than the ids
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with CaptureQueriesContext(connection) as captured:
        assert post_form(APIClient(), params).content == b"success"
    data = data_statements(statements(captured))
    locking = [s for s in data if s.endswith("FOR UPDATE")]
    if not connection.features.has_select_for_update:  # SQLite: the first write locks it all
        assert locking == []
        return
    paid = next(i for i, s in enumerate(data) if s.startswith("UPDATE `luffy_order` "))
    assert all(data.index(s) > paid for s in locking)  # the order first
    assert [s.split(" FROM ")[1].split()[0].strip('`"') for s in locking] == [
        "luffy_user",
        "luffy_course",
    ]
    assert "ORDER BY" in locking[1]
    assert locking[1].count("%s") == 0  # the ids were bound, not formatted in
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
def test_the_log_entry_a_paid_notify_writes_as_sql_reads_back_whole(
    alipay, alipay_keys, place, course, caplog
):
    _, order = place([course], "99.90")
    before = timezone.now()
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with caplog.at_level("INFO", logger="luffy.order.notify"):
        assert post_form(APIClient(), params).content == b"success"
    [entry] = PaymentNotification.objects.all()
    assert entry.params == params  # JSON-encoded by the field, as save() would
    assert (entry.out_trade_no, entry.trade_status) == (order.out_trade_no, "TRADE_SUCCESS")
    assert (entry.outcome, entry.verified, entry.detail) == (Outcome.SETTLED, True, "settled")
    assert entry.client_ip == "127.0.0.1" and entry.body_bytes > 0
    assert before <= entry.received_at <= timezone.now()
    # The new id reached the instance: the log line names the entry it wrote.
    assert f"Alipay notify {entry.pk} for {order.out_trade_no}" in caplog.text


@pytest.mark.django_db
def test_an_order_placed_through_sql_reads_back_with_its_amount_times_and_lines(
    alipay, place, user
):
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


def questions() -> int:
    """MariaDB's count of the statements this session sent (reading it is one of them)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Questions'")
        return int(cursor.fetchone()[1])


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)
def test_on_mariadb_a_first_notify_is_eleven_statements_and_a_redelivery_two(
    alipay, alipay_keys, place, course
):
    """What the server runs, transaction control included: the unlocked read, BEGIN, the eight
    writes and locked reads, COMMIT (no SET autocommit: utils/db/mysql); then the read and the
    log entry's INSERT in autocommit. MariaDB's Questions counts statements, not round trips
    (batched statements count one each): those are pinned below, at the driver."""
    _, order = place([course], "99.90")
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    sent = []
    for _ in range(2):
        before = questions()
        assert post_form(APIClient(), params).content == b"success"
        sent.append(questions() - before - 1)
    assert sent == [11, 2]


@pytest.mark.django_db(transaction=True)
def test_the_order_the_notify_reads_as_sql_is_the_order_the_orm_reads(
    alipay, alipay_keys, place, send_notify
):
    """services.sql.order_and_course_ids builds the Order itself (from_db and the ORM's own
    converters): every field as the ORM reads it, unpaid (no pay time) and paid."""
    from apps.order.services import sql

    first, second = CourseFactory(price=Decimal("10.10")), CourseFactory(price=Decimal("0.20"))
    _, order = place([second, first], "10.30")

    def same_as_the_orm() -> None:
        read, course_ids = sql.order_and_course_ids(order.out_trade_no)
        orm = Order.objects.get(pk=order.pk)
        fields = [f.attname for f in Order._meta.concrete_fields]
        assert [getattr(read, f) for f in fields] == [getattr(orm, f) for f in fields]
        assert [type(getattr(read, f)) for f in fields] == [type(getattr(orm, f)) for f in fields]
        assert (read._state.adding, read._state.db) == (False, orm._state.db)
        assert sorted(course_ids) == sorted([first.pk, second.pk])

    same_as_the_orm()
    assert send_notify(order, trade_no=TRADE_NO).content == b"success"
    same_as_the_orm()
    assert sql.order_and_course_ids("no-such-order") is None


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)
def test_on_mariadb_a_first_notify_is_three_round_trips_and_a_redelivery_two(
    alipay, alipay_keys, place, monkeypatch
):
    """Requests sent to the server, counted at the driver (tests/support/round_trips.py): the
    unlocked read; BEGIN with the UPDATE that pays and locks the order, the buyer's and the
    courses' locks and the owned courses (one batch); the grant's writes (entitlements,
    students, documents), the log entry and the COMMIT (one batch). Then the read and the
    INSERT."""
    first, second = CourseFactory(price=Decimal("10.00")), CourseFactory(price=Decimal("20.00"))
    _, order = place([second, first], "30.00")
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    sent = []
    for _ in range(2):
        with counting_round_trips(monkeypatch) as trips:
            assert post_form(APIClient(), params).content == b"success"
        sent.append(trips.sent)
    assert [len(s) for s in sent] == [3, 2], sent
    assert sent[0][1].startswith("BEGIN;\nUPDATE `luffy_order`"), sent
    assert sent[0][2].startswith("INSERT INTO `luffy_user_course`"), sent
    assert "COMMIT" not in sent[0] + sent[1], sent  # not alone, nor a driver's commit()
    assert Course.objects.filter(pk__in=[first.pk, second.pk], students=1).count() == 2
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert PaymentNotification.objects.filter(outcome=Outcome.SETTLED).count() == 1


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)
def test_on_mariadb_a_first_notify_that_opens_a_refund_commits_after_it(
    alipay, alipay_keys, place, auth_client, send_notify, monkeypatch
):
    """A course the buyer owned meanwhile is refunded: its Refund row is written after the
    grant's batch, so that batch must not carry the COMMIT (a statement after it would be
    refused); the COMMIT goes alone, last, and the order settles with its refund."""
    owned, new = CourseFactory(price=Decimal("10.00")), CourseFactory(price=Decimal("20.00"))
    _, cancelled = place([owned, new], "30.00")
    auth_client.post(f"/api/v1/order/{cancelled.out_trade_no}/cancel/")
    _, bought = place([owned], "10.00")
    assert send_notify(bought).content == b"success"
    late_trade = alipay.pay(cancelled.out_trade_no, cancelled.total_amount)
    params = signed_notify(alipay_keys, cancelled, trade_no=late_trade)
    with CaptureQueriesContext(connection) as captured, counting_round_trips(monkeypatch) as trips:
        assert post_form(APIClient(), params).content == b"success"
    sqls = statements(captured)
    commit = sqls.index("COMMIT")
    assert any(s.startswith("INSERT INTO `luffy_order_refund`") for s in sqls[:commit]), sqls
    assert "COMMIT" in trips.sent, trips.sent
    assert trips.sent.index("COMMIT") > next(
        i for i, s in enumerate(trips.sent) if s.startswith("INSERT INTO `luffy_order_refund`")
    ), trips.sent
    [refund] = cancelled.refunds.all()
    assert refund.amount == Decimal("10.00")
    assert CourseEntitlement.objects.filter(order=cancelled, course=new).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_first_notify_that_finds_the_order_changed_rolls_back_before_it_locks_the_order(
    alipay, alipay_keys, place, course, monkeypatch
):
    """The batch that pays the order also locks the buyer and the courses. When its UPDATE
    matches nothing (the order timed out after the read), those locks were taken without the
    order's: the transaction rolls back whole before the order is locked, then it all runs
    again under the order's lock, in the order every state change takes them."""
    from apps.order.services import sql

    _, order = place([course], "99.90")
    real = sql.order_and_course_ids

    def read_then_time_out(out_trade_no: str):
        found = real(out_trade_no)
        Order.objects.filter(pk=order.pk).update(order_status=Order.Status.TIMED_OUT)
        return found

    monkeypatch.setattr(sql, "order_and_course_ids", read_then_time_out)
    params = signed_notify(alipay_keys, order, trade_no=TRADE_NO)
    with CaptureQueriesContext(connection) as captured:
        assert post_form(APIClient(), params).content == b"success"
    # Without the test's own UPDATE (the timeout, in autocommit, during the read).
    sqls = [s for s in statements(captured) if "updated_time" in s or "order_status" not in s]
    rollback = sqls.index("ROLLBACK")
    before, after = sqls[:rollback], sqls[rollback + 1 :]
    # Before: only the conditional UPDATE wrote (it matched nothing), then the locks and reads.
    writes = [s for s in before if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and "luffy_order" in writes[0], "\n".join(before)
    # After: a new transaction whose first statement locks the order.
    assert after[0].startswith("BEGIN"), "\n".join(after)  # SQLite: BEGIN IMMEDIATE
    assert (
        after[1].startswith("SELECT")
        and after[1].split(" FROM ")[1].split()[0].strip('`"') == "luffy_order"
    )
    if connection.features.has_select_for_update:
        assert after[1].endswith("FOR UPDATE")
    assert after[-1] == "COMMIT" and after.count("COMMIT") == 1
    order.refresh_from_db()
    assert (order.order_status, order.trade_no) == (Order.Status.PAID, TRADE_NO)
    [entry] = PaymentNotification.objects.all()
    assert (entry.outcome, entry.detail) == (Outcome.SETTLED, "settled_late")
    assert CourseEntitlement.objects.filter(order=order).count() == 1
