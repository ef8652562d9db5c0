"""Every route fits the screen on phones (360, 390 px, touch), a tablet (768) and a laptop (1366),
logged in and out: the page never scrolls sideways and nothing visible stands past its right or
left edge unless a scrolling container of its own holds it. In phone emulation
`window.innerWidth` grows with the overflow, so the measure is the root's clientWidth.

Also: the header's menu on phones, course cards in one or two columns, the study page's player
full width at 16:9, dialogs inside the viewport (full screen on phones) and touch targets of at
least 44 px.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.routes import PHONE_MAX_WIDTH, WIDTHS, make_shopper, routes, screen, settle

pytestmark = pytest.mark.browser

# Elements past the edge of the root's clientWidth, except those inside a container that
# scrolls or clips them (a carousel's other slides, a table that scrolls) and itself fits.
OUTSIDE = """() => {
  const width = document.documentElement.clientWidth
  const found = []
  const scrolled = document.documentElement.scrollWidth
  if (scrolled > width) found.push(`the page scrolls sideways: scrollWidth ${scrolled} > ${width}`)
  const fits = (r) => r.left >= -0.5 && r.right <= width + 0.5
  const held = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p)
      const clips = /(auto|scroll|hidden|clip)/.test(s.overflowX)
      if (clips && fits(p.getBoundingClientRect())) return true
    }
    return false
  }
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect()
    if (r.width < 1 || r.height < 1 || fits(r)) continue
    const s = getComputedStyle(el)
    if (s.visibility === 'hidden' || s.opacity === '0') continue
    if (held(el)) continue
    const name = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    found.push(`${name} spans ${Math.round(r.left)}..${Math.round(r.right)} of ${width}: `
      + JSON.stringify((el.innerText || '').slice(0, 30)))
  }
  return found.slice(0, 15)
}"""
# Buttons, links and inputs a finger must hit: at least 44 x 44 CSS px (WCAG 2.5.5's size),
# counting the padding a wrapper adds around a control that is itself smaller (a radio's
# whole label takes the tap).
SMALL_TARGETS = """() => {
  const found = []
  const targets = document.querySelectorAll(
    'main a[href], main button, header a[href], header button, header input, main input, '
    + 'main [role=tab], main [role=radio], .el-dialog button, .el-dialog input, .el-pager li')
  for (const el of targets) {
    const r = el.getBoundingClientRect()
    if (r.width < 1 || r.height < 1 || getComputedStyle(el).visibility === 'hidden') continue
    let box = r
    const hit = el.closest(
      '.el-input__wrapper, .el-radio-button, .el-radio, .el-select__wrapper, '
      + '.el-carousel__indicator')
    if (hit) box = hit.getBoundingClientRect()
    // Links inside running text are exempt (WCAG 2.5.5 "inline").
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') continue
    if (box.height < 43.5 || box.width < 43.5) {
      const label = (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 20)
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`
      found.push(`${el.tagName.toLowerCase()} ${JSON.stringify(label)} ${size}`)
    }
  }
  return found.slice(0, 15)
}"""


@pytest.fixture
def shopper(shop):
    return make_shopper()


@pytest.mark.parametrize("logged_in", [False, True], ids=["logged-out", "logged-in"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_route_fits_the_screen(browser: Browser, shop, shopper, width, logged_in):
    problems = {}
    user = shopper.user if logged_in else None
    with screen(browser, shop.site_url, width, user=user) as page:
        for name, path in routes(shopper, logged_in=logged_in).items():
            settle(page, path)
            outside = page.evaluate(OUTSIDE)
            if outside:
                problems[name] = outside
    assert not problems, problems


@pytest.mark.parametrize("width", [360, 390])
def test_touch_targets_on_phones_are_at_least_44_px(browser: Browser, shop, shopper, width):
    problems = {}
    with screen(browser, shop.site_url, width, user=shopper.user) as page:
        for name, path in routes(shopper, logged_in=True).items():
            settle(page, path)
            small = page.evaluate(SMALL_TARGETS)
            if small:
                problems[name] = small
    assert not problems, problems


def test_the_header_collapses_to_a_menu_with_the_search_on_a_phone(browser: Browser, shop):
    with screen(browser, shop.site_url, 360) as page:
        settle(page, "/")
        header = page.locator("header.site-header")
        nav = header.get_by_role("link", name="实战课")
        expect(nav).to_be_hidden()
        menu = header.get_by_role("button", name="菜单")
        expect(menu).to_have_attribute("aria-expanded", "false")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        search = header.get_by_role("searchbox", name="搜索课程")
        expect(search).to_be_visible()
        search.fill("Python")
        search.press("Enter")
        expect(page).to_have_url("/search?word=Python")
        expect(nav).to_be_hidden()  # the menu closes on navigation
        menu.click()
        nav.click()
        expect(page.locator("main h1")).to_have_text("实战课")
    with screen(browser, shop.site_url, 1366) as page:
        settle(page, "/")
        header = page.locator("header.site-header")
        expect(header.get_by_role("link", name="实战课")).to_be_visible()
        expect(header.get_by_role("searchbox", name="搜索课程")).to_be_visible()
        expect(header.get_by_role("button", name="菜单")).to_be_hidden()


def columns(page: Page, selector: str) -> int:
    return page.evaluate(
        "(s) => new Set([...document.querySelectorAll(s)]"
        ".map((e) => Math.round(e.getBoundingClientRect().left))).size",
        selector,
    )


@pytest.mark.parametrize(("width", "tiles", "cards"), [(360, 2, 1), (768, 2, 1), (1366, 4, 1)])
def test_course_cards_take_one_or_two_columns_on_small_screens(
    browser: Browser, shop, width, tiles, cards
):
    with screen(browser, shop.site_url, width) as page:
        settle(page, "/")
        assert columns(page, "[data-test=row-actual] [data-test=course-tile]") <= tiles
        assert columns(page, "[data-test=row-actual] [data-test=course-tile]") >= min(tiles, 2)
        settle(page, "/actual")
        assert columns(page, "[data-test=course-card]") <= cards


@pytest.mark.parametrize("width", [360, 768, 1366])
def test_the_study_player_is_full_width_at_16_by_9(browser: Browser, shop, shopper, width):
    with screen(browser, shop.site_url, width, user=shopper.user) as page:
        settle(page, f"/learn/{shopper.owned.pk}")
        player = page.locator("video[data-test=player]").bounding_box()
        stage = page.locator(".stage").bounding_box()
        assert player is not None and stage is not None
        assert player["height"] == pytest.approx(player["width"] * 9 / 16, abs=2)
        if width <= PHONE_MAX_WIDTH:
            # The whole screen's width, edge to edge.
            assert player["width"] >= width - 1
        else:
            assert player["width"] >= stage["width"] - 50


def dialog_box(page: Page) -> dict:
    box = page.locator(".el-dialog:visible, .el-message-box:visible").first.bounding_box()
    assert box is not None
    return box


@pytest.mark.parametrize("width", [360, 390, 1366])
def test_dialogs_fit_the_viewport_and_fill_a_phone(browser: Browser, shop, shopper, width):
    phone = width <= PHONE_MAX_WIDTH

    def check(page: Page, label: str) -> None:
        box = dialog_box(page)
        viewport = page.evaluate("[document.documentElement.clientWidth, window.innerHeight]")
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport[0] + 0.5, label
        if phone and label != "confirm":
            assert box["width"] >= viewport[0] - 1 and box["height"] >= viewport[1] - 1, label
        assert page.evaluate(OUTSIDE) == [], label

    with screen(browser, shop.site_url, width) as page:
        settle(page, "/")
        page.locator("header").get_by_role("button", name="登录").first.click()
        check(page, "login")
        expect(page.locator(".login-dialog .el-dialog__headerbtn")).to_be_in_viewport(ratio=1)
        settle(page, f"/course/{shopper.owned.pk}")
        page.locator(".trial-btn").click()  # 试看 on the cover (the chapters have their own)
        check(page, "trial")
        expect(page.locator("video[data-test=player]")).to_be_visible()
    with screen(browser, shop.site_url, width, user=shopper.user) as page:
        settle(page, "/orders")
        page.locator("[data-test=order]").get_by_role("button", name="取消订单").click()
        check(page, "confirm")
        buttons = page.locator(".el-message-box").get_by_role("button")
        for index in range(buttons.count()):
            expect(buttons.nth(index)).to_be_in_viewport()
