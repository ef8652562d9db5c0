"""The flash-sale burst (issue 27): BUYERS shoppers × ATTEMPTS tries each at one sale of SEATS
seats, all sent within BURST_LIMIT_S against one node → exactly SEATS orders, no 5xx, p50/p99.

`BENCH_SIZES=flash make bench` runs it alone (a minute); the two-node drill
(tests/deploy/test_two_nodes.py) sends the same burst through nginx with `burst()`.

Two halves: `python -m bench.flash WORKDIR` runs with Django set up (migrate, then BUYERS users,
one course, a sale running now, and the buyers' JWTs in WORKDIR/flash.json); `burst()` is the
client, plain http.client on CONNECTIONS threads, one keep-alive connection each, taking the
tries in rounds (every buyer's first try, then every buyer's second, ...), so the sale sells out
in the first round and the rest meet "sold out" or "you hold a seat" (both 409).
"""

from __future__ import annotations

import http.client
import json
import math
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django

BUYERS = 1_000
ATTEMPTS = 5
SEATS = 100
BURST_LIMIT_S = 10.0  # all BUYERS × ATTEMPTS tries sent and answered within this
CONNECTIONS = 32
SALE_PRICE = "9.90"


@dataclass
class BurstResult:
    statuses: Counter = field(default_factory=Counter)  # HTTP status (0: no answer) -> count
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0  # CPU this client used (it shares the machine with the server)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return 0.0
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_errors": self.server_errors,
            "wall_s": round(self.wall_s, 2),
            "client_cpu_s": round(self.client_cpu_s, 2),
            "p50_ms": self.percentile(0.50),
            "p99_ms": self.percentile(0.99),
        }


def burst(
    base_url: str,
    tokens: list[str],
    sale_id: int,
    *,
    attempts: int = ATTEMPTS,
    connections: int = CONNECTIONS,
) -> BurstResult:
    """Every token tries `attempts` times to buy the sale; all tries are sent, none retried."""
    parts = urlsplit(base_url)
    path = f"{parts.path.rstrip('/')}/api/v1/promotion/flash/{sale_id}/buy/"
    tries = [token for _round in range(attempts) for token in tokens]
    result = BurstResult()
    lock = threading.Lock()
    cursor = iter(range(len(tries)))
    start = threading.Barrier(connections)

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        start.wait(timeout=60)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            headers = {"Authorization": f"jwt {tries[index]}", "Content-Length": "0"}
            began = time.perf_counter()
            try:
                conn.request("POST", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
            took = (time.perf_counter() - began) * 1000
            with lock:
                result.statuses[status] += 1
                result.latencies_ms.append(took)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    began, cpu_began = time.monotonic(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.monotonic() - began
    result.client_cpu_s = time.process_time() - cpu_began
    return result


# --- Seeding (python -m bench.flash WORKDIR, Django set up) ---------------------------------------


def seed(workdir: Path) -> dict[str, Any]:
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.course.models import Course, CourseCategory, Teacher
    from apps.promotion.models import FlashSale
    from apps.user.models import User

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    unusable = make_password(None)
    User.objects.bulk_create(
        User(username=f"flash{n:04d}", mobile=f"177{n:08d}", password=unusable)
        for n in range(BUYERS)
    )
    buyers = list(User.objects.filter(username__startswith="flash").order_by("pk"))
    course = Course.objects.create(
        name="Flash sale course",
        course_type=Course.CourseType.ACTUAL,
        course_category=CourseCategory.objects.create(name="Flash"),
        teacher=Teacher.objects.create(name="Flash"),
        price=Decimal("199.00"),
    )
    now = timezone.now()
    sale = FlashSale.objects.create(
        course=course,
        sale_price=Decimal(SALE_PRICE),
        seats=SEATS,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
    )
    manifest = {
        "sale_id": sale.pk,
        "course_id": course.pk,
        "tokens": [str(AccessToken.for_user(user)) for user in buyers],
    }
    (workdir / "flash.json").write_text(json.dumps(manifest))
    return manifest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.flash WORKDIR", file=sys.stderr)
        return 2
    django.setup()
    manifest = seed(Path(argv[0]))
    print(f"  flash: {len(manifest['tokens'])} buyers, sale {manifest['sale_id']} of {SEATS} seats")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
