"""WCAG 2.1 AA in Chromium: axe-core (web/node_modules, the npm package) finds no serious or
critical violation on any route at phone and desktop width, logged in and out; each page has one
h1; the keyboard path works: a skip link first, focus on the new page's heading after a
navigation, the login dialog's first field focused, no focus in a carousel slide off screen, and
a visible focus ring on every stop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.routes import make_shopper, routes, screen, settle

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  })
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')
      return `${v.id} (${v.impact}): ${where}`
    })
}"""
# What has the focus, whether it shows a ring (its own outline, or its field's), and whether it
# sits in a carousel slide that is not on screen.
FOCUSED = """() => {
  const el = document.activeElement
  if (!el || el === document.body) return null
  const ring = (node) => {
    const s = getComputedStyle(node)
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'
  }
  const field = el.closest('.el-input__wrapper, .el-select__wrapper')
  const holder = el.closest('.el-radio-button, .el-carousel__indicator')
  const shows = ring(el) || (field && ring(field)) || (holder && ring(holder))
  const slide = el.closest('.el-carousel__item')
  return {
    name: (el.innerText || el.getAttribute('aria-label') || el.placeholder || el.tagName)
      .trim().slice(0, 20),
    ring: Boolean(shows),
    offscreenSlide: Boolean(slide && !slide.classList.contains('is-active')),
  }
}"""


@pytest.fixture
def shopper(shop):
    return make_shopper()


def axe_violations(page: Page) -> list[str]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make setup` (npm ci in web/).")
    page.add_script_tag(content=AXE.read_text())
    return page.evaluate(RUN_AXE)


@pytest.mark.parametrize("logged_in", [False, True], ids=["logged-out", "logged-in"])
@pytest.mark.parametrize("width", [390, 1366])
def test_axe_finds_nothing_serious_on_any_route(browser: Browser, shop, shopper, width, logged_in):
    problems = {}
    user = shopper.user if logged_in else None
    with screen(browser, shop.site_url, width, user=user, bypass_csp=True) as page:
        for name, path in routes(shopper, logged_in=logged_in).items():
            settle(page, path)
            headings = page.locator("h1").count()
            found = axe_violations(page)
            if headings != 1:
                found.append(f"{headings} h1 on the page")
            if found:
                problems[name] = found
    assert not problems, problems


def test_the_login_dialog_passes_axe_and_focuses_its_first_field(browser: Browser, shop):
    with screen(browser, shop.site_url, 390, bypass_csp=True) as page:
        settle(page, "/")
        page.locator("header").get_by_role("button", name="登录").click()
        field = page.locator(".login-dialog").get_by_placeholder("用户名 / 手机号 / 邮箱")
        expect(field).to_be_focused()
        assert axe_violations(page) == []


def tab_stops(page: Page, count: int) -> list[dict]:
    stops = []
    for _ in range(count):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused:
            stops.append(focused)
    return stops


@pytest.mark.parametrize("width", [390, 1366])
def test_the_skip_link_comes_first_and_takes_the_keyboard_to_the_content(
    browser: Browser, shop, width
):
    with screen(browser, shop.site_url, width) as page:
        settle(page, "/actual")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="跳到主要内容")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport(ratio=1)
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        page.keyboard.press("Tab")
        # The next stop is inside the page's content, not back in the header.
        assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.mark.parametrize("path", ["/", "/actual"])
def test_every_keyboard_stop_shows_a_focus_ring_and_skips_hidden_slides(
    browser: Browser, shop, path
):
    with screen(browser, shop.site_url, 1366) as page:
        settle(page, path)
        stops = tab_stops(page, 30)
    assert len(stops) >= 10
    assert [s["name"] for s in stops if not s["ring"]] == []
    assert [s["name"] for s in stops if s["offscreenSlide"]] == []


def test_after_a_navigation_the_focus_is_on_the_new_pages_heading(browser: Browser, shop):
    with screen(browser, shop.site_url, 1366) as page:
        settle(page, "/")
        page.locator("header").get_by_role("link", name="实战课").click()
        heading = page.locator("main h1")
        expect(heading).to_have_text("实战课")
        expect(heading).to_be_focused()
        card = page.locator("[data-test=course-card]").first
        name = card.locator(".name").inner_text()
        card.locator(".name").click()
        expect(heading).to_have_text(name)
        expect(heading).to_be_focused()
        page.go_back()
        expect(heading).to_have_text("实战课")
        expect(heading).to_be_focused()


def test_pictures_of_people_have_alt_text_and_the_page_size_select_a_name(
    browser: Browser, shop, shopper
):
    with screen(browser, shop.site_url, 1366, user=shopper.user) as page:
        page.add_init_script(
            "const auth = JSON.parse(localStorage.getItem('luffy.auth'));"
            "auth.icon = '/favicon.svg'; localStorage.setItem('luffy.auth', JSON.stringify(auth))"
        )
        settle(page, f"/course/{shopper.owned.pk}")
        avatar = page.locator("header .user-name img")
        expect(avatar).to_have_attribute("alt", f"{shopper.user.username}的头像")
        teacher = page.locator(".teacher img")
        expect(teacher).to_have_attribute("alt", re.compile(r"\S"))
        settle(page, "/free")
        expect(page.locator(".el-pagination__sizes input")).to_have_accessible_name("每页显示条数")
