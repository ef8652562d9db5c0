"""In-process measurements next to the load test: SQL per request, query plans, RSA2 cost.

Run by bench/run.py as `python -m bench.probe WORKDIR` in the same environment as gunicorn
(bench.settings: production plus the ceiling view, the bench database), before the load starts.

Single-request time: the median wall time of each endpoint called one request at a time
in-process (no HTTP, no queueing behind other requests), for comparison with wrk's latencies,
with the median time of it spent waiting for MariaDB (`single_request_db_ms`, timed at the
driver). Each request's cost is printed, not judged.

SQL queries per request: each endpoint is called twice through django.test.Client with the
connection's queries captured (CaptureQueriesContext), the second time with the same request:
the first call is a cold one (empty per-process caches; for the notify, the first delivery), the
second a warm one (cache hit; for the notify, a redelivery; for placement, another order). This
runs the full middleware stack and the real views, without changing the served code, and counts
every statement including the cache table's and transaction savepoints. The wrk runs cannot count
queries themselves (no debug cursor in production).

Commits and round trips per request: around each of those calls MariaDB's own session counters
(SHOW SESSION STATUS: Questions = statements the client sent, Com_commit = COMMIT statements)
are read, and the captured statements give the commits Django caused: each COMMIT plus each write
sent in autocommit (a commit of its own, which Com_commit does not count). Questions counts
statements; the requests the driver sent are counted too (`requests_*`, DriverRequests).

Commit baseline (`commit_ms`): the median cost of one single-row UPDATE + COMMIT on the bench
database, on a scratch table (created and dropped here), with the driver's autocommit off; and the
same through transaction.atomic() (`commit_django_ms`: Django's autocommit switches around
the UPDATE and the COMMIT). Wall time, since
a commit's cost is mostly the server's; the CPU time of this process is recorded next to it.

Query plans: every SELECT/UPDATE of those calls is EXPLAINed on the same database; a step that
reads a whole table or index (type ALL or index) over FULL_SCAN_ROWS rows is flagged.

RSA2: one signature with the app key (what placement does for the pay URL) and one verification
with "Alipay's" public key (what a notify costs), with the SDK's own crypto (Cryptodome
PKCS1_v1_5 + SHA256, 2048-bit keys): the median CPU time of many runs (the median wall time is
recorded too; it only differs when other processes compete for the cores).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

from . import config

FULL_SCAN_ROWS = 1_000
SERVICE_RUNS = 20
SIGN_RUNS = 300
VERIFY_RUNS = 2_000
COMMIT_RUNS = 200


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: str = ""
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    expect_body: bytes | None = None


@dataclass
class Plan:
    sql: str
    table: str
    type: str
    key: str | None
    rows: int
    extra: str


def calls(probe: dict[str, Any]) -> dict[str, Call]:
    course = probe["course_id"]
    return {
        "ceiling": Call("GET", config.CEILING.path),
        "list": Call("GET", "/api/v1/course/list/"),
        "detail": Call("GET", f"/api/v1/course/list/{course}/"),
        "chapters": Call("GET", f"/api/v1/course/chapter/?course={course}"),
        "search": Call("GET", f"/api/v1/course/search/?search={config.SEARCH_WORD}"),
        "pay": Call(
            "POST",
            "/api/v1/order/pay/",
            probe["pay_body"],
            "application/json",
            {"Authorization": probe["pay_authorization"]},
        ),
        "notify": Call(
            "POST",
            "/api/v1/order/success/",
            probe["notify_body"],
            "application/x-www-form-urlencoded",
            expect_body=b"success",
        ),
        "login": Call(
            "POST", "/api/v1/user/user/mul_login/", probe["login_body"], "application/json"
        ),
        "progress": Call(
            "PUT",
            probe["progress_line"].split("\t")[1],
            probe["progress_line"].split("\t")[2],
            "application/json",
            {"Authorization": probe["progress_line"].split("\t")[0]},
        ),
        # Not loaded by wrk: a buyer's order list, the other read of the order tables.
        "orders": Call(
            "GET", "/api/v1/order/", headers={"Authorization": probe["pay_authorization"]}
        ),
    }


def _explain(cursor: Any, sql: str) -> list[Plan]:
    cursor.execute(f"EXPLAIN {sql}")
    names = [c[0].lower() for c in cursor.description]
    plans = []
    for row in cursor.fetchall():
        r = dict(zip(names, row, strict=True))
        plans.append(
            Plan(
                sql=sql if len(sql) <= 400 else sql[:400] + " ...",
                table=str(r.get("table")),
                type=str(r.get("type")),
                key=r.get("key"),
                rows=int(r.get("rows") or 0),
                extra=str(r.get("extra") or ""),
            )
        )
    return plans


def full_scans(queries: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """EXPLAIN each read/update; return the flagged steps and any statement EXPLAIN refused."""
    from django.db import connection

    flagged, failed = [], []
    with connection.cursor() as cursor:
        for sql in queries:
            verb = sql.lstrip().split(" ", 1)[0].upper()
            if verb not in {"SELECT", "UPDATE", "DELETE"}:
                continue
            try:
                plans = _explain(cursor, sql)
            except Exception as exc:  # a statement EXPLAIN cannot take: say so, go on
                failed.append(f"{sql[:120]}: {exc}")
                continue
            flagged += [
                asdict(p) for p in plans if p.type in {"ALL", "index"} and p.rows >= FULL_SCAN_ROWS
            ]
    return flagged, failed


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def commits_in(sqls: list[str]) -> int:
    """Commits a request caused: COMMITs, plus writes sent outside BEGIN..COMMIT (autocommit)."""
    commits, in_transaction = 0, False
    for sql in sqls:
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if verb == "BEGIN":
            in_transaction = True
        elif verb in {"COMMIT", "ROLLBACK"}:
            commits += verb == "COMMIT"
            in_transaction = False
        elif verb in WRITES and not in_transaction:
            commits += 1
    return commits


def session_counters() -> dict[str, int]:
    """MariaDB's session counters (empty on another database); reading them is one Question."""
    from django.db import connection

    if connection.vendor != "mysql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Questions', 'Com_commit')")
        return {name: int(value) for name, value in cursor.fetchall()}


def counter_deltas(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    if not before:
        return {}
    # The SHOW that read `after` counts as a Question itself.
    return {
        "round_trips": after["Questions"] - before["Questions"] - 1,
        "com_commit": after["Com_commit"] - before["Com_commit"],
    }


class DriverRequests:
    """Requests this process sent to MariaDB, counted at the driver (mysqlclient's `query`,
    `commit`, `rollback`).

    `waited_s`: the wall time spent inside the driver's calls that wait for the server (those
    three, plus `next_result` and `store_result`, which read further results and the rows):
    the round trips and MariaDB's own work, as one request at a time sees them."""

    REQUESTS = ("query", "commit", "rollback")
    WAITS = (*REQUESTS, "next_result", "store_result")

    def __init__(self) -> None:
        self.count = 0
        self.waited_s = 0.0

    def install(self) -> None:
        from django.db import connection

        if connection.vendor != "mysql":
            return
        cls = type(connection.connection)
        for name in self.WAITS:
            setattr(cls, name, self._counted(getattr(cls, name), name in self.REQUESTS))

    def _counted(self, real: Any, is_request: bool) -> Any:
        def call(conn: Any, *args: Any) -> Any:
            self.count += is_request
            started = time.perf_counter()
            try:
                return real(conn, *args)
            finally:
                self.waited_s += time.perf_counter() - started

        return call


def measure_endpoints(probe: dict[str, Any], requests: DriverRequests) -> dict[str, Any]:
    """`requests`: installed (main), so that connection set-up is not counted as a request's."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    results: dict[str, Any] = {}
    for name, call in calls(probe).items():
        rounds = []
        for _ in range(2):
            before = session_counters()
            sent = requests.count
            with CaptureQueriesContext(connection) as captured:
                response = client.generic(
                    call.method,
                    call.path,
                    call.body,
                    content_type=call.content_type,
                    headers=call.headers,
                )
            sent = requests.count - sent
            counted = counter_deltas(before, session_counters())
            ok = 200 <= response.status_code < 300 and (
                call.expect_body is None or response.content == call.expect_body
            )
            rounds.append(
                {
                    "status": response.status_code,
                    "ok": ok,
                    "queries": len(captured.captured_queries),
                    "sql": [q["sql"] for q in captured.captured_queries],
                    "commits": commits_in([q["sql"] for q in captured.captured_queries]),
                    **counted,
                    "requests": sent if counted else None,
                    "body": "" if ok else response.content[:300].decode("utf-8", "replace"),
                }
            )
        flagged, failed = full_scans(rounds[0]["sql"])
        results[name] = {
            "queries_first": rounds[0]["queries"],
            "queries_repeat": rounds[1]["queries"],
            # Commits per request (COMMITs + autocommit writes), first call and repeat.
            "commits_first": rounds[0]["commits"],
            "commits_repeat": rounds[1]["commits"],
            # Statements the client sent (MariaDB's Questions: SQL plus SET autocommit,
            # BEGIN/COMMIT), and MariaDB's own count of COMMITs; None on another database.
            "round_trips_first": rounds[0].get("round_trips"),
            "round_trips_repeat": rounds[1].get("round_trips"),
            # Requests sent to MariaDB, counted at the driver (DriverRequests): fewer than
            # round_trips_* when statements went in batches.
            "requests_first": rounds[0]["requests"],
            "requests_repeat": rounds[1]["requests"],
            "com_commit_first": rounds[0].get("com_commit"),
            "com_commit_repeat": rounds[1].get("com_commit"),
            "status": [r["status"] for r in rounds],
            "ok": all(r["ok"] for r in rounds),
            "errors": [r["body"] for r in rounds if not r["ok"]],
            "sql_first": rounds[0]["sql"],
            "full_scans": flagged,
            "explain_failed": failed,
        }
    return results


def single_request_ms(
    workdir: Path, probe: dict[str, Any], requests: DriverRequests
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall time of one request at a time, in-process (no queueing, no HTTP), with the
    load's request mix: the same URL for list and search (cache hits after the first), distinct
    course ids for detail and chapters (cache misses), fresh orders for placement, redeliveries
    of the probe's notify (`notify`), first deliveries that settle an order (`notify_first`,
    orders of its own: see first_notify_calls), and a few logins (one password hash each).

    Also the median time each request waited for MariaDB (`requests.waited_s` around it: its
    round trips and the server's work; 0 on another database), the rest being this process's
    Python. Returns (wall ms, MariaDB ms) by endpoint."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    base = calls(probe)
    ids = (workdir / "course_ids.txt").read_text().split()
    ids = ids[:: max(1, len(ids) // SERVICE_RUNS)][:SERVICE_RUNS]
    pay_lines = (workdir / "pay.txt").read_text().splitlines()[-SERVICE_RUNS:]
    plans: dict[str, list[Call]] = {
        "ceiling": [base["ceiling"]] * SERVICE_RUNS,
        "list": [base["list"]] * SERVICE_RUNS,
        "detail": [Call("GET", f"/api/v1/course/list/{i}/") for i in ids],
        "chapters": [Call("GET", f"/api/v1/course/chapter/?course={i}") for i in ids],
        "search": [base["search"]] * SERVICE_RUNS,
        "pay": [
            Call(
                "POST",
                base["pay"].path,
                line.split("\t")[1],
                "application/json",
                {"Authorization": line.split("\t")[0]},
            )
            for line in pay_lines
        ],
        "notify": [base["notify"]] * SERVICE_RUNS,
        "notify_first": first_notify_calls(base["notify"].path, SERVICE_RUNS),
        "login": [base["login"]] * 3,
    }
    result, waited = {}, {}
    for name, plan in plans.items():
        times, waits = [], []
        for call in plan:
            waited_before = requests.waited_s
            started = time.perf_counter()
            client.generic(
                call.method,
                call.path,
                call.body,
                content_type=call.content_type,
                headers=call.headers,
            )
            times.append(time.perf_counter() - started)
            waits.append(requests.waited_s - waited_before)
        result[name] = round(statistics.median(times) * 1000, 2)
        waited[name] = round(statistics.median(waits) * 1000, 2)
    return result, waited


def first_notify_calls(path: str, runs: int) -> list[Call]:
    """`runs` unpaid orders of new buyers (one course each) and each order's signed notify: first
    deliveries that settle and grant. Their own rows, so the notifies wrk sends stay first
    deliveries; the orders and users are marked `probe-`, and count among the run's new orders."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from apps.course.models import Course
    from apps.order.models import Order, OrderDetail
    from apps.order.services import new_out_trade_no
    from apps.user.models import User

    from . import alipay

    key = Path(os.environ["ALIPAY_PUBLIC_KEY_FILE"]).with_name("alipay_private.pem")
    course = (
        Course.objects.visible().with_current_price().filter(price__gt=0).order_by("pk").first()
    )
    if course is None:
        raise SystemExit("no course with a price to pay for")
    tag, now = secrets.token_hex(4), timezone.now()
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"probe-{tag}-{i}", password=unusable) for i in range(runs)
    )
    if any(u.pk is None for u in users):  # backends without RETURNING
        users = list(User.objects.filter(username__startswith=f"probe-{tag}-").order_by("pk"))
    paid_at = timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S")
    result = []
    for i, user in enumerate(users):
        order = Order.objects.create(
            user=user,
            subject=f"probe {course.name}"[:150],
            total_amount=course.real_price,
            out_trade_no=new_out_trade_no(),
            expires_at=now + timedelta(minutes=30),
        )
        OrderDetail.objects.create(
            order=order, course=course, price=course.price, real_price=course.real_price
        )
        params = alipay.signed_notify(
            order.out_trade_no,
            order.total_amount,
            trade_no=f"2027{10**23 + i:024d}",
            gmt_payment=paid_at,
            alipay_private_key=key,
        )
        result.append(
            Call(
                "POST",
                path,
                alipay.form_body(params),
                "application/x-www-form-urlencoded",
                expect_body=b"success",
            )
        )
    return result


def commit_baseline(runs: int = COMMIT_RUNS) -> dict[str, Any]:
    """One single-row UPDATE + COMMIT on the bench database (MariaDB): with the driver
    (autocommit off) and through transaction.atomic(); median wall and CPU milliseconds."""
    from django.db import connection, transaction

    update = "UPDATE bench_commit_probe SET n = n + 1 WHERE id = 1"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_commit_probe")
        cursor.execute("CREATE TABLE bench_commit_probe (id INT PRIMARY KEY, n BIGINT NOT NULL)")
        cursor.execute("INSERT INTO bench_commit_probe VALUES (1, 0)")
    try:
        raw = connection.connection  # MySQLdb's: Django's own stays in autocommit meanwhile
        raw.autocommit(False)
        try:
            with raw.cursor() as cursor:

                def driver() -> None:
                    cursor.execute(update)
                    raw.commit()

                wall, cpu = _medians_ms(driver, runs)
        finally:
            raw.autocommit(True)

        def django_atomic() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(update)

        django_wall, django_cpu = _medians_ms(django_atomic, runs)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_commit_probe")
    return {
        "commit_ms": round(wall, 3),
        "commit_cpu_ms": round(cpu, 3),
        "commit_django_ms": round(django_wall, 3),
        "commit_django_cpu_ms": round(django_cpu, 3),
        "commit_runs": runs,
    }


def _medians_ms(fn: Any, runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (this thread) of `fn`, in milliseconds."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def rsa_baseline(notify_body: str) -> dict[str, Any]:
    """One RSA2 signature and one verification with the SDK's crypto and the bench's keys."""
    from urllib.parse import parse_qsl

    from Cryptodome.Hash import SHA256
    from Cryptodome.PublicKey import RSA
    from Cryptodome.Signature import PKCS1_v1_5
    from django.utils import timezone

    from libs import iPay
    from tests.support.alipay import signing_string

    conf = iPay.load_settings()
    assert conf is not None  # noqa: S101 - the bench configures Alipay
    app_key = RSA.importKey(conf.app_private_key)
    alipay_key = RSA.importKey(conf.alipay_public_key)
    # What placement signs: the page-pay request's parameters (biz_content JSON included).
    pay_url = iPay.get_client().page_pay_url(
        out_trade_no="20261125120000000000" + "0" * 16,
        total_amount=Decimal("299.00"),
        subject="Django实战 第1期",
        expires_at=timezone.now(),
    )
    params = dict(parse_qsl(pay_url.split("?", 1)[1]))
    unsigned_pay = signing_string(params, exclude=("sign",)).encode()
    notify = dict(parse_qsl(notify_body))
    unsigned_notify = signing_string(notify, exclude=("sign", "sign_type")).encode()
    signature = base64.b64decode(notify["sign"])
    if not PKCS1_v1_5.new(alipay_key).verify(SHA256.new(unsigned_notify), signature):
        raise SystemExit("the probe's notify does not verify with ALIPAY_PUBLIC_KEY")
    signer, verifier = PKCS1_v1_5.new(app_key), PKCS1_v1_5.new(alipay_key)
    sign_wall, sign_cpu = _medians_ms(lambda: signer.sign(SHA256.new(unsigned_pay)), SIGN_RUNS)
    verify_wall, verify_cpu = _medians_ms(
        lambda: verifier.verify(SHA256.new(unsigned_notify), signature), VERIFY_RUNS
    )
    # The baseline is the CPU time: on a busy machine the wall time of a 1-5 ms operation also
    # counts the time it waited for a core, which is not the cost of the operation alone.
    return {
        "sign_ms": sign_cpu,
        "verify_ms": verify_cpu,
        "sign_wall_ms": sign_wall,
        "verify_wall_ms": verify_wall,
        "sign_runs": SIGN_RUNS,
        "verify_runs": VERIFY_RUNS,
        "key_bits": app_key.size_in_bits(),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.probe WORKDIR", file=sys.stderr)
        return 2
    workdir = Path(argv[0])
    django.setup()
    probe = json.loads((workdir / "manifest.json").read_text())["probe"]
    commit = commit_baseline()
    from django.db import connection

    connection.ensure_connection()  # connection set-up statements are not a request's
    requests = DriverRequests()
    requests.install()
    endpoints = measure_endpoints(probe, requests)
    single, waited = single_request_ms(workdir, probe, requests)
    result = {
        "endpoints": endpoints,
        "single_request_ms": single,
        # Of each single request, the median time spent waiting for MariaDB (DriverRequests).
        "single_request_db_ms": waited,
        "rsa": rsa_baseline(probe["notify_body"]),
        # One single-row UPDATE + COMMIT (median wall ms); the rest of its figures in "commit".
        "commit_ms": commit["commit_ms"],
        "commit": commit,
    }
    (workdir / "probe.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    for name, r in result["endpoints"].items():
        if not r["ok"]:
            print(f"  probe: {name} answered {r['status']}: {r['errors'][:1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
