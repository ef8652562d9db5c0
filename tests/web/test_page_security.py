"""In Chromium: every page keeps to the site's Content-Security-Policy, and no page can be framed.

The storefront's routes, the API docs and the local cashier are opened with a listener for
`securitypolicyviolation` events (tests/support/browser.py `watch_csp`, also on every other
storefront and admin browser test); each HTML route is then put in an iframe by a page of
another origin, which Chromium must refuse.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from apps.course.models import Course, CourseSection
from apps.home.models import Banner
from tests.factories import UserFactory
from tests.support.browser import watch_csp
from tests.web.conftest import TIMEOUT_MS, log_in

pytestmark = pytest.mark.browser

UNSIGNED_PAY = "/cashier/gateway.do?method=alipay.trade.page.pay"  # the cashier's refusal page


def storefront_routes() -> list[str]:
    course = Course.objects.get(name="Django框架实战")
    return [
        "/",
        "/index.html",
        "/free",
        "/actual",
        "/light",
        "/search?wd=Python",
        f"/course/{course.pk}",
        "/pay/success?out_trade_no=nothing",
        "/orders",
        "/my/courses",
        f"/learn/{course.pk}",
        f"/checkout?courses={course.pk}",
        "/coupons",
        "/my/coupons",
        "/flash",
        "/no/such/page",
    ]


def settle(page: Page) -> None:
    """The page drawn and its first requests answered (some pages keep polling: no idle)."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.body.children.length > 0")
    page.wait_for_timeout(500)


def test_no_storefront_route_violates_the_csp_for_a_visitor_or_an_owner(page: Page, shop):
    owner = UserFactory()
    course = Course.objects.get(name="Django框架实战")
    course.entitlements.create(user=owner)
    for path in storefront_routes():  # a visitor: the account pages open the login dialog
        page.goto(path)
        settle(page)
    log_in(page, owner)
    for path in storefront_routes():
        page.goto(path)
        settle(page)
    # A paid section's video, from its signed local link, under media-src.
    page.goto(f"/learn/{course.pk}")
    paid = CourseSection.objects.filter(chapter__course=course, free_trial=False).first()
    page.locator("[data-test=section]", has_text=paid.name).get_by_role("button").click()
    page.wait_for_function(
        "() => { const v = document.querySelector('video[data-test=player]');"
        " return v && v.readyState >= 1 && v.currentSrc.includes('/media/signed/') }"
    )
    assert page.csp_violations == []  # also checked by the fixture, after the screenshot


def test_the_api_docs_and_the_cashier_keep_to_the_csp(page: Page, shop):
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info").wait_for()  # drawn by the init script, a file now
    settle(page)
    page.goto(UNSIGNED_PAY)
    page.get_by_text("支付宝").first.wait_for()
    settle(page)
    assert page.csp_violations == []


class FramingPage(BaseHTTPRequestHandler):
    """`/?src=URL`: a page that puts URL in an iframe (another origin: its own port)."""

    def do_GET(self) -> None:
        src = parse_qs(urlsplit(self.path).query)["src"][0]
        body = f'<!doctype html><iframe src="{html.escape(src)}"></iframe>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def framer(browser: Browser, shop):
    """frame(url): the URL the frame ended on when a page of another local origin frames `url`
    (the page's own URL, or Chromium's error page when the page refused to be framed)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FramingPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    violations = watch_csp(context)
    page = context.new_page()

    def frame(url: str) -> str:
        page.goto(f"{origin}/?src={quote(url)}")  # "load" waits for the frame, refused or not
        child = page.frames[1]
        for _ in range(50):  # the frame's URL once it has committed a document
            if child.url not in {"", "about:blank"}:
                break
            page.wait_for_timeout(100)
        return child.url

    frame.violations = violations  # type: ignore[attr-defined]
    yield frame
    context.close()
    server.shutdown()
    thread.join()


def test_every_html_route_refuses_to_be_framed_by_another_origin(framer, shop):
    site = shop.site_url
    # The control: a file WhiteNoise answers without the headers loads in a frame, so a refused
    # frame below is the headers' doing, not the test's.
    assert framer(f"{site}/favicon.svg") == f"{site}/favicon.svg"
    html_routes = [
        *storefront_routes(),
        "/admin/login/",
        "/admin/",
        "/api/docs/",
        UNSIGNED_PAY,
    ]
    loaded = {path: framer(site + path) for path in html_routes}
    assert {path: url for path, url in loaded.items() if url.startswith(site)} == {}
    assert all(url.startswith("chrome-error://") for url in loaded.values()), loaded
    refusals = [v for v in framer.violations if "frame-ancestors" in v]
    assert len(refusals) >= len(html_routes)


def test_the_watch_sees_a_violation_and_the_policy_blocks_inline_script(page: Page, shop):
    """The listener every browser test relies on does report, and inline script does not run."""
    page.goto("/")
    settle(page)
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.appendChild(s) }"
    )
    page.wait_for_function("() => true")
    page.wait_for_timeout(300)

    assert page.evaluate("() => window.injected === undefined")
    assert any("script-src" in v for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # expected here: the fixture fails on any other


def test_a_banner_link_never_becomes_script_on_the_home_page(page: Page, shop):
    """A `javascript:` link saved before links were checked (update() skips validation) reaches
    no href; shop paths stay in the app and http(s) pages stay plain links."""
    first, second, third = Banner.objects.order_by("orders", "id")[:3]
    Banner.objects.filter(pk=first.pk).update(link="javascript:alert(document.cookie)")
    Banner.objects.filter(pk=second.pk).update(link="https://example.com/promo")

    page.goto("/")
    page.locator(".banner img").first.wait_for(state="attached")
    hrefs = page.eval_on_selector_all(".banner a", "links => links.map(a => a.href)")

    # an <a> without href ("" here) is no link at all: what the bad one became
    assert "" in hrefs and not [h for h in hrefs if h and not h.startswith("http")], hrefs
    assert "https://example.com/promo" in hrefs
    assert any(h.endswith(third.link) for h in hrefs)
