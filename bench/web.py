"""`make bench-web`: how fast the storefront paints on a phone on a slow network (issue 25, item 5).

The shop runs as production serves it (DEBUG off, gunicorn, WhiteNoise serving web/dist) on a
throwaway SQLite database with the demo catalog under .tmp/bench-web/. Headless Chromium, in
phone emulation (390 x 844, touch), loads each page cold under Chrome DevTools' "Fast 3G"
(Network.emulateNetworkConditions: 1.6 Mbps down, 750 kbps up, 150 ms round trip) with the CPU
slowed 4 times (Emulation.setCPUThrottlingRate), and this prints the median first contentful
paint and largest contentful paint of home, a course list and a course detail, and the bytes of
JS + CSS the home page received (as sent: compressed when the server compresses).

Targets (printed, never asserted: the figures depend on the machine): FCP <= 1.8 s, LCP <= 2.5 s,
home JS + CSS <= 150 KB compressed. RUNS=5 for more loads per page (default 3).

What a cold load waits for (HTTP/1.1, six connections, 150 ms a round trip): index.html, whose
shell is the FCP; the entry script (Vue, router, store, header; ~95 KB gzip); then, at once, the
page's chunks (4 files for home, ~10 for a list or a course: web/vite.config.js manualChunks), its
first API requests (the router's route meta `preload`, web/src/api/preload.js) and, once an answer
names it, the picture that opens the page (<link rel=preload as=image>); then the render: LCP.
Before (34-50 route files, then the API, then the picture, one after another) and after, same
host, builds alternated, 3 rounds of 3 loads (medians per round, load average 1-4):
LCP home 3.12 / 2.76 / 2.74 s -> 1.87 / 1.72 / 1.84 s, list 3.70 / 3.51 / 3.53 s -> 2.06 / 2.02 /
1.99 s, detail 3.81 / 3.57 / 3.54 s -> 2.08 / 2.02 / 2.04 s; FCP 0.55-0.69 s both; home JS + CSS
22 files, 110.8 KB -> 6 files, 105.1 KB as sent.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

from utils.gunicorn_process import GunicornProcess

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".tmp" / "bench-web"
PYTHON = Path(sys.executable)
CHROMIUM = os.environ.get("LUFFY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

FAST_3G = {
    "offline": False,
    "latency": 150,  # ms, round trip
    "downloadThroughput": 1.6e6 / 8,  # bytes/s
    "uploadThroughput": 750e3 / 8,
}
CPU_SLOWDOWN = 4
RUNS = int(os.environ.get("RUNS", "3"))
FCP_TARGET_MS, LCP_TARGET_MS, HOME_BYTES_TARGET = 1800, 2500, 150 * 1024
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36"
    ),
    "locale": "zh-CN",
}
# Paint entries, kept as they come (LCP keeps changing until the page is used or hidden).
OBSERVE_PAINTS = """
window.__paints = { fcp: null, lcp: null };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.name === 'first-contentful-paint') window.__paints.fcp = e.startTime;
  }
}).observe({ type: 'paint', buffered: true });
new PerformanceObserver((list) => {
  const entries = list.getEntries();
  window.__paints.lcp = entries[entries.length - 1].startTime;
}).observe({ type: 'largest-contentful-paint', buffered: true });
"""
READ_ASSETS = """() => performance.getEntriesByType('resource')
  .filter((e) => /\\.(js|css)(\\?|$)/.test(e.name))
  .map((e) => ({ name: e.name, encoded: e.encodedBodySize, decoded: e.decodedBodySize }))"""


def log(message: str) -> None:
    print(message, flush=True)


def django_env(port: int) -> dict[str, str]:
    """Production settings on a throwaway SQLite database; nothing read from .env."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env.update(
        {
            "LUFFY_IGNORE_DOTENV": "1",
            "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"sqlite:///{WORK / 'db.sqlite3'}",
            "CACHE_URL": "locmem://",
            "MEDIA_ROOT": str(WORK / "media"),
            "SERVE_MEDIA": "true",
            "STATIC_ROOT": str(WORK / "static"),
            "SITE_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
            "GUNICORN_WORKERS": "2",
        }
    )
    return env


def prepare(env: dict[str, str]) -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    with (WORK / "setup.log").open("w") as out:
        for args in (
            ["migrate", "--noinput", "-v0"],
            ["collectstatic", "--noinput", "-v0"],
            ["load_demo", "--force"],
        ):
            subprocess.run(  # noqa: S603 - our own manage.py
                [str(PYTHON), "manage.py", *args],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
            )


def first_course_id(site: str) -> int:
    url = f"{site}/api/v1/course/list/?course_type=actual&size=1"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our own server
        body = json.load(answer)
    data = body.get("data", body)
    return data["results"][0]["id"]


def load_once(browser: Browser, url: str) -> dict[str, Any]:
    """One cold load (fresh context, empty cache) under Fast 3G and a 4x slower CPU."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.add_init_script(OBSERVE_PAINTS)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", FAST_3G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_load_state("networkidle", timeout=120_000)
        page.wait_for_timeout(500)
        paints = page.evaluate("window.__paints")
        assets = page.evaluate(READ_ASSETS)
        return {"fcp": paints["fcp"], "lcp": paints["lcp"], "assets": assets}
    finally:
        context.close()


def measure(browser: Browser, site: str, pages: dict[str, str]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, path in pages.items():
        runs = [load_once(browser, site + path) for _ in range(RUNS)]
        fcp = statistics.median(r["fcp"] or 0 for r in runs)
        lcp = statistics.median(r["lcp"] or r["fcp"] or 0 for r in runs)
        assets = runs[0]["assets"]
        figures[name] = {
            "path": path,
            "fcp_ms": round(fcp),
            "lcp_ms": round(lcp),
            "fcp_runs_ms": [round(r["fcp"] or 0) for r in runs],
            "lcp_runs_ms": [round(r["lcp"] or 0) for r in runs],
            "js_css_files": len(assets),
            "js_css_sent_bytes": sum(a["encoded"] for a in assets),
            "js_css_raw_bytes": sum(a["decoded"] for a in assets),
        }
    return figures


def served_encodings(site: str) -> dict[str, str]:
    """What the server answers for the home page's largest script to gzip and brotli clients
    (Chromium asks for brotli on HTTPS only, so the browser measures the gzip answer here)."""
    with urllib.request.urlopen(site + "/", timeout=10) as answer:  # noqa: S310
        html = answer.read().decode()
    script = html.split('<script type="module" crossorigin src="', 1)[1].split('"', 1)[0]
    answers = {}
    for encoding in ("gzip", "br"):
        asked = urllib.request.Request(site + script, headers={"Accept-Encoding": encoding})  # noqa: S310
        with urllib.request.urlopen(asked, timeout=10) as answer:  # noqa: S310
            sent = answer.headers.get("Content-Encoding") or "none"
            answers[encoding] = f"{sent} ({len(answer.read())} B)"
    return answers


def report(figures: dict[str, Any], encodings: dict[str, str]) -> None:
    log("")
    log(
        f"Storefront on a phone: Fast 3G (1.6 Mbps, 150 ms RTT), CPU x{CPU_SLOWDOWN}, "
        f"median of {RUNS} cold loads"
    )
    log(f"{'page':<8} {'path':<12} {'FCP ms':>7} {'LCP ms':>7}   runs FCP / LCP")
    for name, fig in figures.items():
        fcp_ok = "ok" if fig["fcp_ms"] <= FCP_TARGET_MS else "OVER"
        lcp_ok = "ok" if fig["lcp_ms"] <= LCP_TARGET_MS else "OVER"
        log(
            f"{name:<8} {fig['path']:<12} {fig['fcp_ms']:>7} {fig['lcp_ms']:>7}   "
            f"{fig['fcp_runs_ms']} / {fig['lcp_runs_ms']}  FCP {fcp_ok}, LCP {lcp_ok}"
        )
    home = figures["home"]
    sent_kb = home["js_css_sent_bytes"] / 1024
    verdict = "ok" if home["js_css_sent_bytes"] <= HOME_BYTES_TARGET else "OVER"
    log(
        f"home JS + CSS: {home['js_css_files']} files, {sent_kb:.1f} KB as sent "
        f"({home['js_css_raw_bytes'] / 1024:.1f} KB uncompressed), target 150 KB: {verdict}"
    )
    log(
        "home entry script asked with Accept-Encoding gzip -> "
        f"{encodings['gzip']}, br -> {encodings['br']}"
    )
    log(f"targets: FCP <= {FCP_TARGET_MS} ms, LCP <= {LCP_TARGET_MS} ms (not asserted)")
    (WORK / "results.json").write_text(json.dumps(figures, indent=2))
    log(f"figures: {WORK / 'results.json'}")


def main() -> int:
    if not (ROOT / "web" / "dist" / "index.html").exists():
        log("web/dist is not built: run `make setup` (or `cd web && npm run build`).")
        return 1
    with ExitStack() as stack:
        server = GunicornProcess(
            ["luffy_api.wsgi:application", "-c", "gunicorn.conf.py"],
            env={},
            log_path=WORK / "gunicorn.log",
        )
        server.env = django_env(server.port)
        log("==> throwaway database with the demo catalog (.tmp/bench-web)")
        prepare(server.env)
        stack.callback(server.stop)
        server.start(timeout=60)
        site = server.url
        pages = {"home": "/", "list": "/actual", "detail": f"/course/{first_course_id(site)}"}
        log(f"==> {site}: {', '.join(pages.values())}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                figures = measure(browser, site, pages)
            finally:
                browser.close()
        report(figures, served_encodings(site))
    return 0


if __name__ == "__main__":
    sys.exit(main())
