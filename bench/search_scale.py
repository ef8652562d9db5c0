"""Search at scale (issue 12, target 5): a million courses, the configured index, p50 and p99.

    python -m bench.search_scale [--courses N] [--json PATH] [--reuse]

starts its own throwaway MariaDB (scripts/mariadb.sh, 127.0.0.1:$BENCH_SEARCH_MARIADB_PORT,
3323 by default, 1G buffer pool, Mroonga loaded when installed), runs `run()` and stops it.
--reuse (for iterating on the search code): use the server already listening on that port, if
any, and its database when it holds `courses` courses (seeded and indexed otherwise; indexed
again if its index is unusable), and leave the server running afterwards
(`MARIADB_PORT=<port> scripts/mariadb.sh stop` removes it). BENCH_SEARCH_DATABASE names the
database (default luffy_bench_search), so catalogs of two sizes can live on one server.
bench/run.py can call `run(server_url)` against the bench's own server instead.

What `run()` does, in a child process (Django is set up there, never in the caller):
  1. creates the database `luffy_bench_search` on the server and migrates it;
  2. seeds `courses` courses with multi-row INSERTs (bench/seed.py's Writer, its topics,
     variants and prices), secondary indexes built once after the load. Names and briefs draw
     their words from a vocabulary of 30,000 Latin and Chinese words with Zipf-like
     frequencies (rank r is drawn in proportion to 1/r), so a query word can match half the
     catalog, a few hundred courses or none, as in a real shop;
  3. builds the index of SEARCH_BACKEND (mroonga when the server has the engine, else like);
  4. times QUERIES searches through the real view (`CourseSearchView`, anonymous page cache
     off: count + first page of 10), in-process, over a mix of common, middling and rare words,
     Chinese, one character, two words, prices and words that match nothing, twice: *cold*,
     each the first search of its words since the catalog changed (the search generation is
     bumped before each, so the count cache misses; the issue's target is judged on this), and
     *warm*, the same searches repeated (counts cached); then the old LIKE scan on a sample.
     Before both, one round of first-ever searches builds the first pages' cards.
Returns {"courses", "seed_s", "index_s", "queries", "p50_ms", "p99_ms" (cold), "warm_p50_ms",
"warm_p99_ms", "first_p50_ms", "like_p50_ms", "backend", "groonga_select" (the server has the
mroonga_command UDF: counts through Groonga's select), "per_query": [{"query", "matches",
"p50_ms", "cpu_ms" (cold), "warm_p50_ms", "warm_cpu_ms", "first_ms", "like_ms"?}, ...]}.
Times are wall-clock of the request in this process, MariaDB working on the same 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import config

DATABASE = os.environ.get("BENCH_SEARCH_DATABASE", "luffy_bench_search")
QUERIES = 240  # timed searches (each query of the mix about ten times)
VOCABULARY = 30_000
LIKE_SAMPLE = 8  # queries timed once through the LIKE scan (a full scan each at 1M)
MARIADB_PORT = config._env_int("BENCH_SEARCH_MARIADB_PORT", 3323)
SYLLABLES = (
    "ka", "ro", "mi", "te", "su", "no", "za", "vi", "lo", "pe", "dra", "xen", "qu", "bo",
    "ly", "fi", "gor", "tan", "vel", "nix",
)  # fmt: skip
LATIN = (
    "Python", "Django", "Flask", "FastAPI", "Vue", "React", "Go", "Linux", "MySQL", "Redis",
    "Docker", "Kubernetes", "Java", "Spring", "Rust", "Nginx", "Git", "HTTP", "TCP", "API",
    "Web", "CSS", "HTML", "JavaScript", "TypeScript", "Node", "Kafka", "Spark", "Hadoop", "ES",
    "NumPy", "Pandas", "PyTorch", "TensorFlow", "Shell", "AWS", "Celery", "gRPC", "GraphQL",
    "Selenium", "Scrapy", "OpenCV", "Jenkins", "Ansible", "Prometheus", "MongoDB", "SQL",
    "C++", "C#", "Swift", "Kotlin", "Android", "iOS", "Flutter", "Unity", "Excel", "PPT",
)  # fmt: skip
CHINESE = (
    "课程", "学习", "项目", "实战", "入门", "进阶", "高级", "开发", "数据", "分析", "机器学习",
    "深度学习", "爬虫", "前端", "后端", "运维", "测试", "算法", "架构", "微服务", "分布式",
    "并发", "性能优化", "源码", "面试", "就业", "企业级", "全栈", "小程序", "自动化", "可视化",
    "人工智能", "数据库", "网络编程", "设计模式", "云原生", "容器", "安全", "大数据", "编程",
    "零基础", "案例", "部署", "监控", "缓存", "消息队列", "搜索引擎", "推荐系统", "图像识别",
    "自然语言处理", "量化交易", "区块链", "游戏开发", "嵌入式", "物联网", "办公", "职场",
)  # fmt: skip
CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子"
    "说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机"
    "当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心"
    "反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程"
)  # the 300 most frequent Chinese characters, for rare compound words
FILLERS = (
    "一线工程师录制,配套源码与练习。",
    "适合有一定基础的同学系统提升。",
    "提供答疑与作业批改,学完可独立完成项目。",
    "从原理到实践,覆盖面试高频考点。",
)


def vocabulary(rng: random.Random) -> list[str]:
    """VOCABULARY words, most frequent first: real Latin and Chinese words, then made-up ones."""
    words = [w for pair in zip(CHINESE, LATIN, strict=False) for w in pair]
    words += CHINESE[len(LATIN) :] + LATIN[len(CHINESE) :]
    seen = set(words)
    while len(words) < VOCABULARY:
        if rng.random() < 0.5:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4))).capitalize()
        else:
            word = "".join(rng.choice(CHARS) for _ in range(2))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def query_mix(words: list[str]) -> list[str]:
    """Queries by how many courses they match: common, middling, rare, none; Chinese, two
    words, one character, prices."""
    return [
        words[1], words[0], words[5], words[12],  # common (1-10% of courses each)
        words[40], words[80], words[150], words[300],  # middling
        words[2_000], words[6_000], words[15_000], words[29_000],  # rare
        "Python实战", "Kubernetes进阶", "学习 Redis", f"{words[60]} {words[61]}",
        f"{words[900]} {words[3]}", "第12期", "199", "39.92", "量子纠缠", "Zzqxv",
        "Django", "数据分析",
    ]  # fmt: skip


# --- The child process (Django set up) ------------------------------------------------------------


def _courses(total: int, words: list[str], rng: random.Random, now: datetime):
    from .seed import ACTUAL_PRICES, CATEGORIES, CENT, LIGHT_PRICES, TOPICS, VARIANTS, ZERO, _ts

    weights, running = [], 0.0
    for rank in range(1, len(words) + 1):
        running += 1 / rank
        weights.append(running)
    made = _ts(now - timedelta(days=400))
    for i in range(1, total + 1):
        topic, variant = TOPICS[i % len(TOPICS)], VARIANTS[(i // len(TOPICS)) % len(VARIANTS)]
        drawn = rng.choices(words, cum_weights=weights, k=rng.randint(6, 12))
        name = f"{topic}{variant} {drawn[0]}{drawn[1]} 第{i // 1000 + 1}期"
        brief = f"{name}:{','.join(drawn[2:])}。{FILLERS[i % len(FILLERS)]}"
        r = rng.random()
        course_type = "free" if r < 0.15 else "actual" if r < 0.70 else "light"
        price = (
            ZERO
            if course_type == "free"
            else rng.choice(ACTUAL_PRICES if course_type == "actual" else LIGHT_PRICES)
        )
        discount: tuple[Any, Any, Any] = (None, None, None)
        if price > 0 and rng.random() < 0.25:
            cut = (price * Decimal("0.8")).quantize(CENT, ROUND_HALF_UP)
            discount = (cut, _ts(now - timedelta(days=10)), _ts(now + timedelta(days=30)))
        status = 1 if i % 50 == 0 else 2 if i % 97 == 0 else 0
        yield (
            i, int(i % 101 == 0), int(i % 67 != 0), i % 100, made, made, name, "", course_type,
            brief, "", i % 3, "2026-01-01", 7, status, i % 5000, 0, 0, price,
            "限时折扣" if discount[0] is not None else "", *discount,
            i % len(CATEGORIES) + 1, i % 40 + 1,
        )  # fmt: skip


def seed(total: int, words: list[str]) -> float:
    from .seed import CATEGORIES, Writer, _loading_cursor, _ts, defer_indexes

    started = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None)
    made = _ts(now - timedelta(days=400))
    cursor = _loading_cursor()
    restore = defer_indexes(cursor, ["luffy_course"])
    writer = Writer(cursor)
    writer.insert(
        "luffy_course_category",
        [(i, 0, 1, i, made, made, name) for i, name in enumerate(CATEGORIES, 1)],
    )
    writer.insert(
        "luffy_teacher",
        [(t, 0, 1, t, made, made, f"Teacher{t}", 0, "讲师", "", "", "") for t in range(1, 41)],
    )
    writer.insert("luffy_course", _courses(total, words, random.Random("search-scale"), now))  # noqa: S311
    writer.close()
    for statement in restore:
        cursor.execute(statement)
    cursor.close()
    return time.perf_counter() - started


def _search_once(view: Any, factory: Any, text: str) -> tuple[float, float, int]:
    request = factory.get("/api/v1/course/search/", {"search": text})
    wall, cpu = time.perf_counter(), time.process_time()
    response = view(request)
    if hasattr(response, "render"):  # DRF's; a page served from cards is already bytes
        response.render()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if response.status_code != 200:
        raise RuntimeError(f"search {text!r} answered {response.status_code}: {response.content}")
    return wall * 1000, cpu * 1000, int(json.loads(response.content)["count"])


def _timed(
    view: Any,
    factory: Any,
    order: list[str],
    errors: list[str],
    before_each: Any = None,
) -> dict[str, list[tuple[float, float, int]]]:
    timings: dict[str, list[tuple[float, float, int]]] = {text: [] for text in order}
    for text in order:
        if before_each is not None:
            before_each()  # not timed
        try:
            timings[text].append(_search_once(view, factory, text))
        except RuntimeError as exc:  # reported, not fatal: the other figures still count
            errors.append(str(exc))
    return timings


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _seeded(total: int) -> bool:
    """Whether this database already holds the `total` courses (run() empties it otherwise)."""
    from apps.course.models import Course

    return Course.objects.count() == total


def child(total: int, *, reuse: bool = False) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings
    from rest_framework.test import APIRequestFactory

    from apps.course.search import counts, search_backend
    from apps.course.search.accelerators import groonga
    from apps.course.views import CourseSearchView

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    if settings.SEARCH_BACKEND == "mroonga":
        # Groonga's select for counts: the admin step of docs/deploying.md section 6. Made here,
        # where Django is set up: importing the search package needs the settings.
        with connection.cursor() as cursor:
            groonga.create_udf(cursor)
    words = vocabulary(random.Random("search-vocabulary"))  # noqa: S311 - test data
    backend = search_backend()
    seed_s = index_s = 0.0  # reused: not timed in this run
    reused = reuse and _seeded(total)
    if not reused:
        seed_s = seed(total, words)
    if not reused or backend.problem():  # a reused catalog whose index is missing: build it
        started = time.perf_counter()
        backend.rebuild()
        index_s = time.perf_counter() - started

    view, factory = CourseSearchView.as_view(), APIRequestFactory()
    mix = query_mix(words)
    counts.bump()  # a catalog change: nothing is cached from an earlier run
    first: dict[str, float] = {}  # the first search ever: count and cards built on the way
    for text in mix:  # also the warm-up round (buffer pool, index pages)
        first[text] = _search_once(view, factory, text)[0]
    order = [mix[i % len(mix)] for i in range(QUERIES)]
    random.Random("search-order").shuffle(order)  # noqa: S311 - test data
    errors: list[str] = []
    # Cold: the first search of its words since the catalog last changed (the generation is
    # bumped before each, as any course write does); the cards are ready, as a shop's are once
    # `build_course_documents` ran or a visitor read them. The target is judged on it.
    cold = _timed(view, factory, order, errors, before_each=counts.bump)
    # Warm: the same searches repeated (the count cached after the first; page cache still off).
    for text in mix:
        _search_once(view, factory, text)
    warm = _timed(view, factory, order, errors)
    like: dict[str, float] = {}
    with override_settings(SEARCH_BACKEND="like"):
        for text in mix[: LIKE_SAMPLE // 2] + mix[8 : 8 + LIKE_SAMPLE // 2]:
            wall, _cpu, count = _search_once(view, factory, text)
            if cold[text] and count != cold[text][0][2]:
                found = cold[text][0][2]
                raise RuntimeError(f"{text!r}: LIKE found {count}, {backend.name} {found}")
            like[text] = wall
    walls = [t[0] for runs in cold.values() for t in runs]
    warm_walls = [t[0] for runs in warm.values() for t in runs]
    per_query = []
    for text, runs in cold.items():
        if not runs:
            continue
        entry = {
            "query": text,
            "matches": runs[0][2],
            "p50_ms": round(statistics.median(t[0] for t in runs), 2),
            "cpu_ms": round(statistics.median(t[1] for t in runs), 2),
            "first_ms": round(first[text], 2),
        }
        if warm[text]:
            entry["warm_p50_ms"] = round(statistics.median(t[0] for t in warm[text]), 2)
            entry["warm_cpu_ms"] = round(statistics.median(t[1] for t in warm[text]), 2)
        if text in like:
            entry["like_ms"] = round(like[text], 1)
        per_query.append(entry)
    return {
        "courses": total,
        "seed_s": round(seed_s, 1),
        "index_s": round(index_s, 1),
        "queries": len(walls),
        "p50_ms": round(_percentile(walls, 0.5), 2),
        "p99_ms": round(_percentile(walls, 0.99), 2),
        "warm_p50_ms": round(_percentile(warm_walls, 0.5), 2),
        "warm_p99_ms": round(_percentile(warm_walls, 0.99), 2),
        "first_p50_ms": round(_percentile(list(first.values()), 0.5), 2),
        "like_p50_ms": round(statistics.median(like.values()), 1),
        "backend": backend.name,
        "groonga_select": backend.name == "mroonga" and groonga.available(),
        "errors": errors,
        "per_query": per_query,
    }


# --- The caller (no Django) -----------------------------------------------------------------------


def _create_database(server_url: str, *, courses: int, reuse: bool = False) -> bool:
    """(Re)create the bench's database, kept when `reuse` and it holds `courses` courses;
    whether the server has the Mroonga engine."""
    import MySQLdb

    parts = urlsplit(server_url)
    conn = MySQLdb.connect(
        host=parts.hostname, port=parts.port, user=parts.username, password=parts.password or ""
    )
    try:
        cursor = conn.cursor()
        if not (reuse and _holds(cursor, courses)):
            cursor.execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{DATABASE}` CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_unicode_ci"
        )
        cursor.execute("SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'Mroonga'")
        row = cursor.fetchone()
        return bool(row) and row[0] in ("YES", "DEFAULT")
    finally:
        conn.close()


def _holds(cursor: Any, courses: int) -> bool:
    """Whether the bench's database holds exactly `courses` courses (a finished seed)."""
    import MySQLdb

    try:
        cursor.execute(f"SELECT COUNT(*) FROM `{DATABASE}`.luffy_course")  # noqa: S608
    except MySQLdb.Error:  # no such database or table
        return False
    return cursor.fetchone()[0] == courses


def run(server_url: str, *, courses: int = 1_000_000, reuse: bool = False) -> dict:
    """Seed, index and time search on the MariaDB server at `server_url` (any database in the
    URL is ignored: the bench makes its own; reuse: keeps it when already seeded)."""
    backend = "mroonga" if _create_database(server_url, courses=courses, reuse=reuse) else "like"
    parts = urlsplit(server_url)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ", "TMPDIR")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
            "LUFFY_IGNORE_DOTENV": "1",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": urlunsplit((parts.scheme, parts.netloc, f"/{DATABASE}", "", "")),
            "CACHE_URL": "locmem://",
            "CATALOG_CACHE_SECONDS": "0",  # every search misses the page cache
            "SEARCH_BACKEND": backend,
            "LOG_LEVEL": "WARNING",
        }
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            str(config.VENV_BIN / "python"),
            *("-m", "bench.search_scale", "--child", str(courses)),
            *(["--reuse"] if reuse else []),
        ],
        cwd=config.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.search_scale failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _mariadb(command: str) -> str:
    env = {**os.environ, "MARIADB_PORT": str(MARIADB_PORT), "MARIADB_BUFFER_POOL": "1G"}
    script = str(config.ROOT / "scripts" / "mariadb.sh")
    done = subprocess.run(  # noqa: S603 - our own script
        [script, command], cwd=config.ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/mariadb.sh {command} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _listening() -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", MARIADB_PORT)) == 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_scale")
    parser.add_argument("--courses", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the running server and its seeded database; leave the server running",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, reuse=args.reuse)))
        return 0
    if not (args.reuse and _listening()):
        _mariadb("start")  # a fresh server: any data of an earlier one is removed
    try:
        result = run(_mariadb("url"), courses=args.courses, reuse=args.reuse)
    finally:
        if not args.reuse:
            _mariadb("stop")
    if args.reuse:
        print(f"  (server left running on 127.0.0.1:{MARIADB_PORT}: --reuse)")
    print(f"  {'query':<22} {'found':>8}  {'cold p50':>9} {'cpu':>6}  {'warm p50':>9} {'cpu':>6}")
    for entry in result["per_query"]:
        like = f"  LIKE {entry['like_ms']:>8.1f} ms" if "like_ms" in entry else ""
        print(
            f"  {entry['query']:<22} {entry['matches']:>8,}  {entry['p50_ms']:>9.2f} "
            f"{entry['cpu_ms']:>6.2f}  {entry.get('warm_p50_ms', 0):>9.2f} "
            f"{entry.get('warm_cpu_ms', 0):>6.2f}{like}"
        )
    print(
        f"search, {result['courses']:,} courses, {result['backend']}"
        f"{' (counts by Groonga select)' if result.get('groonga_select') else ''}: seeded in "
        f"{result['seed_s']} s, indexed in {result['index_s']} s; {result['queries']} searches, "
        f"the first since the catalog changed (count cache cold): p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms (target p50 <= 20 ms); repeated (count cached, page cache "
        f"off): p50 {result['warm_p50_ms']} ms, p99 {result['warm_p99_ms']} ms; first ever "
        f"(cards built too) p50 {result['first_p50_ms']} ms; LIKE scan p50 "
        f"{result['like_p50_ms']} ms"
    )
    for error in result["errors"]:
        print(f"  ERROR {error}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
