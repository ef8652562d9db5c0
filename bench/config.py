"""What the benchmark runs: data sizes, endpoints, load shape, ports and paths.

Plain constants and small dataclasses, importable without Django (the orchestrator never sets
Django up; the seed and probe subprocesses do).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
WRK_DIR = BENCH_DIR / "wrk"
RESULTS_DIR = BENCH_DIR / "results"
# Scratch space (keys, request bodies, logs); .tmp/ is git-ignored and removed at the end.
WORK_DIR = ROOT / ".tmp" / "bench"
VENV_BIN = ROOT / ".venv" / "bin"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# --- Servers --------------------------------------------------------------------------------------
MARIADB_PORT = _env_int("BENCH_MARIADB_PORT", 3309)  # `make test` uses 3307
MARIADB_BUFFER_POOL = "1G"  # the 1M-order tables and their indexes fit in memory
HTTP_PORT = _env_int("BENCH_HTTP_PORT", 18089)
GUNICORN_WORKERS = 3  # sync workers on 2 cores (wrk and MariaDB share the same cores)

# --- Load shape -----------------------------------------------------------------------------------
WRK_THREADS = 2
WRK_CONNECTIONS = 8
WRK_DURATION_S = _env_int("BENCH_DURATION", 10)
# Login hashes with PBKDF2 (about 1 s of CPU here): 8 queued logins take several seconds each.
WRK_TIMEOUT_S = 30


# --- Data -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Size:
    name: str
    courses: int
    orders: int
    users: int  # shoppers with an order history (orders are spread over them)

    @property
    def database(self) -> str:
        return f"luffy_bench_{self.name}"

    @property
    def label(self) -> str:
        return f"{self.name}: {self.courses:,} courses / {self.orders:,} orders"


ALL_SIZES = (
    Size("small", courses=1_000, orders=10_000, users=1_000),
    Size("large", courses=20_000, orders=1_000_000, users=50_000),
)


def selected_sizes() -> tuple[Size, ...]:
    """BENCH_SIZES=small (comma-separated names) runs a subset, for quick iterations."""
    wanted = [s.strip() for s in os.environ.get("BENCH_SIZES", "").split(",") if s.strip()]
    if not wanted:
        return ALL_SIZES
    unknown = set(wanted) - {s.name for s in ALL_SIZES}
    if unknown:
        raise SystemExit(f"BENCH_SIZES: unknown size(s) {', '.join(sorted(unknown))}")
    return tuple(s for s in ALL_SIZES if s.name in wanted)


# Rows the benchmark adds to every size on top of the history.
PLACEMENT_USERS = 100  # buyers whose JWTs place orders
NOTIFY_USERS = 500  # buyers of the unpaid orders that notifies settle
NOTIFY_ORDERS = 3_000  # unpaid orders waiting for their notify (each is sent twice)
LOGIN_USERS = 64  # history users the login endpoint cycles through
PASSWORD = "luffy-bench-2026"  # noqa: S105 - every seeded user (PBKDF2, as production)
SEARCH_WORD = "Django"  # one of the course topics: matches about 1 course in 20

ALIPAY_APP_ID = "2021000000000000"
ALIPAY_SELLER_ID = "2088000000000001"
# Placement makes no network call; nothing listens here (port 9 is "discard").
ALIPAY_GATEWAY = "http://127.0.0.1:9/gateway.do"


# --- Endpoints ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    path: str  # the URL wrk is given (scripts may send other paths)
    script: str  # bench/wrk/<script>
    catalog: bool = False  # a catalog read (the >= 0.5x ceiling target)


CEILING = Endpoint("ceiling", "ceiling (bare Django view)", "/bench/ceiling/", "get.lua")
ENDPOINTS = (
    CEILING,
    Endpoint("list", "course list (page of 10)", "/api/v1/course/list/", "get.lua", True),
    Endpoint("detail", "course detail (random id)", "/api/v1/course/list/", "random_id.lua", True),
    Endpoint(
        "chapters", "chapters (random course)", "/api/v1/course/chapter/", "random_id.lua", True
    ),
    Endpoint(
        "search",
        f"search ({SEARCH_WORD!r})",
        f"/api/v1/course/search/?search={SEARCH_WORD}",
        "get.lua",
        True,
    ),
    Endpoint("pay", "order placement (POST order/pay)", "/api/v1/order/pay/", "post.lua"),
    Endpoint("notify", "Alipay notify (50% duplicates)", "/api/v1/order/success/", "post.lua"),
    # Last: PBKDF2 keeps workers busy after wrk stops, which must not spill into another run.
    Endpoint("login", "login (POST mul_login, PBKDF2)", "/api/v1/user/user/mul_login/", "post.lua"),
)
