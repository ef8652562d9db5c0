"""Fault drills on a real MariaDB server: the database connection dies mid-settlement, Alipay's
gateway times out or talks nonsense, and the whole application server is SIGKILLed while a
hundred orders and their notifies are in flight.

What must hold every time: a notify that could not be processed answers `failure` (so Alipay
delivers it again), nothing is ever half-written, and Alipay's redelivery settles each order
exactly once.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from rest_framework.test import APIClient

from apps.course.models import Course
from apps.order.models import CourseEntitlement, Order, OrderDetail, PaymentNotification
from tests.conftest import access_token
from tests.factories import CourseFactory, UserFactory
from tests.support.alipay import _stranger_private_pem, notify_params, random_trade_no, sign_notify
from tests.support.app_server import Answer, http_request
from utils.gunicorn_process import GunicornProcess

from .conftest import APP_ID, NOTIFY_URL, PAY_URL, SELLER_ID, post_form, signed_notify
from .test_concurrency import run_together

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]

Outcome = PaymentNotification.Outcome
BASE_DIR = Path(__file__).resolve().parents[2]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- plain HTTP ---------------------------------------------------------------------------------


def post_notify(base_url: str, params: dict[str, str], timeout: float = 20.0) -> Answer:
    return http_request(
        "POST", base_url + NOTIFY_URL, body=urlencode(params), headers=FORM, timeout=timeout
    )


# --- drill 1: the database connection is killed mid-notify --------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _RecordingServer(WSGIServer):
    """After each request (response closed, request_finished sent), report which MariaDB
    connection the serving thread's Django connection still holds (None: closed)."""

    done: queue.Queue

    def process_request(self, request, client_address) -> None:
        try:
            super().process_request(request, client_address)
        finally:
            raw = connections["default"].connection
            self.done.put(raw.thread_id() if raw is not None else None)


class OneThreadServer:
    """The Django app over real HTTP, every request served by one long-lived thread.

    So every request runs on the same thread-local Django connection, and request_finished
    closes (or keeps) it exactly as under gunicorn's sync workers. Django's test client cannot
    show this: it disconnects close_old_connections around its requests.
    """

    def __init__(self) -> None:
        self.server = _RecordingServer(("127.0.0.1", 0), _QuietHandler)
        self.server.set_app(WSGIHandler())
        self.server.done = queue.Queue()
        self.thread = threading.Thread(target=self._serve, name="one-thread-wsgi", daemon=True)

    def _serve(self) -> None:
        try:
            self.server.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def after_request(self) -> int | None:
        """The MariaDB connection id the serving thread held once its last request ended."""
        return self.server.done.get(timeout=30)

    def __enter__(self) -> OneThreadServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


# Where the notify's connection is killed: an insert into this table stalls in a trigger.
KILL_POINTS = {
    # inside the settlement transaction, after the order row was marked paid
    "mid-settlement": "luffy_user_course",
    # the notify's log entry, written in the same transaction: the settlement rolls back with it
    "logging-the-notify": "luffy_payment_notification",
}
STALLED = """SELECT id FROM information_schema.processlist
             WHERE db = DATABASE() AND id <> CONNECTION_ID() AND command = 'Query'
               AND state = 'User sleep' AND info LIKE 'SET @luffy_stalled%%'"""


def wait_for_stalled_insert(timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(STALLED)
            rows = cursor.fetchall()
            if rows:
                assert len(rows) == 1, rows
                return rows[0][0]
            time.sleep(0.02)
    raise AssertionError("the notify never reached the stalled insert")


def live_connection_ids() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM information_schema.processlist")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
@pytest.mark.parametrize("conn_max_age", [0, 60], ids=["per-request-conn", "persistent-conn"])
def test_connection_killed_mid_notify_answers_failure_and_redelivery_settles_once(
    alipay, alipay_keys, place, course, user, monkeypatch, caplog, conn_max_age, kill_point
):
    # Every thread's Django connection reads this dict when it connects.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", conn_max_age)
    _, order = place([course], "99.90")
    trade_no = random_trade_no()
    params = signed_notify(alipay_keys, order, trade_no=trade_no)

    with OneThreadServer() as server, ThreadPoolExecutor(max_workers=1) as pool:
        warm = http_request("GET", server.url + "/api/v1/course/category/")
        assert warm.status == 200
        kept = server.after_request()
        assert (kept is not None) == bool(conn_max_age)  # persistent connections are kept

        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TRIGGER stall_notify BEFORE INSERT ON {KILL_POINTS[kill_point]} "
                "FOR EACH ROW SET @luffy_stalled = SLEEP(30)"
            )
        try:
            pending = pool.submit(post_notify, server.url, params)
            victim = wait_for_stalled_insert()
            if kept is not None:
                assert victim == kept  # the very connection the thread keeps between requests
            killed_at = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("KILL CONNECTION %s", [victim])
            answer = pending.result(timeout=20)
            assert time.monotonic() - killed_at < 10  # ended by the kill, not by the trigger
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER IF EXISTS stall_notify")

        # Alipay reads `failure` and will deliver again; no HTML error page.
        assert (answer.status, answer.body) == (503, b"failure"), answer
        assert answer.content_type.startswith("text/plain")
        # The serving thread does not keep the dead connection for the next request
        # (request_finished closes a connection that had errors and is no longer usable).
        assert server.after_request() != victim
        assert victim not in live_connection_ids()

        # Nothing half-written (mid-settlement: the order row was already marked paid).
        order.refresh_from_db()
        assert (order.order_status, order.trade_no, order.pay_time) == (
            Order.Status.UNPAID,
            "",
            None,
        )
        assert not CourseEntitlement.objects.exists()
        assert Course.objects.get(pk=course.pk).students == 0
        errors = [
            r.getMessage()
            for r in caplog.records
            if r.name == "luffy.order.notify" and r.levelno == logging.ERROR
        ]
        if kill_point == "mid-settlement":
            [entry] = PaymentNotification.objects.all()  # logged before, outcome recorded after
            assert entry.outcome == Outcome.ERROR and "database error" in entry.detail
            assert errors == [f"Database error while settling {order.out_trade_no}"]
        else:
            assert not PaymentNotification.objects.exists()  # the log's insert was the victim
            assert errors == ["Cannot log an Alipay notify: database unavailable"]

        # Alipay redelivers the same signed notify: settled once, then a duplicate.
        answers = []
        for _ in range(2):
            answers.append(post_notify(server.url, params).body)
            server.after_request()
        assert answers == [b"success", b"success"]
        page = http_request("GET", f"{server.url}{NOTIFY_URL}?out_trade_no={order.out_trade_no}")
        assert page.status == 200 and json.loads(page.body)["code"] == 100

    order.refresh_from_db()
    assert (order.order_status, order.trade_no) == (Order.Status.PAID, trade_no)
    [entitlement] = CourseEntitlement.objects.all()
    assert (entitlement.user_id, entitlement.course_id, entitlement.order_id) == (
        user.pk,
        course.pk,
        order.pk,
    )
    assert Course.objects.get(pk=course.pk).students == 1
    outcomes = list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [Outcome.ERROR] * (kill_point == "mid-settlement") + [
        Outcome.SETTLED,
        Outcome.DUPLICATE,
    ]


# --- drill 2: Alipay's gateway times out or answers garbage ------------------------------------

GATEWAY_FAULTS = {
    # mode: what the log line must say about the cause
    "slow": "timed out",
    "garbage": "unreadable",
    "http500": "500",
    "bad_sign": "signature",
}


@pytest.fixture
def flaky_alipay(alipay, settings, request):
    """The gateway in the test's `mode`. "slow" answers after 2 s, our timeout is then 1 s;
    the other modes keep the 2 s timeout, so a loaded machine cannot turn them into timeouts."""
    mode = request.getfixturevalue("mode")
    if mode == "slow":
        settings.ALIPAY = replace(settings.ALIPAY, timeout_seconds=1)
        alipay.delay = 2
    elif mode == "bad_sign":
        _stranger_private_pem()  # the stranger's key is generated once, ahead of the query
    alipay.mode = mode
    return alipay


def order_state() -> list[tuple]:
    return list(
        Order.objects.order_by("pk").values_list(
            "pk", "order_status", "trade_no", "pay_time", "updated_time"
        )
    )


def run_failing_command(name: str, *args: str) -> str:
    """A run that could not ask Alipay about every order: it exits 1 (cron alerts)."""
    out = StringIO()
    with pytest.raises(CommandError, match=r"trade quer(y|ies) failed"):
        call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("mode", list(GATEWAY_FAULTS))
def test_reconcile_with_alipay_failing_logs_each_order_and_settles_nothing(
    flaky_alipay, make_order, caplog, mode
):
    """test_commands checks the summary line; here: one clear warning per order, also when the
    gateway times out, and nothing touched."""
    courses = CourseFactory.create_batch(2, price=Decimal("10.00"))
    orders = [make_order([c]) for c in courses]
    for order in orders:
        flaky_alipay.pay(order.out_trade_no, order.total_amount)  # paid, but we cannot know
    before = order_state()
    caplog.clear()

    with caplog.at_level(logging.INFO, logger="luffy"):
        output = run_failing_command("reconcile_orders")

    assert output.strip() == "reconcile_orders: 0 order(s) settled"
    assert order_state() == before
    assert not CourseEntitlement.objects.exists()
    assert sum(Course.objects.values_list("students", flat=True)) == 0
    queries = flaky_alipay.requests_for("alipay.trade.query")
    asked = [r["biz_content"]["out_trade_no"] for r in queries]
    assert asked == [o.out_trade_no for o in orders]  # one failure does not stop the run
    for order in orders:
        [line] = [r for r in caplog.records if order.out_trade_no in r.getMessage()]
        assert (line.name, line.levelno) == ("luffy.order", logging.WARNING)
        assert "Trade query" in line.getMessage()
        assert GATEWAY_FAULTS[mode] in line.getMessage(), line.getMessage()


@pytest.fixture
def stalling_alipay(alipay, settings):
    """Alipay hanging for 2 s on every call (timeout 2 s, answer after 3 s): a wide window."""
    settings.ALIPAY = replace(settings.ALIPAY, timeout_seconds=2)
    alipay.mode, alipay.delay = "slow", 3
    return alipay


def _in_thread(pool: ThreadPoolExecutor, work):
    """Run Django work on a pool thread with its own database connection, closed afterwards."""

    def task():
        try:
            return work()
        finally:
            connections.close_all()

    return pool.submit(task)


def wait_for_query(gateway, count: int = 1, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(gateway.requests_for("alipay.trade.query")) < count:
        assert time.monotonic() < deadline, "Alipay was never asked"
        time.sleep(0.01)


def test_return_page_stuck_on_a_slow_gateway_holds_no_lock_on_the_order(
    stalling_alipay, alipay_keys, place, course, user
):
    """While the return page waits for Alipay, the notify for the same order settles at once:
    no transaction or row lock is held across the call to Alipay."""
    _, order = place([course], "99.90")
    stalling_alipay.pay(order.out_trade_no, order.total_amount)
    page_url = f"{NOTIFY_URL}?out_trade_no={order.out_trade_no}"

    with ThreadPoolExecutor(max_workers=1) as pool:
        page = _in_thread(pool, lambda: APIClient().get(page_url))
        wait_for_query(stalling_alipay)
        started = time.monotonic()
        notified = post_form(APIClient(), signed_notify(alipay_keys, order))
        took = time.monotonic() - started
        still_waiting = not page.done()
        answer = page.result(timeout=20)

    assert notified.content == b"success"
    assert still_waiting and took < 1.5, took  # did not wait for the page's query
    assert answer.status_code == 200
    # The query timed out: the page answered from what it knew (or saw the notify's settlement).
    assert answer.json()["code"] in (100, 101)
    queries = len(stalling_alipay.requests_for("alipay.trade.query"))
    assert APIClient().get(page_url).json()["code"] == 100
    assert len(stalling_alipay.requests_for("alipay.trade.query")) == queries  # no need to ask
    assert CourseEntitlement.objects.filter(user=user, course=course).count() == 1
    assert Course.objects.get(pk=course.pk).students == 1


def test_reconcile_stuck_on_a_slow_gateway_holds_no_lock_and_grants_nothing_twice(
    stalling_alipay, alipay_keys, make_order, user, caplog
):
    courses = CourseFactory.create_batch(2, price=Decimal("20.00"))
    first, second = (make_order([c]) for c in courses)
    for order in (first, second):
        stalling_alipay.pay(order.out_trade_no, order.total_amount)

    with ThreadPoolExecutor(max_workers=1) as pool:
        job = _in_thread(pool, lambda: run_failing_command("reconcile_orders"))
        wait_for_query(stalling_alipay)  # reconcile is waiting for Alipay about `first`
        started = time.monotonic()
        notified = post_form(APIClient(), signed_notify(alipay_keys, first))
        took = time.monotonic() - started
        still_running = not job.done()
        output = job.result(timeout=30)

    assert notified.content == b"success"
    assert still_running and took < 1.5, took
    assert output.strip() == "reconcile_orders: 0 order(s) settled"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.order_status == Order.Status.PAID
    assert second.order_status == Order.Status.UNPAID
    assert CourseEntitlement.objects.filter(user=user).count() == 1
    assert list(Course.objects.order_by("pk").values_list("students", flat=True)) == [1, 0]
    timeouts = [r for r in caplog.records if "timed out" in r.getMessage()]
    assert {r.name for r in timeouts} == {"luffy.order"} and len(timeouts) == 2


# --- found by drill 3: two grants of one course at once deadlocked ------------------------------
# Inserting an entitlement (or an order detail) takes a shared lock on the course row for the
# foreign-key check; the students counter then writes the row. Two buyers' transactions both
# holding the shared lock deadlocked (MariaDB error 1213): the notify answered `failure`, a free
# order 500. The grant now locks the buyer and the courses first. A trigger sleeping on each
# insert holds both transactions inside the window, so the old code fails every time.


@pytest.fixture
def slow_inserts():
    """slow_inserts("table"): every insert into the table sleeps 0.3 s first."""
    tables = []

    def make(table: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TRIGGER slow_{table} BEFORE INSERT ON {table} FOR EACH ROW "
                "SET @luffy_slow = SLEEP(0.3)"
            )
        tables.append(table)

    yield make
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS slow_{table}")


def students_of(courses) -> list[int]:
    return [Course.objects.get(pk=c.pk).students for c in courses]


def test_two_buyers_paying_for_the_same_courses_at_once_both_settle(
    alipay, alipay_keys, make_order, slow_inserts
):
    courses = CourseFactory.create_batch(2, price=Decimal("10.00"))
    buyers = UserFactory.create_batch(2)
    orders = [make_order(courses, owner=buyer) for buyer in buyers]
    notifies = iter([signed_notify(alipay_keys, order) for order in orders])
    lock = threading.Lock()

    def deliver() -> bytes:
        with lock:
            params = next(notifies)
        return post_form(APIClient(), params).content

    slow_inserts("luffy_user_course")
    assert run_together(2, deliver) == [b"success", b"success"]
    assert Order.objects.filter(order_status=Order.Status.PAID).count() == 2
    for buyer in buyers:
        assert CourseEntitlement.objects.filter(user=buyer).count() == 2
    assert students_of(courses) == [2, 2]


@pytest.mark.parametrize("buyers", [2, 1], ids=["two-buyers-one-course", "one-buyer-two-courses"])
def test_free_courses_taken_at_once_are_all_granted(alipay, slow_inserts, buyers):
    """Free courses are granted without an order, under the buyer's and the courses' locks."""
    if buyers == 2:
        course = CourseFactory(price=Decimal("0.00"))
        wanted = [(UserFactory(), course), (UserFactory(), course)]
    else:
        buyer = UserFactory()
        wanted = [(buyer, c) for c in CourseFactory.create_batch(2, price=Decimal("0.00"))]
    pending = iter(wanted)
    lock = threading.Lock()

    def take() -> int:
        with lock:
            buyer, course = next(pending)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(buyer)}")
        body = {"courses": [course.pk], "total_amount": "0"}
        return client.post(PAY_URL, body, format="json").status_code

    slow_inserts("luffy_user_course")  # both grants' rows are in before either counts students
    assert run_together(2, take) == [201, 201]
    assert not Order.objects.exists()
    owned = set(CourseEntitlement.objects.values_list("user_id", "course_id"))
    assert owned == {(buyer.pk, course.pk) for buyer, course in wanted}
    assert sum(Course.objects.values_list("students", flat=True)) == 2


# --- drill 3: gunicorn is SIGKILLed with 100 orders in flight ----------------------------------

WORKERS = 3
USERS = 20
COURSES = 10
BASKETS = [[0], [1, 2], [3, 4, 5], [6], [7, 8, 9]]  # each user buys every course exactly once
KILL_AFTER = 40  # answered requests before the SIGKILL
CLIENT_THREADS = 12
# Widen the transactions (placement: per detail row, settlement: per granted course), so the
# kill always lands while some worker is inside one.
SLOW_WRITES = [
    """CREATE TRIGGER slow_detail BEFORE INSERT ON luffy_order_detail FOR EACH ROW
       SET @luffy_slow = SLEEP(0.05)""",
    """CREATE TRIGGER slow_grant BEFORE INSERT ON luffy_user_course FOR EACH ROW
       SET @luffy_slow = SLEEP(0.1)""",
]
OPEN_TRANSACTIONS = """SELECT COUNT(*) FROM information_schema.innodb_trx
                       WHERE trx_mysql_thread_id <> CONNECTION_ID()"""


def database_url() -> str:
    db = connection.settings_dict  # the test database pytest-django created
    user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
    return f"mysql://{user}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def gunicorn(transactional_db, alipay, alipay_keys, tmp_path):
    """A production-configured gunicorn on the test database; not started yet, always killed."""
    throttle = "100000/min"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the tests' JWTs must verify
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LUFFY_IGNORE_DOTENV": "1",
        "DATABASE_URL": database_url(),
        "SMS_BACKEND": "log",
        "ALIPAY_APP_ID": APP_ID,
        "ALIPAY_APP_PRIVATE_KEY": alipay_keys.app.private_pem,
        "ALIPAY_PUBLIC_KEY": alipay_keys.alipay.public_pem,
        "ALIPAY_GATEWAY": alipay.url,
        "ALIPAY_SELLER_ID": SELLER_ID,
        "ALIPAY_TIMEOUT_SECONDS": "2",
        "THROTTLE_SMS_MOBILE": throttle,
        "THROTTLE_SMS_IP": throttle,
        "THROTTLE_LOGIN": throttle,
        "THROTTLE_ANON_CHECK": throttle,
        "THROTTLE_PAY_STATUS": throttle,
    }
    args = ["luffy_api.wsgi", f"--workers={WORKERS}", "--worker-class=sync", "--timeout=30"]
    server = GunicornProcess(
        [*args, "--graceful-timeout=2"],
        env=env,
        log_path=tmp_path / "gunicorn.log",
        ready_path="/api/v1/course/category/",
        ready_status=None,
    )
    try:
        yield server
    finally:
        server.kill()  # always, and before the test database is flushed
        with connection.cursor() as cursor:
            for name in ("slow_detail", "slow_grant"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def alipay_notify(keys, out_trade_no: str, total: Decimal) -> dict[str, str]:
    """Alipay's signed TRADE_SUCCESS notify for an order, with its own trade number."""
    params = notify_params(
        app_id=APP_ID,
        out_trade_no=out_trade_no,
        total_amount=total,
        seller_id=SELLER_ID,
        trade_no=random_trade_no(),
    )
    return sign_notify(params, keys.alipay.private_pem)


@dataclass
class Traffic:
    """What the shoppers and "Alipay" saw."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    kill_now: threading.Event = field(default_factory=threading.Event)
    killed: bool = False
    ok_before_kill: int = 0
    failed_before_kill: int = 0
    ok_after_kill: int = 0
    failed_after_kill: int = 0
    placed: dict[str, tuple[int, list[int]]] = field(default_factory=dict)  # no -> user, courses
    notifies: dict[str, dict[str, str]] = field(default_factory=dict)  # no -> signed params
    notify_answers: Counter = field(default_factory=Counter)  # no -> notifies answered
    notifies_lost: int = 0  # sent, never answered
    answers_dropped: int = 0  # placed, but the answer never reached the shopper (on purpose)
    bad_answers: list[str] = field(default_factory=list)

    def count(self, ok: bool) -> None:
        with self.lock:
            if self.killed:
                self.ok_after_kill += ok
                self.failed_after_kill += not ok
                return
            self.ok_before_kill += ok
            self.failed_before_kill += not ok
            if self.ok_before_kill == KILL_AFTER:
                self.kill_now.set()


def assert_consistent() -> None:
    """Orders and grants are whole: what a crash at any instant must leave behind."""
    assert not Order.objects.filter(lines__isnull=True).exists(), "order without details"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM luffy_order_detail d LEFT JOIN luffy_order o "
            "ON o.id = d.order_id WHERE o.id IS NULL"
        )
        assert cursor.fetchone()[0] == 0, "order detail without an order"
    for order in Order.objects.prefetch_related("lines"):
        details = list(order.lines.all())
        assert order.total_amount == sum(d.real_price for d in details)
        if order.order_status == Order.Status.PAID:
            assert order.trade_no and order.pay_time is not None
        else:
            assert (order.order_status, order.trade_no, order.pay_time) == (
                Order.Status.UNPAID,
                "",
                None,
            )
    bought = Counter(
        OrderDetail.objects.filter(order__order_status=Order.Status.PAID).values_list(
            "order__user_id", "course_id", "order_id"
        )
    )
    owned = Counter(CourseEntitlement.objects.values_list("user_id", "course_id", "order_id"))
    # Every paid order granted all its courses, once, and nothing else was granted.
    assert owned == bought
    assert not owned or max(owned.values()) == 1
    per_course = Counter(course_id for _, course_id, _ in owned.elements())
    for pk, students in Course.objects.values_list("pk", "students"):
        assert students == per_course.get(pk, 0), f"course {pk}: {students} students"


def test_gunicorn_killed_mid_traffic_then_redelivery_settles_every_order_exactly_once(
    gunicorn, alipay_keys
):
    started = time.monotonic()
    users = [UserFactory() for _ in range(USERS)]
    prices = [Decimal(f"{10 + i}.90") for i in range(COURSES)]
    courses = [CourseFactory(price=p) for p in prices]
    tokens = {u.pk: access_token(u) for u in users}
    jobs = [
        (user.pk, [courses[i].pk for i in basket], sum(prices[i] for i in basket))
        for user in users
        for basket in BASKETS
    ]
    assert len(jobs) == 100
    traffic = Traffic()

    def shop(index: int, job: tuple[int, list[int], Decimal]) -> None:
        """A shopper places an order; once placed, Alipay notifies its payment."""
        user_id, course_ids, total = job
        body = json.dumps({"courses": course_ids, "total_amount": str(total)})
        headers = {"Content-Type": "application/json", "Authorization": f"jwt {tokens[user_id]}"}
        try:
            placed = http_request("POST", gunicorn.url + PAY_URL, body=body, headers=headers)
        except OSError:
            traffic.count(ok=False)
            return
        traffic.count(ok=True)
        if placed.status != 201:
            traffic.bad_answers.append(f"pay: {placed.status} {placed.body[:300]!r}")
            return
        no = json.loads(placed.body)["out_trade_no"]
        if index % 5 == 4:
            # A network drop after the commit, for sure (a kill hits that window only by luck):
            # the shopper never learns the order; Alipay will still notify it (see below).
            with traffic.lock:
                traffic.answers_dropped += 1
            return
        params = alipay_notify(alipay_keys, no, total)
        with traffic.lock:
            traffic.placed[no] = (user_id, course_ids)
            traffic.notifies[no] = params
        try:
            answer = post_notify(gunicorn.url, params)
        except OSError:
            with traffic.lock:
                traffic.notifies_lost += 1
            traffic.count(ok=False)
            return
        with traffic.lock:
            traffic.notify_answers[no] += 1
        traffic.count(ok=True)
        if answer.body != b"success":
            traffic.bad_answers.append(f"notify: {answer.status} {answer.body[:300]!r}")

    with connection.cursor() as cursor:
        for sql in SLOW_WRITES:
            cursor.execute(sql)
    gunicorn.start()
    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        futures = [pool.submit(shop, i, job) for i, job in enumerate(jobs)]
        assert traffic.kill_now.wait(timeout=30), "the traffic never reached the kill point"
        # Kill while some worker is inside a transaction (they mostly are: SLOW_WRITES).
        deadline = time.monotonic() + 5
        with connection.cursor() as cursor:
            while True:
                cursor.execute(OPEN_TRANSACTIONS)
                open_at_kill = cursor.fetchone()[0]
                if open_at_kill or time.monotonic() > deadline:
                    break
        with traffic.lock:
            gunicorn.kill()
            traffic.killed = True
        for future in futures:
            future.result(timeout=60)
    assert open_at_kill, "no transaction was open when the server was killed"
    assert not traffic.bad_answers, traffic.bad_answers  # whatever was answered was right
    assert traffic.failed_after_kill  # the kill did cut the traffic short

    # Right after the crash (the database has rolled back the killed workers' transactions).
    with connection.cursor() as cursor:
        for name in ("slow_detail", "slow_grant"):
            cursor.execute(f"DROP TRIGGER {name}")
    deadline = time.monotonic() + 10
    while True:
        with connection.cursor() as cursor:
            cursor.execute(OPEN_TRANSACTIONS)
            if not cursor.fetchone()[0] or time.monotonic() > deadline:
                break
        time.sleep(0.05)
    assert_consistent()
    orders_after_crash = Order.objects.count()
    paid_after_crash = Order.objects.filter(order_status=Order.Status.PAID).count()

    # Restart on the same port; "Alipay" redelivers every order's notify until it reads success.
    gunicorn.start()
    rows = list(Order.objects.values_list("out_trade_no", "total_amount"))
    lost_placements = 0
    for no, total in rows:
        if no not in traffic.notifies:  # the row exists, the shopper never saw the answer
            lost_placements += 1
            traffic.notifies[no] = alipay_notify(alipay_keys, no, total)

    def redeliver(no: str) -> int:
        for attempt in range(1, 6):
            try:
                answer = post_notify(gunicorn.url, traffic.notifies[no], timeout=10)
            except OSError:
                answer = None
            if answer is not None and answer.body == b"success":
                with traffic.lock:
                    traffic.notify_answers[no] += 1
                return attempt
            time.sleep(0.2 * attempt)
        raise AssertionError(f"redelivery of {no} never answered success: {answer}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        redeliveries = sum(pool.map(redeliver, [no for no, _ in rows], timeout=60))
    gunicorn.kill()

    summary = (
        f"before the kill {traffic.ok_before_kill} requests answered, "
        f"{traffic.failed_before_kill} failed; after it {traffic.failed_after_kill} failed; "
        f"{open_at_kill} transaction(s) open at the kill; orders: {len(traffic.placed)} placed "
        f"and seen, {orders_after_crash} in the database ({lost_placements} with a lost answer, "
        f"{traffic.answers_dropped} of them dropped on purpose, "
        f"{paid_after_crash} paid before the restart); {traffic.notifies_lost} notifies lost "
        f"in flight; {redeliveries} redeliveries; {time.monotonic() - started:.1f} s"
    )
    print(f"\nfault drill: {summary}")

    # Every order the shoppers saw placed exists; every order is paid, once, with its trade.
    assert set(traffic.placed) <= {no for no, _ in rows}
    assert lost_placements >= traffic.answers_dropped >= 1
    assert len(rows) >= KILL_AFTER // 3, summary
    assert_consistent()
    orders = {o.out_trade_no: o for o in Order.objects.prefetch_related("lines")}
    for no, order in orders.items():
        assert order.order_status == Order.Status.PAID, no
        assert order.trade_no == traffic.notifies[no]["trade_no"], no
        if no in traffic.placed:
            details = [d.course_id for d in order.lines.all()]
            assert (order.user_id, details) == traffic.placed[no]
    entitlements = CourseEntitlement.objects.count()
    assert entitlements == OrderDetail.objects.count()

    # Every notify answered is logged; settled at most once per order. An entry still
    # "received" is a notify whose worker was killed mid-way (Alipay then redelivered it).
    logs: dict[str, Counter] = {}
    for no, outcome in PaymentNotification.objects.values_list("out_trade_no", "outcome"):
        logs.setdefault(no, Counter())[outcome] += 1
    assert set(logs) == set(orders)
    stale = 0
    for no, outcomes in logs.items():
        assert set(outcomes) <= {Outcome.SETTLED, Outcome.DUPLICATE, Outcome.RECEIVED}, outcomes
        assert outcomes.total() >= traffic.notify_answers[no], (no, outcomes)
        assert outcomes[Outcome.SETTLED] <= 1, (no, outcomes)
        if not outcomes[Outcome.SETTLED]:
            assert outcomes[Outcome.RECEIVED], (no, outcomes)
        stale += outcomes[Outcome.RECEIVED]
    assert stale <= traffic.notifies_lost
    log = gunicorn.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "Unhandled error" not in log, gunicorn.log_tail()
    assert time.monotonic() - started < 60, summary
