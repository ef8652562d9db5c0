"""How fast the admin's dashboard is on large tables (its sales figures over a million orders, its
learning block over 200,000 progress rows), and which indexes it uses.

    MARIADB_PORT=3318 scripts/mariadb.sh start
    DATABASE_URL=$(MARIADB_PORT=3318 scripts/mariadb.sh url) .venv/bin/python -m bench.dashboard
    (or `make bench-dashboard`, which starts and stops a throwaway MariaDB itself)

Migrates the database named by DATABASE_URL (MariaDB only: the rows come from its SEQUENCE
engine, INSERT … SELECT, so a million orders take seconds), fills it with ORDERS orders (one line
each) spread over two years, 70 % paid, then runs `sales_summary()` RUNS times and prints the
median and worst time, each query's time and its EXPLAIN; then PROGRESS learning-progress rows
(40 lessons for each of 5,000 learners, 60 % completed) and `learning_completion()` the same way.
Wipes the order and progress tables first.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import django

ORDERS = int(os.environ.get("BENCH_DASHBOARD_ORDERS", "1000000"))
PROGRESS = int(os.environ.get("BENCH_DASHBOARD_PROGRESS", "200000"))
COURSES = 200
USERS = 5000
LESSONS_PER_COURSE = 10
LESSONS_PER_LEARNER = 40
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


def seed_progress(rows: int) -> float:
    """LESSONS_PER_COURSE lessons in each course, then `rows` progress rows: learner n studies
    LESSONS_PER_LEARNER lessons from a place of their own, 60 % of them completed."""
    from django.db import connection

    from apps.course.models import Course, CourseChapter, CourseSection
    from apps.user.models import User

    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM luffy_lesson_progress")
    courses = list(Course.objects.filter(name__startswith="基准课程").order_by("pk"))
    for course in courses:
        if not CourseChapter.objects.filter(course=course).exists():
            chapter = CourseChapter.objects.create(course=course, chapter=1, name="第1章")
            CourseSection.objects.bulk_create(
                CourseSection(chapter=chapter, name=f"1.{n} 课时", orders=n, duration="10:00")
                for n in range(1, LESSONS_PER_COURSE + 1)
            )
    sections = CourseSection.objects.filter(chapter__course__in=courses).order_by("pk")
    first_section, last_section = sections.first().pk, sections.last().pk
    count = sections.count()
    assert last_section - first_section + 1 == count, "the lessons' ids are not contiguous"  # noqa: S101
    first_user = User.objects.order_by("pk").values_list("pk", flat=True)[0]
    # Lesson index of row `seq`: learner seq DIV 40 starts at their own place (n * 37) and takes
    # 40 consecutive lessons, so (learner, lesson) never repeats.
    lesson = f"(((seq DIV {LESSONS_PER_LEARNER}) * 37 + seq MOD {LESSONS_PER_LEARNER}) MOD {count})"
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO luffy_lesson_progress (user_id, section_id, course_id, position,
                watched, completed_at, started_at, updated_at)
            SELECT {first_user} + (seq DIV {LESSONS_PER_LEARNER}) MOD {USERS},
                {first_section} + {lesson}, {courses[0].pk} + {lesson} DIV {LESSONS_PER_COURSE},
                600, IF(seq MOD 10 < 6, 600, 120),
                IF(seq MOD 10 < 6, UTC_TIMESTAMP() - INTERVAL seq SECOND, NULL),
                UTC_TIMESTAMP() - INTERVAL seq MINUTE, UTC_TIMESTAMP() - INTERVAL seq SECOND
            FROM seq_0_to_{rows - 1}"""  # noqa: S608
        )
        cur.execute("ANALYZE TABLE luffy_lesson_progress")
        cur.fetchall()
    return time.perf_counter() - started


def _timed(run, name: str) -> tuple[object, list[dict]]:
    """Run `run()` RUNS times; print the median and worst; the last result and its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, captured, result = [], [], None
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - started)
        captured = queries.captured_queries
    print(f"{name} x{RUNS}: median {statistics.median(times) * 1000:.0f} ms, "
          f"worst {max(times) * 1000:.0f} ms, {len(captured)} queries")  # fmt: skip
    return result, captured


def explain(captured: list[dict]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for query in captured:
            print(f"\n-- {float(query['time']) * 1000:.1f} ms: {query['sql'][:300]}")
            cur.execute(f"EXPLAIN {query['sql']}")
            cols = [c[0] for c in cur.description]
            for row in cur.fetchall():
                info = dict(zip(cols, row, strict=True))
                print(f"   {info['table']}: type={info['type']} key={info['key']} "
                      f"rows={info['rows']} extra={info['Extra']}")  # fmt: skip


def measure() -> None:
    from apps.dashboard.selectors import sales_summary

    summary, captured = _timed(sales_summary, "sales_summary()")
    print(f"  30 days: ¥{summary.window.revenue} in {summary.window.orders:,} paid orders; "
          f"today ¥{summary.today.revenue}; open unpaid {summary.open_unpaid}")  # fmt: skip
    explain(captured)


def measure_learning() -> None:
    from apps.course.selectors import learning_completion

    completion, captured = _timed(learning_completion, "\nlearning_completion()")
    print(f"  {completion.started:,} learners started, {completion.completed:,} finished a "
          f"course, average {completion.average_percent} %, "
          f"{completion.lessons} courses studied")  # fmt: skip
    explain(captured)


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
    print(f"\nseeding {PROGRESS:,} learning-progress rows …", flush=True)
    print(f"  seeded in {seed_progress(PROGRESS):.1f} s")
    measure_learning()
    return 0


if __name__ == "__main__":
    sys.exit(main())
