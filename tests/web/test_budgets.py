"""The issue's budgets, measured in Chromium and written to tests/web/artifacts/budgets.json.

The home page's JS + CSS must stay at most 150 KB as the server sends them, compressed (issue 25;
asserted: it only depends on the build and on the server compressing).
The course list's render time is measured and reported, not asserted: it depends on the machine.
The requests a page opens with start beside its code (web/src/api/preload.js) and are still sent
once each.
"""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Page, expect

from apps.course.models import Course, CourseCategory
from tests.web.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

HOME_BUDGET_BYTES = 150 * 1024
# Bytes of each script and stylesheet as they came over the wire (compressed), and uncompressed.
SENT = """() => performance.getEntriesByType('resource')
  .filter((e) => /\\.(js|css)$/.test(e.name))
  .map((e) => ({ url: e.name, sent: e.encodedBodySize, raw: e.decodedBodySize }))"""
CARDS = ".course-list[data-loaded=true] [data-test=course-card]"
# Resolves with the milliseconds from the click on 实战课 until its course cards are on screen.
TIME_CLICK_TO_CARDS = """(cards) => new Promise((resolve) => {
  const t0 = performance.now()
  const observer = new MutationObserver(() => {
    if (document.querySelector(cards)) { observer.disconnect(); resolve(performance.now() - t0) }
  })
  observer.observe(document.body, { subtree: true, childList: true, attributes: true })
  document.querySelector('header nav a[href="/actual"]').click()
})"""
# Records when the cards first appear, counted from the start of the page load.
MARK_CARDS = (
    f"const cards = {json.dumps(CARDS)};"
    + """
new MutationObserver((_, observer) => {
  if (document.querySelector(cards)) { window.__cardsAt = performance.now(); observer.disconnect() }
}).observe(document, { subtree: true, childList: true, attributes: true })"""
)


def record(**figures: object) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "budgets.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(figures)
    path.write_text(json.dumps(current, indent=2, ensure_ascii=False))
    print(json.dumps(figures, ensure_ascii=False))


def test_home_page_js_and_css_stay_within_150_kb_as_sent_compressed(page: Page):
    encodings: dict[str, str] = {}

    def keep(response) -> None:
        if response.request.resource_type in {"script", "stylesheet"} and response.ok:
            encodings[response.url] = response.headers.get("content-encoding", "")

    page.on("response", keep)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assets = [a for a in page.evaluate(SENT) if a["url"] in encodings]
    sent = sum(a["sent"] for a in assets)
    raw = sum(a["raw"] for a in assets)
    record(home_js_css_files=len(assets), home_js_css_bytes=raw, home_js_css_sent_bytes=sent)
    assert assets, "the home page loaded its bundle"
    # Every file the build compressed goes out compressed (Chromium accepts brotli from localhost).
    big = [a["url"] for a in assets if a["raw"] > 1024]
    assert {encodings[url] for url in big} <= {"br", "gzip"}
    assert sent <= HOME_BUDGET_BYTES


def test_course_list_render_time_is_measured(page: Page):
    page.add_init_script(MARK_CARDS)
    page.goto("/actual")
    page.wait_for_selector(CARDS)
    page.wait_for_function("() => window.__cardsAt !== undefined")
    cold = page.evaluate("window.__cardsAt")
    page.goto("/")
    page.wait_for_load_state("networkidle")
    in_app = page.evaluate(TIME_CLICK_TO_CARDS, CARDS)
    record(list_cards_ms_from_page_load=round(cold), list_cards_ms_from_nav_click=round(in_app))
    assert page.locator(CARDS).count() == 4


def _same_request(url: str) -> tuple:
    """A URL with its query parameters in any order (the same request either way)."""
    parts = urlsplit(url)
    return parts.path, tuple(sorted(parse_qsl(parts.query)))


def _opening_paths() -> list[str]:
    course = Course.objects.get(name="Django框架实战")
    category = CourseCategory.objects.get(name="Python")
    return ["/", f"/actual?category={category.pk}&ordering=-price&page=1", f"/course/{course.pk}"]


def test_each_answer_a_page_opens_with_is_asked_for_once(page: Page):
    """The router starts home's, a list's and a course's first requests while the page's code
    loads; the page must take those calls, not send them again (same API function, same
    arguments). The picture preloaded for the largest paint is fetched once too."""
    for path in _opening_paths():
        asked: list = []

        def note(request, asked=asked) -> None:
            asked.append(request)

        page.on("request", note)
        page.goto(path)
        page.wait_for_load_state("networkidle")
        expect(page.locator("h1")).to_be_visible()
        page.remove_listener("request", note)
        api = Counter(_same_request(r.url) for r in asked if "/api/" in r.url)
        media = Counter(r.url for r in asked if "/media/" in r.url)
        assert api, path
        assert [url for url, n in api.items() if n > 1] == [], path
        assert [url for url, n in media.items() if n > 1] == [], path
