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
# The mixed scenario (bench/mix.py): longer, so the rarer requests (3% logins) get a p99.
MIX_DURATION_S = _env_int("BENCH_MIX_DURATION", 2 * WRK_DURATION_S)
# Generous on purpose: a queued request must not count as an error when the machine is slow
# (logins hash with Argon2id, ~25 ms of CPU each; the old PBKDF2 took ~0.3 s).
WRK_TIMEOUT_S = 30


# --- Data -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Size:
    name: str
    courses: int
    orders: int
    users: int  # shoppers with an order history (orders are spread over them)
    progress: int = 0  # learning-progress rows (lessons of courses the history users own)

    @property
    def database(self) -> str:
        return f"luffy_bench_{self.name}"

    @property
    def label(self) -> str:
        return f"{self.name}: {self.courses:,} courses / {self.orders:,} orders"


ALL_SIZES = (
    Size("small", courses=1_000, orders=10_000, users=1_000, progress=10_000),
    Size("large", courses=20_000, orders=1_000_000, users=50_000, progress=200_000),
)
# The third size: search over 1,000,000 courses, seeded and loaded by bench/search_scale.py
# (`run(server_url) -> dict`) when that module exists; "not run" in the report otherwise.
SEARCH_1M = "search1m"
# The flash-sale burst (bench/flash.py): its own small database, one node.
FLASH = "flash"
SIZE_NAMES = (*(s.name for s in ALL_SIZES), SEARCH_1M, FLASH)


def selected_names() -> tuple[str, ...]:
    """BENCH_SIZES=small,flash (comma-separated names) runs a subset; default: all of them."""
    wanted = [s.strip() for s in os.environ.get("BENCH_SIZES", "").split(",") if s.strip()]
    if not wanted:
        return SIZE_NAMES
    unknown = set(wanted) - set(SIZE_NAMES)
    if unknown:
        raise SystemExit(f"BENCH_SIZES: unknown size(s) {', '.join(sorted(unknown))}")
    return tuple(name for name in SIZE_NAMES if name in wanted)


def selected_sizes() -> tuple[Size, ...]:
    """The seeded sizes among BENCH_SIZES (search1m and flash are not: they seed their own)."""
    names = selected_names()
    return tuple(s for s in ALL_SIZES if s.name in names)


# Rows the benchmark adds to every size on top of the history.
# Buyers whose JWTs place orders: one per line of pay.txt (bench/fixtures.py PAY_LINES). A buyer
# who places a second, overlapping basket makes the shop cancel the first order and close its
# Alipay trade, a call to a gateway the bench does not run (a 503); resending the same line
# hands the open order back instead.
PLACEMENT_USERS = 2_000
NOTIFY_USERS = 500  # buyers of the unpaid orders that notifies settle
NOTIFY_ORDERS = 3_000  # unpaid orders waiting for their notify (each is sent twice)
LOGIN_USERS = 64  # history users the login endpoint cycles through
# Progress reports (PUT course/progress/<lesson>/): one line per owned lesson of this many
# history entitlements, about half of them lessons that already have a row (an UPDATE), the
# others a lesson's first report (an INSERT).
PROGRESS_LINES = 4_000
PASSWORD = "luffy-bench-2026"  # noqa: S105 - every seeded user (Argon2id, as production)
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
    probe: str = ""  # the probe's request that stands for it (default: the same name)

    @property
    def probed_as(self) -> str:
        return self.probe or self.name


CEILING = Endpoint("ceiling", "ceiling (bare Django view)", "/bench/ceiling/", "get.lua")
ENDPOINTS = (
    CEILING,
    Endpoint("list", "course list (page of 10)", "/api/v1/course/list/", "get.lua", True),
    Endpoint("detail", "course detail (random id)", "/api/v1/course/list/", "random_id.lua", True),
    Endpoint(
        "chapters", "chapters (random course)", "/api/v1/course/chapter/", "random_id.lua", True
    ),
    # Popularity-skewed ids (bench/zipf.py, s = 1.1 over the shuffled visible ids).
    Endpoint(
        "detail_zipf",
        "course detail (Zipf id)",
        "/api/v1/course/list/",
        "zipf_id.lua",
        True,
        probe="detail",
    ),
    Endpoint(
        "chapters_zipf",
        "chapters (Zipf course)",
        "/api/v1/course/chapter/",
        "zipf_id.lua",
        True,
        probe="chapters",
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
    # The shop's most frequent write (issue 26): a player's report, an owner's lesson each time.
    Endpoint(
        "progress",
        "progress report (PUT course/progress/<lesson>)",
        "/api/v1/course/progress/",
        "put.lua",
    ),
    # Last: a password hash keeps workers busy after wrk stops, which must not spill into
    # another run.
    Endpoint("login", "login (POST mul_login)", "/api/v1/user/user/mul_login/", "post.lua"),
)


def selected_endpoints() -> tuple[Endpoint, ...]:
    """BENCH_ENDPOINTS=progress (comma-separated names) loads only those with wrk, after the
    ceiling (every ratio needs it); default: all. The mixed scenario runs whole either way."""
    wanted = {s.strip() for s in os.environ.get("BENCH_ENDPOINTS", "").split(",") if s.strip()}
    if not wanted:
        return ENDPOINTS
    unknown = wanted - {ep.name for ep in ENDPOINTS}
    if unknown:
        raise SystemExit(f"BENCH_ENDPOINTS: unknown endpoint(s) {', '.join(sorted(unknown))}")
    return tuple(ep for ep in ENDPOINTS if ep is CEILING or ep.name in wanted)


# --- The tutorial's throughput, as a share of the ceiling (issue 12) ------------------------------
# Issue 12 measured the tutorial's backend side by side with ours (same machine, same MariaDB,
# same catalog, gunicorn 3 sync workers, wrk -t2 -c8 -d10s) and gave ours in req/s and ours /
# tutorial; its bare-Django ceiling was about 4,200 req/s. The tutorial's req/s is therefore
# ours / ratio, and its share of the ceiling (ours / ratio) / 4,200. The targets compare our
# req/s / our ceiling req/s, measured in the same run, with these shares (times a factor).
ISSUE_12_CEILING_RPS = 4_200.0
# (our req/s, ours / tutorial) per endpoint and size, from the issue's table.
ISSUE_12_OURS = {
    "notify": {"small": (371.0, 0.6), "large": (421.0, 0.7)},
    "pay": {"small": (295.0, 1.1), "large": (318.0, 1.1)},
    "login": {"small": (8.5, 0.29), "large": (8.4, 0.28)},
}
# How many times the tutorial's share our endpoint must reach (issue 12, targets 2-4).
TUTORIAL_FACTOR = {"notify": 1.0, "pay": 1.5, "login": 1.0}


def tutorial_ceiling_ratio(endpoint: str, size: str) -> float:
    """The tutorial's req/s over the ceiling, e.g. notify at 1k: 371 / 0.6 / 4,200 = 0.147."""
    ours, ratio = ISSUE_12_OURS[endpoint][size]
    return ours / ratio / ISSUE_12_CEILING_RPS


def tutorial_target(endpoint: str, size: str) -> float:
    """Our req/s / ceiling must reach this: the tutorial's share times TUTORIAL_FACTOR."""
    return TUTORIAL_FACTOR[endpoint] * tutorial_ceiling_ratio(endpoint, size)
