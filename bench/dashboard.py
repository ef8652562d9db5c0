"""How fast the admin's sales dashboard is on a large order table, and which indexes it uses.

    MARIADB_PORT=3318 scripts/mariadb.sh start
    DATABASE_URL=$(MARIADB_PORT=3318 scripts/mariadb.sh url) .venv/bin/python -m bench.dashboard
    (or `make bench-dashboard`, which starts and stops a throwaway MariaDB itself)

Migrates the database named by DATABASE_URL (MariaDB only: the rows come from its SEQUENCE
engine, INSERT … SELECT, so a million orders take seconds), fills it with ORDERS orders (one line
each) spread over two years, 70 % paid, then runs `sales_summary()` RUNS times and prints the
median and worst time, each query's time and its EXPLAIN. Wipes the order tables first.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import django

ORDERS = int(os.environ.get("BENCH_DASHBOARD_ORDERS", "1000000"))
COURSES = 200
USERS = 5000
RUNS = 5


def seed(orders: int) -> float:
    from django.db import connection

    from apps.course.models import Course, CourseCategory, Teacher
    from apps.user.models import User

    started = time.perf_counter()
    with connection.cursor() as cur:
        for table in ("luffy_order_refund_lines", "luffy_order_refund", "luffy_manual_grant",
                      "luffy_user_course", "luffy_order_detail", "luffy_order"):  # fmt: skip
            cur.execute(f"DELETE FROM {table}")  # noqa: S608 (our table names)
    category = CourseCategory.objects.get_or_create(name="基准")[0]
    teacher = Teacher.objects.get_or_create(name="基准老师", defaults={"title": "讲师"})[0]
    have = Course.objects.count()
    Course.objects.bulk_create(
        Course(name=f"基准课程{i}", course_category=category, teacher=teacher, price=199)
        for i in range(have, COURSES)
    )
    have = User.objects.count()
    User.objects.bulk_create(
        (User(username=f"bench{i}", mobile=f"150{i:08d}") for i in range(have, USERS)),
        batch_size=2000,
    )
    first_course = Course.objects.order_by("pk").values_list("pk", flat=True)[0]
    first_user = User.objects.order_by("pk").values_list("pk", flat=True)[0]
    seq = f"seq_1_to_{orders}"
    # Created every ~63 s going back two years; status by seq % 10: 0-6 paid, 7 unpaid (the
    # newest are still open), 8 timed out, 9 cancelled.
    created = "UTC_TIMESTAMP() - INTERVAL (seq * 63) SECOND"
    with connection.cursor() as cur:
        # Only integers and constants of ours are formatted into these statements.
        cur.execute(
            f"""INSERT INTO luffy_order (id, subject, total_amount, out_trade_no, trade_no,
                order_status, pay_type, pay_time, expires_at, user_id, created_time, updated_time)
            SELECT seq, '基准订单', 99 + (seq % 5) * 100, CONCAT('B', LPAD(seq, 12, '0')),
                IF(seq % 10 < 7, CONCAT('2026', LPAD(seq, 24, '0')), ''),
                CASE WHEN seq % 10 < 7 THEN 1 WHEN seq % 10 = 7 THEN 0
                     WHEN seq % 10 = 8 THEN 3 ELSE 2 END,
                1, IF(seq % 10 < 7, {created} + INTERVAL 60 SECOND, NULL),
                {created} + INTERVAL 30 MINUTE, {first_user} + seq % {USERS}, {created}, {created}
            FROM {seq}"""  # noqa: S608
        )
        cur.execute(
            f"""INSERT INTO luffy_order_detail (id, order_id, course_id, price, real_price)
            SELECT seq, seq, {first_course} + seq % {COURSES}, 99 + (seq % 5) * 100,
                99 + (seq % 5) * 100 FROM {seq}"""  # noqa: S608
        )
        cur.execute("ANALYZE TABLE luffy_order, luffy_order_detail")
        cur.fetchall()
    return time.perf_counter() - started


def measure() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.dashboard.selectors import sales_summary

    times, captured = [], None
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            summary = sales_summary()
            times.append(time.perf_counter() - started)
        captured = queries.captured_queries
    print(f"sales_summary() x{RUNS}: median {statistics.median(times) * 1000:.0f} ms, "
          f"worst {max(times) * 1000:.0f} ms, {len(captured)} queries")  # fmt: skip
    print(f"  30 days: ¥{summary.window.revenue} in {summary.window.orders:,} paid orders; "
          f"today ¥{summary.today.revenue}; open unpaid {summary.open_unpaid}")  # fmt: skip
    with connection.cursor() as cur:
        for query in captured:
            print(f"\n-- {float(query['time']) * 1000:.1f} ms: {query['sql'][:300]}")
            cur.execute(f"EXPLAIN {query['sql']}")
            cols = [c[0] for c in cur.description]
            for row in cur.fetchall():
                info = dict(zip(cols, row, strict=True))
                print(f"   {info['table']}: type={info['type']} key={info['key']} "
                      f"rows={info['rows']} extra={info['Extra']}")  # fmt: skip


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luffy_api.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-dashboard-not-secret")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    if not os.environ.get("DATABASE_URL", "").startswith("mysql"):
        print("DATABASE_URL must name a MariaDB database (mysql://…)", file=sys.stderr)
        return 2
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable")
    print(f"seeding {ORDERS:,} orders …", flush=True)
    print(f"  seeded in {seed(ORDERS):.1f} s")
    measure()
    return 0


if __name__ == "__main__":
    sys.exit(main())
