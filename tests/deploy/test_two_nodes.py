"""Two app nodes, one MariaDB, one Redis, nginx in front: the shop as it runs on more than one
machine, all on loopback. Each node is its own gunicorn (gunicorn.conf.py) with its own worker
processes and so its own per-worker page caches; nginx runs deploy/nginx/luffy.conf.

What must hold: a catalog edit saved on node A shows on node B within the version-check
interval; the login throttle counts requests on both nodes together; one Alipay notify sent to
both nodes at once settles once; node A dying mid-traffic loses nothing (nginx sends the
rest to B; notifies nobody answered are redelivered by "Alipay" and settle once); and a
flash-sale burst (bench/flash.py's 1,000 buyers × 5 tries for 100 seats) sells exactly 100
seats across both nodes, the seats of orders that time out sell again, and paying all grants 100.

Run alone, with its figures: scripts/two_nodes.sh. `make test` runs it in the MariaDB pass.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from apps.course.models import Course, CourseCategory
from apps.order.models import CourseEntitlement, Order, PaymentNotification
from tests.conftest import access_token
from tests.factories import TEST_PASSWORD, CourseFactory, UserFactory
from tests.order.conftest import APP_ID, SELLER_ID, alipay, alipay_keys, gateway  # noqa: F401
from tests.order.test_fault_drills import alipay_notify, assert_consistent, database_url
from utils.gunicorn_process import free_port

from .cluster import NGINX, ROOT, Nginx, Node, Redis, served_by

pytestmark = [
    pytest.mark.mysql_only,
    pytest.mark.two_nodes,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx: scripts/bootstrap.sh --nginx"),
]

CHECK_SECONDS = 1  # CATALOG_VERSION_CHECK_SECONDS on the nodes
LOGIN_LIMIT = 10  # THROTTLE_LOGIN=10/min
CATEGORY_URL = "/api/v1/course/category/"
LOGIN_URL = "/api/v1/user/user/mul_login/"
PAY_URL = "/api/v1/order/pay/"
NOTIFY_URL = "/api/v1/order/success/"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CLIENT_THREADS = 8  # shoppers at once in the kill drill
FIGURES: dict[str, object] = {}


# --- HTTP with headers and cookies ---------------------------------------------------------------


def fetch(method: str, url: str, body: str | bytes | None = None, headers=None, timeout=20.0):
    """(status, headers as a list of pairs, body); raises OSError when nobody answers."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


class Browser:
    """Just enough of a browser for the admin over plain HTTP: Django marks its cookies Secure
    (DEBUG off), which http.cookiejar would then never send back to http://127.0.0.1."""

    def __init__(self, base: str) -> None:
        self.base, self.cookies = base, {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body, headers["Content-Type"] = urlencode(form), FORM["Content-Type"]
        status, response_headers, content = fetch(method, self.base + path, body, headers)
        for name, value in response_headers:
            if name.lower() == "set-cookie":
                for key, morsel in SimpleCookie(value).items():
                    self.cookies[key] = morsel.value
        return status, content.decode()

    def csrf_form(self, path: str) -> dict[str, str]:
        status, page = self.request("GET", path)
        assert status == 200, (path, status, page[:500])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        return {"csrfmiddlewaretoken": html.unescape(token.group(1))}

    def log_in(self, username: str, password: str) -> None:
        form = self.csrf_form("/admin/login/?next=/admin/")
        status, page = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            {**form, "username": username, "password": password},
        )
        assert status == 302, page[:1000]


# --- the cluster ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> Path:
    """Static files collected once, as a deployment does: with DEBUG off the nodes' admin pages
    need the manifest of hashed names, and nginx serves the files themselves."""
    static_root = tmp_path_factory.mktemp("static")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "collectstatic-only-key-not-used-for-anything-else-0123456789",
        "STATIC_ROOT": str(static_root),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return static_root


class Cluster:
    def __init__(self, tmp_path, alipay_gateway, keys, static_root: Path) -> None:
        self.redis = Redis(free_port())
        throttle = "100000/min"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LUFFY_IGNORE_DOTENV": "1",
            "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the tests' JWTs must verify
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # no TLS on loopback
            "NUM_PROXIES": "1",  # nginx
            "DATABASE_URL": database_url(),
            "CACHE_URL": self.redis.url,
            "CATALOG_CACHE_SECONDS": "60",
            "CATALOG_VERSION_CHECK_SECONDS": str(CHECK_SECONDS),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "SMS_BACKEND": "log",
            "ALIPAY_APP_ID": APP_ID,
            "ALIPAY_APP_PRIVATE_KEY": keys.app.private_pem,
            "ALIPAY_PUBLIC_KEY": keys.alipay.public_pem,
            "ALIPAY_GATEWAY": alipay_gateway.url,
            "ALIPAY_SELLER_ID": SELLER_ID,
            "ALIPAY_TIMEOUT_SECONDS": "2",
            "THROTTLE_LOGIN": f"{LOGIN_LIMIT}/min",
            "THROTTLE_SMS_MOBILE": throttle,
            "THROTTLE_SMS_IP": throttle,
            "THROTTLE_ANON_CHECK": throttle,
            "THROTTLE_PAY_STATUS": throttle,
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "4",
            "GUNICORN_GRACEFUL_TIMEOUT": "2",
        }
        env["STATIC_ROOT"] = str(static_root)
        self.a = Node("a", free_port(), env, tmp_path / "node-a.log")
        self.b = Node("b", free_port(), env, tmp_path / "node-b.log")
        self.nginx = Nginx(
            port=free_port(),
            upstreams=[self.a.port, self.b.port],
            prefix=tmp_path / "nginx",
            static_root=static_root,
            media_root=tmp_path / "media",
        )

    def start(self) -> None:
        self.redis.start()
        self.a.start()
        self.b.start()
        self.nginx.start()

    def stop(self) -> None:
        for part in (self.nginx, self.a, self.b):
            part.stop() if part is self.nginx else part.kill()
        self.redis.stop()


@pytest.fixture
def cluster(transactional_db, alipay, alipay_keys, tmp_path, collected_static):  # noqa: F811
    cluster = Cluster(tmp_path, alipay, alipay_keys, collected_static)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()  # before the test database is flushed


def report(name: str, value: object) -> None:
    FIGURES[name] = value
    print(f"\ntwo-node drill: {name}: {value}")


def category_names(base: str) -> list[str]:
    status, _, body = fetch("GET", base + CATEGORY_URL)
    assert status == 200, body
    return [c["name"] for c in json.loads(body)["result"]]


# --- the drills ----------------------------------------------------------------------------------


def test_a_catalog_change_saved_on_node_a_is_served_by_node_b_within_the_check_interval(
    cluster,
):
    category = CourseCategory.objects.create(name="旧分类")
    admin = UserFactory(is_staff=True, is_superuser=True)
    # The suite hashes with MD5 for speed; the nodes run production's hashers.
    admin.password = PBKDF2PasswordHasher().encode(TEST_PASSWORD, "drill-salt-0123")
    admin.save(update_fields=["password"])
    # Every worker of B renders and keeps the page. Sent 4 at a time: one after another, on a
    # busy machine the same worker could take all of them and the other would render afresh.
    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = list(pool.map(lambda _: category_names(cluster.b.url), range(32)))
    assert seen == [["旧分类"]] * 32
    # A write that bypasses the app (no signal, no version bump): B keeps serving its cached
    # page, so what follows really is the version travelling through Redis.
    CourseCategory.objects.filter(pk=category.pk).update(name="绕过应用")
    time.sleep(CHECK_SECONDS + 0.5)
    assert category_names(cluster.b.url) == ["旧分类"], cluster.b.log.read_text()[-3000:]

    browser = Browser(cluster.a.url)
    browser.log_in(admin.username, TEST_PASSWORD)
    change = f"/admin/course/coursecategory/{category.pk}/change/"
    form = browser.csrf_form(change)
    for _ in range(8):  # B's workers have just checked the version: the worst case follows
        assert category_names(cluster.b.url) == ["旧分类"]
    status, page = browser.request(
        "POST", change, {**form, "name": "新分类", "orders": "0", "is_show": "on", "_save": "1"}
    )
    assert status == 302, page[:1000]
    saved_at = time.monotonic()
    while category_names(cluster.b.url) != ["新分类"]:
        assert time.monotonic() - saved_at < 10, "node B never showed the change"
        time.sleep(0.02)
    reached_b = time.monotonic() - saved_at
    time.sleep(CHECK_SECONDS + 0.2)  # by now every worker of B has checked the version
    assert all(category_names(cluster.b.url) == ["新分类"] for _ in range(8))
    report("catalog change reached node B after (s)", round(reached_b, 3))
    assert reached_b <= CHECK_SECONDS + 0.5
    assert cluster.a.served("/admin/course/coursecategory/") == 2  # the form and the save
    assert cluster.b.served("/admin/") == 0


def test_the_login_throttle_counts_requests_on_both_nodes_together(cluster):
    # One account per attempt: ten failures against one account lock it (429) on their own
    # (apps/user/lockout.py); this drill is about the per-address throttle, shared by the nodes.
    users = UserFactory.create_batch(LOGIN_LIMIT + 2)
    headers = {"Content-Type": "application/json"}
    statuses = [
        fetch(
            "POST",
            cluster.nginx.url + LOGIN_URL,
            json.dumps({"username": user.username, "password": "wrong-password"}),
            headers,
        )[0]
        for user in users
    ]
    on_a, on_b = served_by([cluster.a, cluster.b], LOGIN_URL, total=LOGIN_LIMIT + 2)
    report("login attempts served by node A / node B", (on_a, on_b))
    assert statuses == [400] * LOGIN_LIMIT + [429, 429]
    assert on_a >= 4 and on_b >= 4 and on_a + on_b == LOGIN_LIMIT + 2


def place_order(base: str, token: str, course: Course) -> str:
    body = json.dumps({"courses": [course.pk], "total_amount": str(course.price)})
    headers = {"Content-Type": "application/json", "Authorization": f"jwt {token}"}
    status, _, answer = fetch("POST", base + PAY_URL, body, headers)
    assert status == 201, answer
    return json.loads(answer)["out_trade_no"]


def test_the_same_notify_sent_to_both_nodes_at_once_settles_once(cluster, alipay_keys):  # noqa: F811
    buyer = UserFactory()
    token = access_token(buyer)
    courses = [CourseFactory(price=Decimal(f"{20 + i}.50")) for i in range(8)]
    orders = [(place_order(cluster.nginx.url, token, c), c.price) for c in courses]

    def deliver_twice(order: tuple[str, Decimal]) -> list[bytes]:
        params = alipay_notify(alipay_keys, *order)
        body = urlencode(params)
        barrier = threading.Barrier(2)

        def send(node: Node) -> bytes:
            barrier.wait(timeout=10)
            return fetch("POST", node.url + NOTIFY_URL, body, FORM)[2]

        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(send, [cluster.a, cluster.b]))

    answers = [deliver_twice(order) for order in orders]
    assert answers == [[b"success", b"success"]] * len(orders)
    outcomes = Counter(PaymentNotification.objects.values_list("outcome", flat=True))
    settled = outcomes[PaymentNotification.Outcome.SETTLED]
    report(
        "notifies delivered twice (A and B at once) / settled",
        (sum(len(a) for a in answers), settled),
    )
    assert settled == len(orders)
    assert outcomes.total() == 2 * len(orders)
    assert Order.objects.filter(order_status=Order.Status.PAID).count() == len(orders)
    assert CourseEntitlement.objects.filter(user=buyer).count() == len(orders)
    assert set(Course.objects.values_list("students", flat=True)) == {1}
    assert served_by([cluster.a, cluster.b], NOTIFY_URL, total=2 * len(orders)) == [len(orders)] * 2


def test_node_a_killed_during_traffic_loses_nothing(cluster, alipay_keys):  # noqa: F811
    shoppers = [UserFactory() for _ in range(6)]
    tokens = [access_token(u) for u in shoppers]
    courses = [CourseFactory(price=Decimal(f"{10 + i}.90")) for i in range(10)]
    jobs = [(i % len(shoppers), course) for i, course in enumerate(courses * 3)][:48]
    # every (shopper, course) pair at most once: a shopper cannot buy a course twice
    jobs = list(dict.fromkeys((s, c.pk) for s, c in jobs))
    by_pk = {c.pk: c for c in courses}
    lock = threading.Lock()
    kill_now, killed = threading.Event(), threading.Event()
    answered = Counter()  # ("GET"|"pay"|"notify", "ok"|"failed", "before"|"after")
    failed_detail: list[str] = []
    seen: dict[str, tuple[int, Decimal]] = {}  # out_trade_no -> shopper, amount
    notify_success: set[str] = set()

    def count(kind: str, ok: bool, detail: str = "") -> None:
        with lock:
            when = "after" if killed.is_set() else "before"
            answered[(kind, "ok" if ok else "failed", when)] += 1
            if not ok:
                failed_detail.append(f"{kind} {when}: {detail}")
            if sum(answered.values()) >= 40:
                kill_now.set()

    def browse() -> None:
        try:
            status, _, _body = fetch("GET", cluster.nginx.url + CATEGORY_URL)
            count("GET", status == 200, str(status))
        except (OSError, http.client.HTTPException) as exc:
            count("GET", False, repr(exc))

    def shop(job: tuple[int, int]) -> None:
        shopper, course_pk = job
        course = by_pk[course_pk]
        browse()
        body = json.dumps({"courses": [course_pk], "total_amount": str(course.price)})
        headers = {"Content-Type": "application/json", "Authorization": f"jwt {tokens[shopper]}"}
        try:
            status, _, answer = fetch("POST", cluster.nginx.url + PAY_URL, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            return count("pay", False, repr(exc))
        if status != 201:
            return count("pay", False, str(status))
        count("pay", True)
        no = json.loads(answer)["out_trade_no"]
        with lock:
            seen[no] = (shopper, course.price)
        params = urlencode(alipay_notify(alipay_keys, no, course.price))
        try:
            status, _, answer = fetch("POST", cluster.nginx.url + NOTIFY_URL, params, FORM)
        except (OSError, http.client.HTTPException) as exc:
            return count("notify", False, repr(exc))
        count("notify", answer == b"success", f"{status} {answer[:40]!r}")
        if answer == b"success":
            with lock:
                notify_success.add(no)

    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        futures = [pool.submit(shop, job) for job in jobs]
        assert kill_now.wait(timeout=60), "the traffic never reached the kill point"
        served_by_a_before = cluster.a.served()
        cluster.a.kill()
        killed.set()
        for future in futures:
            future.result(timeout=90)

    # "Alipay" redelivers every notify that was not answered `success`, until it is.
    redelivered = 0
    for no, (_, amount) in sorted(seen.items()):
        if no in notify_success:
            continue
        for attempt in range(5):
            redelivered += 1
            params = urlencode(alipay_notify(alipay_keys, no, amount))
            if fetch("POST", cluster.nginx.url + NOTIFY_URL, params, FORM)[2] == b"success":
                break
            time.sleep(0.2 * (attempt + 1))
        else:
            raise AssertionError(f"redelivery of {no} never answered success")

    failed = {k: v for k, v in answered.items() if k[1] == "failed"}
    report(
        "requests answered by node A (before its kill) / node B",
        (served_by_a_before, cluster.b.served()),
    )
    report("requests failed at the kill (kind, when): count", failed or "none")
    report("what those failures were", failed_detail)
    report("notifies redelivered after the kill", redelivered)
    # Catalog reads are retried on B by nginx: not one is lost. A POST that was inside node A
    # when it died answers 502 (nginx does not resend it: it may have been done); the shopper
    # sees an error, "Alipay" redelivers the notify.
    # A GET is never answered 502: nginx sends those A did not answer to B. Only an answer A
    # was already streaming when it died can be cut short (the client sees a truncated body).
    assert not [d for d in failed_detail if d.startswith("GET") and "502" in d], failed_detail
    assert sum(failed.values()) <= CLIENT_THREADS, failed_detail  # at most those in flight
    assert answered[("pay", "ok", "after")] > 0  # B carried on
    assert cluster.b.served() > 0 and served_by_a_before > 0

    assert_consistent()
    paid = dict(
        Order.objects.filter(order_status=Order.Status.PAID).values_list("out_trade_no", "user_id")
    )
    assert set(seen) <= set(paid), "an order a shopper paid for is not paid"
    outcomes = Counter(
        PaymentNotification.objects.filter(outcome=PaymentNotification.Outcome.SETTLED).values_list(
            "out_trade_no", flat=True
        )
    )
    assert set(outcomes.values()) == {1} and set(outcomes) == set(paid)
    report("orders paid / settled exactly once", (len(paid), len(outcomes)))
    unseen = Order.objects.exclude(out_trade_no__in=list(seen)).count()
    report("orders placed on A whose answer died with it (unpaid, they expire)", unseen)


# --- The flash-sale burst through nginx (issue 27) ----------------------------------------------


def _pay_through_nginx(base: str, keys, numbers: list[str], amount: Decimal) -> list[bytes]:
    def pay(no: str) -> bytes:
        return fetch("POST", base + NOTIFY_URL, urlencode(alipay_notify(keys, no, amount)), FORM)[2]

    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        return list(pool.map(pay, numbers))


def _run_job(cluster, *command: str) -> str:
    """A cron job on node A's machine: manage.py with the node's settings (its Redis)."""
    done = subprocess.run(  # noqa: S603 - the project's own manage.py
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=cluster.a.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_a_flash_sale_burst_through_nginx_sells_exactly_its_seats_on_two_nodes(
    cluster,
    alipay_keys,  # noqa: F811
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.promotion.models import FlashSale, FlashSeat
    from bench import flash

    course = CourseFactory(price=Decimal("199.00"))
    now = timezone.now()
    sale = FlashSale.objects.create(
        course=course,
        sale_price=Decimal(flash.SALE_PRICE),
        seats=flash.SEATS,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
    )
    tokens = [access_token(user) for user in UserFactory.create_batch(flash.BUYERS)]

    burst = flash.burst(cluster.nginx.url, tokens, sale.pk)

    figures = burst.as_dict()
    report(
        f"flash burst through nginx ({flash.BUYERS} buyers x {flash.ATTEMPTS} tries, "
        f"{flash.SEATS} seats): tries, seconds, answers, p50/p99 ms",
        (
            figures["sent"],
            figures["wall_s"],
            figures["statuses"],
            figures["p50_ms"],
            figures["p99_ms"],
        ),
    )
    report(
        "flash burst answered by node A / node B",
        tuple(n.served("/flash/") for n in (cluster.a, cluster.b)),
    )
    assert burst.server_errors == 0, figures
    assert burst.statuses[201] == flash.SEATS, figures
    assert set(burst.statuses) == {201, 409}, figures
    orders = list(Order.objects.filter(lines__course=course).values_list("out_trade_no", flat=True))
    assert len(orders) == flash.SEATS
    assert FlashSeat.objects.filter(sale=sale, holding=True).count() == flash.SEATS

    # 70 are paid; the other 30 let their pay window pass (their clock moved past it) and the
    # cron job on a node times them out: their seats go back to the sale and to Redis.
    paid, lapsing = orders[:70], orders[70:]
    assert _pay_through_nginx(cluster.nginx.url, alipay_keys, paid, sale.sale_price) == [
        b"success"
    ] * len(paid)
    Order.objects.filter(out_trade_no__in=lapsing).update(expires_at=now - timedelta(hours=1))
    assert "30 order(s) timed out" in _run_job(cluster, "expire_orders")
    sale.refresh_from_db()
    report("flash seats back on sale after 30 orders expired", sale.seats_left)
    assert sale.seats_left == 30

    again = flash.burst(cluster.nginx.url, tokens, sale.pk, attempts=1)
    report("second burst (the same buyers, 1 try each): answers", again.as_dict()["statuses"])
    assert again.server_errors == 0 and again.statuses[201] == 30
    new = list(
        Order.objects.filter(lines__course=course, order_status=Order.Status.UNPAID).values_list(
            "out_trade_no", flat=True
        )
    )
    assert len(new) == 30
    assert _pay_through_nginx(cluster.nginx.url, alipay_keys, new, sale.sale_price) == [
        b"success"
    ] * len(new)

    granted = CourseEntitlement.objects.filter(course=course).count()
    report(
        "flash orders paid / courses granted",
        (
            Order.objects.filter(lines__course=course, order_status=Order.Status.PAID).count(),
            granted,
        ),
    )
    assert granted == flash.SEATS
    sale.refresh_from_db()
    assert sale.seats_left == 0
    assert FlashSeat.objects.filter(sale=sale, holding=True).count() == flash.SEATS
    course.refresh_from_db()
    assert course.students == flash.SEATS
    # Every paid flash order is whole (trade number, pay time); the 30 others timed out.
    statuses = Counter(
        Order.objects.filter(lines__course=course).values_list("order_status", flat=True)
    )
    assert statuses == {Order.Status.PAID: flash.SEATS, Order.Status.TIMED_OUT: 30}
    assert not Order.objects.filter(order_status=Order.Status.PAID, pay_time=None).exists()
