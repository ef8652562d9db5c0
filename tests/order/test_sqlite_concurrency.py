"""`make run`'s SQLite under concurrent writers: orders, Alipay notifies and cancels, no 5xx.

Twenty shoppers place orders as fast as the server answers for ten seconds; "Alipay" pays two
of every three orders with a signed notify (and delivers a third of those twice) and the buyer
cancels the rest, against gunicorn (2 processes x 8 threads) and against runserver. Before
SQLite got immediate transactions, a busy timeout and WAL (settings, Database section), 167 of
582 requests to gunicorn answered 5xx here (51 of 81 cancels 500, 116 of 284 notifies 503).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection

from tests.support.alipay import notify_params, random_trade_no, sign_notify
from tests.support.app_server import (
    DevServer,
    GunicornServer,
    http_request,
    prepare_database,
    production_env,
    run_python,
    sqlite_url,
)

from .conftest import APP_ID, NOTIFY_URL, PAY_URL, SELLER_ID

SHOPPERS = 20
SECONDS = 10
PRICE = Decimal("9.90")
COURSES = 400  # more than one shopper can buy in the time: nobody buys a course twice

SEED = f"""
import json
from decimal import Decimal
from rest_framework_simplejwt.tokens import RefreshToken
from tests.factories import CategoryFactory, CourseFactory, TeacherFactory, UserFactory
one = {{"course_category": CategoryFactory(), "teacher": TeacherFactory()}}
courses = CourseFactory.create_batch({COURSES}, price=Decimal("{PRICE}"), **one)
users = UserFactory.create_batch({SHOPPERS})
print(json.dumps({{
    "courses": [c.pk for c in courses],
    "tokens": [str(RefreshToken.for_user(u).access_token) for u in users],
}}))
"""


def _skip_unless_sqlite() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("a SQLite drill: the MariaDB drills are test_concurrency/test_fault_drills")


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory):
    """A migrated and seeded SQLite file that each test copies: (file, seeded ids and tokens)."""
    _skip_unless_sqlite()
    tmp = tmp_path_factory.mktemp("sqlite-shop")
    template = tmp / "template.sqlite3"
    env = production_env(tmp, sqlite_url(template))
    prepare_database(env)
    return template, run_python(env, SEED)


@pytest.fixture
def start_shop(tmp_path, seeded_database, gateway, alipay_keys):
    """Start a server (gunicorn, 2 processes x 8 threads, or runserver) on a fresh copy of the
    seeded SQLite file, Alipay at the local fake; returns (server, seeded, database file)."""
    template, seeded = seeded_database
    servers: list[GunicornServer] = []

    def start(server_class: type[GunicornServer] = GunicornServer, **extra_env: str):
        database_file = tmp_path / "shop.sqlite3"
        with sqlite3.connect(template) as source, sqlite3.connect(database_file) as copy:
            source.backup(copy)
        env = production_env(
            tmp_path,
            sqlite_url(database_file),
            ALIPAY_APP_ID=APP_ID,
            ALIPAY_APP_PRIVATE_KEY=alipay_keys.app.private_pem,
            ALIPAY_PUBLIC_KEY=alipay_keys.alipay.public_pem,
            ALIPAY_GATEWAY=gateway.url,
            ALIPAY_SELLER_ID=SELLER_ID,
            ALIPAY_TIMEOUT_SECONDS="5",
            **extra_env,
        )
        server = server_class(env, tmp_path / "server.log", workers=2, threads=8)
        servers.append(server)
        return server.start(), seeded, database_file

    yield start
    for server in servers:
        server.stop()


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()  # (kind, status) -> answers
        self.paid: set[str] = set()  # orders whose notify answered `success`
        self.cancelled: set[str] = set()  # orders whose cancel answered 200
        self.retry_after_missing = 0  # 503 answers without Retry-After

    def add(self, kind: str, answer, out_trade_no: str | None = None) -> None:
        with self.lock:
            self.statuses[kind, answer.status] += 1
            if answer.status == 503 and "Retry-After" not in answer.headers:
                self.retry_after_missing += 1
            if kind == "notify" and answer.status == 200 and answer.body == b"success":
                self.paid.add(out_trade_no)
            if kind == "cancel" and answer.status == 200:
                self.cancelled.add(out_trade_no)

    def count(self, predicate) -> int:
        return sum(n for (_, status), n in self.statuses.items() if predicate(status))


def shop(base: str, token: str, courses: list[int], keys, tally: Tally, deadline: float) -> None:
    auth = {"Authorization": f"jwt {token}", "Content-Type": "application/json"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for n, course in enumerate(courses):
        if time.monotonic() >= deadline:
            return
        body = json.dumps({"courses": [course], "total_amount": str(PRICE)})
        placed = http_request("POST", base + PAY_URL, body=body, headers=auth)
        tally.add("pay", placed)
        if placed.status != 201:
            continue
        out_trade_no = placed.json()["out_trade_no"]
        if n % 3 == 2:
            cancel = f"{base}/api/v1/order/{out_trade_no}/cancel/"
            tally.add("cancel", http_request("POST", cancel, headers=auth), out_trade_no)
            continue
        params = notify_params(
            app_id=APP_ID,
            out_trade_no=out_trade_no,
            total_amount=PRICE,
            seller_id=SELLER_ID,
            trade_no=random_trade_no(),
        )
        signed = urlencode(sign_notify(params, keys.alipay.private_pem))
        for _ in range(2 if n % 3 == 0 else 1):  # Alipay redelivers now and then
            notified = http_request("POST", base + NOTIFY_URL, body=signed, headers=form)
            tally.add("notify", notified, out_trade_no)


@pytest.mark.parametrize("server_class", [GunicornServer, DevServer], ids=["gunicorn", "runserver"])
def test_twenty_shoppers_ordering_paying_and_cancelling_for_ten_seconds_get_no_5xx(
    start_shop, alipay_keys, server_class
):
    server, seeded, database_file = start_shop(server_class)
    tally = Tally()
    deadline = time.monotonic() + SECONDS
    courses, tokens = seeded["courses"], seeded["tokens"]
    with ThreadPoolExecutor(max_workers=SHOPPERS) as pool:
        # Each shopper walks the catalog from its own offset: the same rows are written at once.
        walks = [courses[i * 7 :] + courses[: i * 7] for i in range(SHOPPERS)]
        futures = [
            pool.submit(shop, server.url, token, walk, alipay_keys, tally, deadline)
            for token, walk in zip(tokens, walks, strict=True)
        ]
        for future in futures:
            future.result(timeout=SECONDS + 60)

    server_errors = tally.count(lambda status: status >= 500)
    print(  # the figure the issue asks for (pytest -s shows it)
        f"\nSQLite drill ({server_class.__name__}): {sum(tally.statuses.values())} requests "
        f"in {SECONDS} s, {server_errors} answered 5xx: {sorted(tally.statuses.items())}"
    )
    assert server_errors == 0, (sorted(tally.statuses.items()), server.log_tail())
    assert tally.retry_after_missing == 0
    assert tally.statuses["pay", 201] >= SHOPPERS, "the drill hardly ran"
    assert tally.paid and tally.cancelled
    assert "database is locked" not in server.log_tail(10_000)

    # What the shoppers were told is what the database holds.
    server.stop()
    with sqlite3.connect(database_file) as db:
        status = dict(db.execute("SELECT out_trade_no, order_status FROM luffy_order"))
        granted = db.execute("SELECT COUNT(*) FROM luffy_user_course").fetchone()[0]
    assert {no for no, s in status.items() if s == 1} == tally.paid
    assert {no for no, s in status.items() if s == 2} == tally.cancelled
    assert granted == len(tally.paid)


def test_a_database_locked_past_the_busy_timeout_answers_a_retryable_503_and_changes_nothing(
    start_shop, alipay_keys
):
    server, seeded, database_file = start_shop(SQLITE_BUSY_TIMEOUT_SECONDS="1")
    auth = {"Authorization": f"jwt {seeded['tokens'][0]}", "Content-Type": "application/json"}
    body = json.dumps({"courses": [seeded["courses"][0]], "total_amount": str(PRICE)})
    placed = http_request("POST", server.url + PAY_URL, body=body, headers=auth)
    assert placed.status == 201
    out_trade_no = placed.json()["out_trade_no"]
    params = notify_params(
        app_id=APP_ID, out_trade_no=out_trade_no, total_amount=PRICE, seller_id=SELLER_ID
    )
    signed = urlencode(sign_notify(params, alipay_keys.alipay.private_pem))

    # Another process (a cron job, a long admin save) holds SQLite's write lock.
    holder = sqlite3.connect(database_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        cancel = f"{server.url}/api/v1/order/{out_trade_no}/cancel/"
        cancelled = http_request("POST", cancel, headers=auth)
        notified = http_request(
            "POST",
            server.url + NOTIFY_URL,
            body=signed,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert cancelled.status == 503, cancelled
    assert cancelled.json() == {"code": 503, "msg": "系统繁忙,请稍后重试"}
    assert cancelled.headers["Retry-After"] == "1"
    assert (notified.status, notified.body) == (503, b"failure")  # Alipay delivers it again
    with sqlite3.connect(database_file) as db:
        [(order_status,)] = db.execute(
            "SELECT order_status FROM luffy_order WHERE out_trade_no = ?", (out_trade_no,)
        )
    assert order_status == 0  # still unpaid: neither request changed it

    # Once the lock is gone, the same requests go through.
    again = http_request(
        "POST",
        server.url + NOTIFY_URL,
        body=signed,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (again.status, again.body) == (200, b"success")
