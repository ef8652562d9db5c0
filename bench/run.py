"""`make bench`: seed, serve and load the API for each data size, then write the report.

For each size (bench/config.py): a fresh database on the bench's own MariaDB is migrated and
seeded (bench/seed.py), the in-process probe counts SQL per request and times RSA2
(bench/probe.py), gunicorn serves the app with production settings and wrk drives every endpoint
in turn (bench/load.py, bench/wrk/*.lua; detail and chapters also with Zipf ids, bench/zipf.py),
then the mixed scenario sends every kind of request at once (bench/mix.py). The size search1m
runs bench/search_scale.py when it exists. The report goes to bench/results/ (bench/report.py),
with every target of issue 12 as a ratio, its limit and PASS/FAIL (n/a when a figure is missing).

Everything started here is stopped in `finally` (and on SIGTERM/SIGINT): gunicorn by its pid
and process group, MariaDB through scripts/mariadb.sh stop, which also deletes its data. Exit
status 1 when anything fails to start or run; targets that fail are reported, not fatal.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from utils.gunicorn_process import GunicornFailed, GunicornProcess

from . import config, flash, load, mix, report, zipf
from .alipay import KeyFiles, generate_keys

MARIADB_SH = config.ROOT / "scripts" / "mariadb.sh"
LOG_DIR = config.ROOT / ".tmp" / "bench-logs"  # kept after the run (small), replaced by the next
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Variables passed from the caller to the app; everything else is set here.
PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
PASS_PREFIXES = ("CACHE_", "CATALOG_")  # lets a developer compare cache settings


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(message, flush=True)


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`: everything gets cleaned up


# --- MariaDB --------------------------------------------------------------------------------------


def _mariadb_env() -> dict[str, str]:
    return {
        **os.environ,
        "MARIADB_PORT": str(config.MARIADB_PORT),
        "MARIADB_BUFFER_POOL": config.MARIADB_BUFFER_POOL,
    }


def start_mariadb(stack: ExitStack) -> str:
    """Start the bench's MariaDB; returns its server URL (no database)."""
    stack.callback(stop_mariadb)
    with open(LOG_DIR / "mariadb.log", "w") as out:
        completed = subprocess.run(  # noqa: S603 - our own script
            [str(MARIADB_SH), "start"],
            env=_mariadb_env(),
            stdout=out,  # not a pipe: the server it starts keeps its stdout open
            stderr=subprocess.STDOUT,
            timeout=300,
            check=False,
        )
    if completed.returncode != 0:
        raise BenchError(f"MariaDB did not start; see {LOG_DIR / 'mariadb.log'}")
    url = subprocess.run(  # noqa: S603
        [str(MARIADB_SH), "url"], env=_mariadb_env(), capture_output=True, text=True, check=True
    ).stdout.strip()
    return url


def stop_mariadb() -> None:
    log("==> stopping the bench MariaDB and removing its data")
    subprocess.run(  # noqa: S603
        [str(MARIADB_SH), "stop"], env=_mariadb_env(), timeout=120, check=False
    )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _connect(url: str, database: str | None = None) -> Any:
    import MySQLdb

    parts = urlsplit(url)
    kwargs: dict[str, Any] = {
        "host": parts.hostname,
        "port": parts.port,
        "user": parts.username,
        "password": parts.password,
        "charset": "utf8mb4",
    }
    if database:
        kwargs["database"] = database
    return MySQLdb.connect(**kwargs)


def create_database(server_url: str, name: str) -> None:
    conn = _connect(server_url)
    try:
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()


def db_facts(server_url: str, name: str, first_new_order: int) -> dict[str, Any]:
    conn = _connect(server_url, name)
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT outcome, COUNT(*) FROM luffy_payment_notification GROUP BY outcome ORDER BY 1"
        )
        outcomes = {outcome: int(n) for outcome, n in cursor.fetchall()}
        cursor.execute("SELECT COUNT(*) FROM luffy_order WHERE id >= %s", [first_new_order])
        placed = int(cursor.fetchone()[0])
        cursor.execute("SELECT VERSION()")
        version = str(cursor.fetchone()[0])
    finally:
        conn.close()
    return {"notify_outcomes": outcomes, "orders_placed": placed, "version": version}


# --- The app --------------------------------------------------------------------------------------


def django_env(database_url: str, keys: KeyFiles, secret_key: str) -> dict[str, str]:
    """Production settings against the bench database; nothing read from .env."""
    env = {k: v for k, v in os.environ.items() if k in PASS_THROUGH or k.startswith(PASS_PREFIXES)}
    unthrottled = "1000000/min"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",  # production + the ceiling view
            "LUFFY_IGNORE_DOTENV": "1",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "DB_CONN_MAX_AGE": "60",
            "SITE_URL": f"http://127.0.0.1:{config.HTTP_PORT}",
            "THROTTLE_LOGIN": unthrottled,
            "THROTTLE_ANON_CHECK": unthrottled,
            "THROTTLE_SMS_MOBILE": unthrottled,
            "THROTTLE_SMS_IP": unthrottled,
            "THROTTLE_PAY_STATUS": unthrottled,
            "ALIPAY_APP_ID": config.ALIPAY_APP_ID,
            "ALIPAY_APP_PRIVATE_KEY_FILE": str(keys.app_private),
            "ALIPAY_PUBLIC_KEY_FILE": str(keys.alipay_public),
            "ALIPAY_SELLER_ID": config.ALIPAY_SELLER_ID,
            "ALIPAY_GATEWAY": config.ALIPAY_GATEWAY,
            "ALIPAY_SANDBOX": "false",
            # gunicorn.conf.py (read from the project's directory) would make them 4-thread
            # gthread workers recycled every ~2,000 requests (a restart mid-run is a read
            # error in wrk); the bench measures 3 plain sync workers, as issue 12 did.
            "GUNICORN_THREADS": "1",
            "GUNICORN_MAX_REQUESTS": "0",
        }
    )
    return env


def run_python(
    module: str, args: list[str], env: dict[str, str], logfile: Path, echo: bool = True
) -> None:
    """python -m MODULE ARGS; its output goes to `logfile` and (echo) to the console."""
    with open(logfile, "w") as out:
        process = subprocess.Popen(  # noqa: S603
            [str(config.VENV_BIN / "python"), "-m", module, *args],
            cwd=config.ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None  # noqa: S101
        for line in process.stdout:
            out.write(line)
            if echo:
                print(line, end="", flush=True)
        status = process.wait()
    if status != 0:
        tail = "" if echo else logfile.read_text()[-3000:]
        raise BenchError(f"python -m {module} failed ({status}); see {logfile}\n{tail}")


def start_gunicorn(env: dict[str, str], logfile: Path, stack: ExitStack) -> GunicornProcess:
    """The app under gunicorn with production settings (bench.settings), ready to be loaded;
    stopped when `stack` closes, even if it never answered."""
    server = GunicornProcess(
        [
            "luffy_api.wsgi:application",
            f"--workers={config.GUNICORN_WORKERS}",
            "--worker-class=sync",
            "--backlog=2048",
            "--timeout=120",
            "--graceful-timeout=5",
        ],
        env=env,
        log_path=logfile,
        port=config.HTTP_PORT,
        ready_path=config.CEILING.path,
    )
    stack.callback(server.stop)  # before starting: a signal during the wait stops it too
    try:
        server.start(timeout=60)
    except GunicornFailed as exc:
        raise BenchError(str(exc)) from None
    if "Using worker: sync" not in logfile.read_text():
        raise BenchError(f"gunicorn did not start sync workers; see {logfile}")
    return server


def peak_rss_kb(server: GunicornProcess) -> dict[str, Any]:
    assert server.proc is not None  # noqa: S101
    return {
        "workers": [_status_kb(pid, "VmHWM") for pid in server.worker_pids()],
        "master": _status_kb(server.proc.pid, "VmHWM"),
    }


def _get(url: str, timeout: float) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return int(response.status)
    except (urllib.error.URLError, OSError):
        return None


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def wait_idle(url: str, timeout_s: float = 60) -> None:
    """Let requests still queued from the last run finish (login keeps workers busy)."""
    deadline = time.monotonic() + timeout_s
    quick = 0
    while quick < 3 and time.monotonic() < deadline:
        started = time.monotonic()
        status = _get(url + config.CEILING.path, timeout=timeout_s)
        quick = quick + 1 if status == 200 and time.monotonic() - started < 0.05 else 0
        time.sleep(0.1)


# --- CPU accounting (is something else using the machine?) ----------------------------------------


def _busy_ticks() -> int:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


def _process_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def _children_ticks() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * CLK_TCK


class CpuWatch:
    """CPU that processes outside the benchmark (not gunicorn, MariaDB, wrk, us) used meanwhile,
    as a share of the whole machine."""

    def __init__(self, our_pids: list[int]) -> None:
        self.pids = [*our_pids, os.getpid()]
        self.started = time.monotonic()
        self.busy = _busy_ticks()
        self.ours = _process_ticks(self.pids) + _children_ticks()

    def other_pct(self) -> float:
        elapsed = time.monotonic() - self.started
        busy = _busy_ticks() - self.busy
        ours = _process_ticks(self.pids) + _children_ticks() - self.ours
        capacity = elapsed * CLK_TCK * (os.cpu_count() or 1)
        return max(0.0, 100 * (busy - ours) / capacity) if capacity else 0.0


def _mariadb_pid() -> int | None:
    pidfile = config.ROOT / ".tmp" / f"mariadb-{config.MARIADB_PORT}" / "mysqld.pid"
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


# --- One size -------------------------------------------------------------------------------------


ZIPF_TABLE = "course_zipf.txt"  # bench/zipf.py's table over course_ids.txt


def _commits_per_request(endpoints: dict[str, Any]) -> dict[str, int]:
    """Commits of one placement, one first notify delivery and one redelivery (probe counts)."""
    wanted = {
        "pay": ("pay", "commits_first"),
        "notify first": ("notify", "commits_first"),
        "notify redelivery": ("notify", "commits_repeat"),
    }
    found = {}
    for label, (endpoint, key) in wanted.items():
        value = (endpoints.get(endpoint) or {}).get(key)
        if value is not None:
            found[label] = value
    return found


def probe_costs(probe: dict[str, Any]) -> dict[str, Any]:
    """The single-request figures the cost targets need. commit_ms, notify_first and commit
    counts come from a probe that measures them; an older probe lacks them (None: "n/a")."""
    single = probe.get("single_request_ms") or {}
    waited = probe.get("single_request_db_ms") or {}
    return {
        "commit_ms": probe.get("commit_ms"),
        "commits": _commits_per_request(probe.get("endpoints") or {}),
        "single_request_ms": {
            key: single.get(key) for key in ("notify_first", "notify", "pay", "login", "ceiling")
        },
        # Of those, the time spent waiting for MariaDB (probe's DriverRequests).
        "single_request_db_ms": {key: waited.get(key) for key in ("notify_first", "notify", "pay")},
    }


def wrk_args(endpoint: config.Endpoint, workdir: Path) -> list[str]:
    threads = str(config.WRK_THREADS)
    ids = str(workdir / "course_ids.txt")
    table = str(workdir / ZIPF_TABLE)
    return {
        "ceiling": [],
        "list": [],
        "search": [],
        "detail": [ids, "/api/v1/course/list/%s/"],
        "chapters": [ids, "/api/v1/course/chapter/?course=%s"],
        "detail_zipf": [table, "/api/v1/course/list/%s/"],
        "chapters_zipf": [table, "/api/v1/course/chapter/?course=%s"],
        "pay": [str(workdir / "pay.txt"), "application/json", "", threads],
        "notify": [
            str(workdir / "notify.txt"),
            "application/x-www-form-urlencoded",
            "success",
            threads,
        ],
        "login": [str(workdir / "login.txt"), "application/json", "", threads],
        "progress": [str(workdir / "progress.txt"), threads],
    }[endpoint.name]


def run_size(
    size: config.Size, server_url: str, keys: KeyFiles, secret_key: str, stack: ExitStack
) -> dict[str, Any]:
    log(f"==> {size.label}")
    started = time.monotonic()
    workdir = config.WORK_DIR / size.name
    workdir.mkdir(parents=True)
    create_database(server_url, size.database)
    env = django_env(_with_database(server_url, size.database), keys, secret_key)

    log("  seeding (migrate, bulk INSERTs, request files)")
    mariadb = _mariadb_pid()
    watch = CpuWatch([mariadb] if mariadb else [])
    python_cpu, mariadb_cpu = _children_ticks(), _process_ticks([mariadb] if mariadb else [])
    run_python(
        "bench.seed",
        [size.name, str(workdir), str(keys.alipay_private)],
        env,
        LOG_DIR / f"seed-{size.name}.log",
    )
    seed_other_cpu = round(watch.other_pct(), 1)
    seed_cpu = {  # CPU seconds the seeding cost, whatever else ran on the machine meanwhile
        "python": round((_children_ticks() - python_cpu) / CLK_TCK, 1),
        "mariadb": round((_process_ticks([mariadb] if mariadb else []) - mariadb_cpu) / CLK_TCK, 1),
    }
    manifest = json.loads((workdir / "manifest.json").read_text())
    course_ids = [int(i) for i in (workdir / "course_ids.txt").read_text().split()]
    zipf.write_table(workdir / ZIPF_TABLE, course_ids)
    log("  probing SQL per request and RSA2 in-process")
    run_python("bench.probe", [str(workdir)], env, LOG_DIR / f"probe-{size.name}.log", echo=False)
    probe = json.loads((workdir / "probe.json").read_text())
    first_new_order = size.orders + config.NOTIFY_ORDERS + 2

    log(f"  gunicorn: {config.GUNICORN_WORKERS} sync workers on 127.0.0.1:{config.HTTP_PORT}")
    server = start_gunicorn(env, LOG_DIR / f"gunicorn-{size.name}.log", stack)
    ours = [server.proc.pid, *server.worker_pids(), *([mariadb] if mariadb else [])]

    rsa = probe["rsa"]
    endpoints: dict[str, Any] = {}
    for ep in config.selected_endpoints():
        wait_idle(server.url)
        watch = CpuWatch(ours)
        result = load.run_wrk(
            server.url, ep, wrk_args(ep, workdir), LOG_DIR / f"wrk-{size.name}-{ep.name}.log"
        )
        row = result.as_dict()
        row["other_cpu_pct"] = round(watch.other_pct(), 1)
        p = probe["endpoints"][ep.probed_as]
        row["queries_first"], row["queries_repeat"] = p["queries_first"], p["queries_repeat"]
        row.update({k: v for k, v in p.items() if k.startswith("commits")})
        row["single_request_ms"] = probe["single_request_ms"].get(ep.probed_as)
        ceiling_rps = endpoints["ceiling"]["rps"] if endpoints else result.rps
        row["ceiling_ratio"] = round(result.rps / ceiling_rps, 5) if ceiling_rps else 0.0
        if ep.name in report.RSA_OPS:
            row["rsa_ratio"] = round(result.p50_ms / rsa[report.RSA_OPS[ep.name][0]], 2)
        endpoints[ep.name] = row
        log(
            f"  {ep.name:<9} {result.rps:>8.1f} req/s  p50 {result.p50_ms:>8.2f} ms  "
            f"p99 {result.p99_ms:>8.2f} ms  errors {result.errors}  "
            f"SQL {p['queries_first']}/{p['queries_repeat']}  other CPU {row['other_cpu_pct']:.0f}%"
        )
    if endpoints.get("notify", {}).get("wraps"):
        log("  note: wrk ran out of notify bodies and resent some (more duplicates than 50%)")
    wait_idle(server.url)
    log(
        f"  mixed scenario: {config.MIX_DURATION_S} s, {mix.MIX_PROCESSES * mix.MIX_THREADS} "
        f"connections, % {mix.MIX_WEIGHTS}"
    )
    mixed = mix.run_mix(server.url, workdir, manifest["visible_courses"])
    for name, r in mixed["endpoints"].items():
        log(
            f"  mix {name:<9} {r['count']:>6} req  {r['rps']:>7.1f} req/s  p50 {r['p50_ms']:>8.2f}"
            f" ms  p99 {r['p99_ms']:>8.2f} ms  errors {r['errors']}"
        )
    rss = peak_rss_kb(server)
    server.stop(timeout=15)
    facts = db_facts(server_url, size.database, first_new_order)
    return {
        "label": size.label,
        "courses": size.courses,
        "orders": size.orders,
        "users": size.users,
        "rows": manifest["rows"],
        "migrate_s": manifest["migrate_s"],
        "seed_s": manifest["seed_s"],
        "fixtures_s": manifest["fixtures_s"],
        "seed_other_cpu_pct": seed_other_cpu,
        "seed_cpu_s": seed_cpu,
        "visible_courses": manifest["visible_courses"],
        "notify_bodies": {"unique": manifest["notify_unique"], "lines": manifest["notify_lines"]},
        "rsa": rsa,
        "rss_kb": rss,
        "notify_outcomes": facts["notify_outcomes"],
        "orders_placed": facts["orders_placed"],
        "mariadb": facts["version"],
        "endpoints": endpoints,
        "mix": mixed,
        "probe_costs": probe_costs(probe),
        "wall_s": round(time.monotonic() - started, 1),
        "probe": {
            name: {**p, "sql_first": [sql[:300] for sql in p["sql_first"]]}
            for name, p in probe["endpoints"].items()
        },
    }


# --- Search at 1,000,000 courses ------------------------------------------------------------------

SEARCH_SCALE = "bench.search_scale"


def run_search_1m(server_url: str) -> dict[str, Any]:
    """bench/search_scale.py's `run(server_url)` (the bench MariaDB's URL, no database: it makes
    its own, seeds 1,000,000 courses and loads search); its dict should carry p50_ms, p99_ms,
    backend, courses and seed_s. "not run" when the module does not exist (yet)."""
    if importlib.util.find_spec(SEARCH_SCALE) is None:
        log("==> search1m: not run (no bench/search_scale.py)")
        return {"status": "not run", "reason": "bench/search_scale.py does not exist"}
    log("==> search1m: 1,000,000 courses (bench/search_scale.py)")
    started = time.monotonic()
    try:
        outcome = dict(importlib.import_module(SEARCH_SCALE).run(server_url))
    except Exception as exc:  # its failure is reported as a failed target, the rest still counts
        log(f"  search1m failed: {type(exc).__name__}: {exc}")
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"[:300]}
    result = {**outcome, "status": "ran", "wall_s": round(time.monotonic() - started, 1)}
    log(
        f"  search1m  cold p50 {result.get('p50_ms')} ms  p99 {result.get('p99_ms')} ms  warm "
        f"p50 {result.get('warm_p50_ms')} ms  p99 {result.get('warm_p99_ms')} ms  backend "
        f"{result.get('backend')}  seed {result.get('seed_s')} s  wall {result['wall_s']} s"
    )
    return result


# --- The flash-sale burst (issue 27) -------------------------------------------------------------


def run_flash(server_url: str, keys: KeyFiles, secret_key: str, stack: ExitStack) -> dict[str, Any]:
    """bench/flash.py against one node: its own database, the same gunicorn as the sizes (no
    Redis: the database alone decides the seats), then the orders and seats counted in SQL."""
    log(
        f"==> flash: {flash.BUYERS} buyers x {flash.ATTEMPTS} tries for {flash.SEATS} seats "
        f"(bench/flash.py)"
    )
    started = time.monotonic()
    workdir = config.WORK_DIR / "flash"
    workdir.mkdir(parents=True)
    database = "bench_flash"
    create_database(server_url, database)
    env = django_env(_with_database(server_url, database), keys, secret_key)
    run_python("bench.flash", [str(workdir)], env, LOG_DIR / "seed-flash.log")
    manifest = json.loads((workdir / "flash.json").read_text())
    server = start_gunicorn(env, LOG_DIR / "gunicorn-flash.log", stack)
    wait_idle(server.url)
    mariadb = [pid] if (pid := _mariadb_pid()) else []
    node = [server.proc.pid, *server.worker_pids()]
    watch = CpuWatch([*node, *mariadb])
    node_ticks, mariadb_ticks = _process_ticks(node), _process_ticks(mariadb)
    result = flash.burst(server.url, manifest["tokens"], manifest["sale_id"])
    other_cpu = round(watch.other_pct(), 1)
    # Where the two cores went during the burst (seconds of CPU).
    node_cpu = (_process_ticks(node) - node_ticks) / CLK_TCK
    mariadb_cpu = (_process_ticks(mariadb) - mariadb_ticks) / CLK_TCK
    server.stop(timeout=15)
    conn = _connect(server_url, database)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT COUNT(*) FROM luffy_order")
        orders = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT COUNT(*), SUM(order_id IS NOT NULL) FROM luffy_flash_seat WHERE holding = 1"
        )
        held, with_order = cursor.fetchone()
        cursor.execute("SELECT seats_left FROM luffy_flash_sale")
        seats_left = int(cursor.fetchone()[0])
    finally:
        conn.close()
    out = {
        **result.as_dict(),
        "buyers": flash.BUYERS,
        "attempts": flash.ATTEMPTS,
        "seats": flash.SEATS,
        "limit_s": flash.BURST_LIMIT_S,
        "orders": orders,
        "seats_held": int(held),
        "seats_with_order": int(with_order or 0),
        "seats_left": seats_left,
        "other_cpu_pct": other_cpu,
        "node_cpu_s": round(node_cpu, 2),
        "mariadb_cpu_s": round(mariadb_cpu, 2),
        "wall_total_s": round(time.monotonic() - started, 1),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC:"),
    }
    log(
        f"  flash {out['sent']} tries in {out['wall_s']} s: {out['statuses']}; orders "
        f"{orders}, seats held {held}, left {seats_left}; p50 {out['p50_ms']} ms "
        f"p99 {out['p99_ms']} ms; 5xx/no answer {out['server_errors']}; CPU s: node "
        f"{out['node_cpu_s']}, MariaDB {out['mariadb_cpu_s']}, client {out['client_cpu_s']}; "
        f"other CPU {other_cpu}%"
    )
    return out


# --- Main -----------------------------------------------------------------------------------------


def _preflight() -> None:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed: run scripts/bootstrap.sh --bench")
    if not (config.VENV_BIN / "gunicorn").exists():
        raise BenchError("no .venv/bin/gunicorn: run scripts/bootstrap.sh")
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", config.HTTP_PORT)) == 0:
            raise BenchError(f"port {config.HTTP_PORT} is taken (set BENCH_HTTP_PORT)")


def _machine(mariadb: str) -> dict[str, Any]:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = _status_kb_meminfo()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "mem_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "mariadb": f"MariaDB {mariadb.split('-')[0]}",
    }


def _mariadb_version(server_url: str) -> str:
    conn = _connect(server_url)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT VERSION()")
        return str(cursor.fetchone()[0])
    finally:
        conn.close()


def _status_kb_meminfo() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _terminate)
    sizes = config.selected_sizes()
    with_search_1m = config.SEARCH_1M in config.selected_names()
    with_flash = config.FLASH in config.selected_names()
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    shutil.rmtree(config.WORK_DIR, ignore_errors=True)
    config.WORK_DIR.mkdir(parents=True)
    try:
        with ExitStack() as stack:
            stack.callback(shutil.rmtree, config.WORK_DIR, ignore_errors=True)
            _preflight()
            log(f"==> MariaDB on 127.0.0.1:{config.MARIADB_PORT} (throwaway)")
            server_url = start_mariadb(stack)
            keys = generate_keys(config.WORK_DIR / "keys")
            secret_key = secrets.token_urlsafe(50)
            log("==> collectstatic (the production static manifest)")
            run_python(
                "django",
                ["collectstatic", "--noinput", "-v0"],
                django_env(_with_database(server_url, "mysql"), keys, secret_key),
                LOG_DIR / "collectstatic.log",
            )
            sizes_out = {
                size.name: run_size(size, server_url, keys, secret_key, stack) for size in sizes
            }
            search_1m = run_search_1m(server_url) if with_search_1m else None
            flash_burst = run_flash(server_url, keys, secret_key, stack) if with_flash else None
            results = {
                "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "wall_s": 0.0,
                "machine": _machine(_mariadb_version(server_url)),
                "setup": {
                    "workers": config.GUNICORN_WORKERS,
                    "worker_class": "sync",
                    "conn_max_age": 60,
                    "mariadb_port": config.MARIADB_PORT,
                    "buffer_pool": config.MARIADB_BUFFER_POOL,
                    "wrk": f"-t{config.WRK_THREADS} -c{config.WRK_CONNECTIONS} "
                    f"-d{config.WRK_DURATION_S}s --timeout {config.WRK_TIMEOUT_S}s --latency",
                },
                "sizes": sizes_out,
                "search1m": search_1m,
                "flash": flash_burst,
            }
        results["wall_s"] = round(time.monotonic() - started, 1)
        targets = report.write(results, config.RESULTS_DIR)
    except (BenchError, load.LoadError, subprocess.SubprocessError, OSError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    log("")
    log((config.RESULTS_DIR / "results.md").read_text())
    log("==> targets (measured vs limit; PASS/FAIL, n/a when a figure is missing)")
    log(report.targets_text(targets))
    log(
        f"==> wall time "
        f"{results['wall_s']:.0f} s; results in {config.RESULTS_DIR.relative_to(config.ROOT)}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
