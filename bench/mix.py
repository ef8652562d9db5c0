"""The mixed scenario: a shop's traffic, every kind of request at once, p50/p99 per endpoint.

wrk reports one latency histogram per run, and its Lua `response()` is not told which request it
answers nor how long it took, so a mix run through wrk cannot be split per request type. This
small load generator can: MIX_PROCESSES forked processes of MIX_THREADS threads each (8
connections, as wrk -c8), each thread a closed loop that picks the next request by MIX_WEIGHTS,
sends it with http.client on its own connection (re-opened when gunicorn's sync workers close
it, as wrk does) and records (endpoint, seconds, ok). It runs on the same 2 cores as gunicorn
and MariaDB, like wrk; it costs more CPU per request than wrk (Python), which lowers the total
throughput a little, so read the mix for its proportions and per-endpoint latencies, and the
single-endpoint wrk runs for the throughput ratios.

The requests (bench/fixtures.py's files, written by the seed):
  list      /api/v1/course/list/?page=N, N uniform over the first LIST_PAGES pages
  search    a term drawn from SEARCH_TERMS (topics, topic + level, prices): varied, so the page
            cache answers the repeated ones only
  detail    /api/v1/course/list/<id>/, id drawn from the Zipf table (bench/zipf.py)
  chapters  /api/v1/course/chapter/?course=<id>, same Zipf table
  login     login.txt bodies, in turn
  pay       pay.txt lines (JWT + body), from the end of the file backwards (the wrk placement
            run starts at the front; one buyer per line, see config.PLACEMENT_USERS)
  notify    notify.txt bodies from the end of the file backwards (the wrk notify run starts at
            the front): first deliveries and redeliveries, the answer must be `success`
  progress  progress.txt lines (JWT, a learner's own lesson, {position, watched}) as PUTs
Each thread takes its own share of the login, pay, notify and progress lines (line g, g + N, ...).
"""

from __future__ import annotations

import http.client
import math
import random
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from itertools import cycle
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from . import config, zipf

# Shop-like proportions of requests, in percent: people browse and search far more than they
# buy; logins come once per visit; an Alipay notify follows most placements (some are paid
# twice: a redelivery); a learner's player reports every ~15 s while a lesson plays, the most
# frequent write (issue 26). Written down in docs/benchmark.md.
MIX_WEIGHTS = {
    "list": 35,
    "search": 13,
    "detail": 22,
    "chapters": 8,
    "progress": 12,
    "login": 3,
    "pay": 4,
    "notify": 3,
}
MIX_PROCESSES = 2
MIX_THREADS = 4  # per process: 8 connections in all
LIST_PAGES = 20
PROBED_PAY_LINES = 20  # bench/probe.py SERVICE_RUNS: it places the last lines of pay.txt
TOPICS = (
    "Python", "Django", "Go", "Linux", "Vue", "MySQL", "Redis", "Docker", "Kubernetes", "Java",
    "Rust", "爬虫", "数据分析", "机器学习", "算法", "前端", "运维", "测试", "网络编程", "设计模式",
)  # fmt: skip
LEVELS = ("入门", "进阶", "实战")
SEARCH_TERMS = (
    *TOPICS,
    *(f"{topic} {level}" for topic in TOPICS for level in LEVELS),
    "299",
    "99.00",
)


@dataclass(frozen=True)
class Sample:
    endpoint: str
    seconds: float
    ok: bool
    note: str = ""  # status and start of the body of a bad answer


@dataclass(frozen=True)
class EndpointStats:
    count: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    share_pct: float  # of all requests sent in the mix
    bad_sample: str


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (the smallest value with at least q% of the values at or below)."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(samples: Iterable[Sample], duration_s: float) -> dict[str, EndpointStats]:
    """Per endpoint: requests, errors, req/s over the run, p50/p99/max latency (ms)."""
    by_endpoint: dict[str, list[Sample]] = {}
    for sample in samples:
        by_endpoint.setdefault(sample.endpoint, []).append(sample)
    total = sum(len(v) for v in by_endpoint.values())
    stats = {}
    for name in sorted(by_endpoint, key=lambda n: (-len(by_endpoint[n]), n)):
        rows = by_endpoint[name]
        latencies = sorted(s.seconds * 1000 for s in rows)
        bad = [s for s in rows if not s.ok]
        stats[name] = EndpointStats(
            count=len(rows),
            errors=len(bad),
            rps=round(len(rows) / duration_s, 1) if duration_s > 0 else 0.0,
            p50_ms=round(percentile(latencies, 50), 2),
            p99_ms=round(percentile(latencies, 99), 2),
            max_ms=round(latencies[-1], 2),
            share_pct=round(100 * len(rows) / total, 1),
            bad_sample=bad[0].note if bad else "",
        )
    return stats


# --- Requests -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    endpoint: str
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    expect_body: bytes | None = None


class Workload:
    """Builds the next request of one thread from the seed's files."""

    def __init__(self, workdir: Path, visible_courses: int, share: int, shares: int, seed: int):
        self.rng = random.Random(seed)  # noqa: S311 - a benchmark's workload
        self.names = list(MIX_WEIGHTS)
        self.weights = [MIX_WEIGHTS[n] for n in self.names]
        self.pages = max(1, min(LIST_PAGES, visible_courses // 10))
        self.zipf = zipf.Sampler(zipf.read_table(workdir / "course_zipf.txt"))
        self.logins = self._share(_lines(workdir / "login.txt"), share, shares)
        # Placements and notifies from the end of their files backwards: the wrk runs start at
        # the front, so the mix places new orders and settles unpaid ones while lines last.
        pays = _lines(workdir / "pay.txt")
        pays = pays[: len(pays) - PROBED_PAY_LINES] or pays  # the probe placed the last ones
        self.pays = self._share(pays[::-1], share, shares)
        self.notifies = self._share(_lines(workdir / "notify.txt")[::-1], share, shares)
        self.reports = self._share(_lines(workdir / "progress.txt"), share, shares)

    @staticmethod
    def _share(lines: list[str], share: int, shares: int) -> Iterator[str]:
        mine = lines[share::shares] or lines  # fewer lines than threads: everybody uses all
        return cycle(mine)

    def next(self) -> Request:
        name = self.rng.choices(self.names, self.weights)[0]
        return getattr(self, f"_{name}")()

    def _list(self) -> Request:
        return Request(
            "list", "GET", f"/api/v1/course/list/?page={self.rng.randint(1, self.pages)}"
        )

    def _search(self) -> Request:
        term = quote(self.rng.choice(SEARCH_TERMS))
        return Request("search", "GET", f"/api/v1/course/search/?search={term}")

    def _detail(self) -> Request:
        return Request("detail", "GET", f"/api/v1/course/list/{self.zipf.draw(self.rng)}/")

    def _chapters(self) -> Request:
        course = self.zipf.draw(self.rng)
        return Request("chapters", "GET", f"/api/v1/course/chapter/?course={course}")

    def _login(self) -> Request:
        return Request(
            "login",
            "POST",
            "/api/v1/user/user/mul_login/",
            next(self.logins).encode(),
            (("Content-Type", "application/json"),),
        )

    def _pay(self) -> Request:
        authorization, body = next(self.pays).split("\t", 1)
        headers = (("Content-Type", "application/json"), ("Authorization", authorization))
        return Request("pay", "POST", "/api/v1/order/pay/", body.encode(), headers)

    def _notify(self) -> Request:
        return Request(
            "notify",
            "POST",
            "/api/v1/order/success/",
            next(self.notifies).encode(),
            (("Content-Type", "application/x-www-form-urlencoded"),),
            expect_body=b"success",
        )

    def _progress(self) -> Request:
        authorization, path, body = next(self.reports).split("\t", 2)
        headers = (("Content-Type", "application/json"), ("Authorization", authorization))
        return Request("progress", "PUT", path, body.encode(), headers)


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]


# --- Running --------------------------------------------------------------------------------------


def _thread_loop(base_url: str, workload: Workload, deadline: float, out: list[Sample]) -> None:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=config.WRK_TIMEOUT_S
    )
    try:
        while time.monotonic() < deadline:
            req = workload.next()
            started = time.perf_counter()
            try:
                connection.request(req.method, req.path, req.body or None, dict(req.headers))
                response = connection.getresponse()
                body = response.read()
                ok = 200 <= response.status < 300 and (
                    req.expect_body is None or body == req.expect_body
                )
                note = "" if ok else f"{response.status} {body[:160].decode('utf-8', 'replace')}"
                if response.will_close:
                    connection.close()  # http.client re-opens it for the next request
            except (OSError, http.client.HTTPException) as exc:
                ok, note = False, f"{type(exc).__name__}: {exc}"[:200]
                connection.close()
            out.append(Sample(req.endpoint, time.perf_counter() - started, ok, note))
    finally:
        connection.close()


def _process(base_url: str, workdir: str, visible: int, index: int, deadline: float) -> list:
    import threading

    samples: list[Sample] = []  # list.append is atomic under the GIL
    shares = MIX_PROCESSES * MIX_THREADS
    threads = []
    for t in range(MIX_THREADS):
        share = index * MIX_THREADS + t
        workload = Workload(Path(workdir), visible, share, shares, seed=1_000 + share)
        threads.append(
            threading.Thread(target=_thread_loop, args=(base_url, workload, deadline, samples))
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [tuple(asdict(s).values()) for s in samples]


def run_mix(
    base_url: str, workdir: Path, visible_courses: int, duration_s: int = config.MIX_DURATION_S
) -> dict[str, Any]:
    """Run the mix for `duration_s` seconds; per-endpoint stats plus the run's totals."""
    started = time.monotonic()
    deadline = started + duration_s
    with ProcessPoolExecutor(MIX_PROCESSES, mp_context=get_context("fork")) as pool:
        futures = [
            pool.submit(_process, base_url, str(workdir), visible_courses, i, deadline)
            for i in range(MIX_PROCESSES)
        ]
        samples = [Sample(*row) for future in futures for row in future.result()]
    elapsed = time.monotonic() - started
    stats = summarize(samples, elapsed)
    return {
        "duration_s": round(elapsed, 2),
        "connections": MIX_PROCESSES * MIX_THREADS,
        "weights": MIX_WEIGHTS,
        "requests": len(samples),
        "rps": round(len(samples) / elapsed, 1),
        "errors": sum(s.errors for s in stats.values()),
        "endpoints": {name: asdict(s) for name, s in stats.items()},
    }
