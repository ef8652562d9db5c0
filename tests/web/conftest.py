"""Browser tests: Debian's Chromium, driven by Playwright, against a live server with the built
storefront, the demo catalog and the local Alipay cashier.

Chromium cannot be downloaded here, so Playwright launches the system executable
(`LUFFY_CHROMIUM`, default /usr/bin/chromium); `make test` installs it. A missing browser or a
missing build fails these tests: it never skips them. Screenshots go to tests/web/artifacts/.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect
from rest_framework_simplejwt.tokens import RefreshToken

from tests.support.browser import chromium, watch_csp

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not (settings.STOREFRONT_DIR / "index.html").exists():
        pytest.fail("web/dist is not built: run `make setup` (or `cd web && npm run build`).")
    # A video started by a test's click plays with sound, as it does for a person clicking.
    with chromium("--autoplay-policy=no-user-gesture-required") as browser:
        yield browser


@pytest.fixture
def shop(local_cashier, settings):
    """The live server with the storefront, local media and the local cashier; the demo catalog."""
    settings.ROOT_URLCONF = "tests.web.urls"
    # Links in API bodies are built on configuration, never on the request's Host: the live
    # server is the site here.
    settings.SITE_URL = local_cashier.site_url
    settings.FRONTEND_URL = local_cashier.site_url  # the phone cashier's way back (quit_url)
    settings.MEDIA_BASE_URL = f"{local_cashier.site_url}{settings.MEDIA_URL}"
    call_command("load_demo", "--force", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return local_cashier


@pytest.fixture
def page(browser: Browser, shop, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(
        base_url=shop.site_url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    # Every storefront test also proves the pages it went through keep to the site's CSP.
    violations = watch_csp(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.shots = Shots(page, request.node.name)  # type: ignore[attr-defined]
    page.csp_violations = violations  # type: ignore[attr-defined]
    yield page
    page.shots.take("end")  # type: ignore[attr-defined]
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


# Chromium's phone emulation as a shopper's phone is: 390 x 844, touch, a phone's user agent.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    ),
}


@pytest.fixture
def phone(browser: Browser, shop, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Like `page`, in phone emulation."""
    context = browser.new_context(base_url=shop.site_url, locale="zh-CN", **PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.shots = Shots(page, request.node.name)  # type: ignore[attr-defined]
    yield page
    page.shots.take("end")  # type: ignore[attr-defined]
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


class Shots:
    """Numbered full-page screenshots of one test, kept as artifacts (gitignored)."""

    def __init__(self, page: Page, test_name: str) -> None:
        self.page = page
        self.prefix = re.sub(r"[^\w-]+", "_", test_name)
        self.count = 0

    def take(self, label: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        self.count += 1
        path = ARTIFACTS / f"{self.prefix}-{self.count:02d}-{label}.png"
        # Transitions finished: a dialog mid fade-in would look see-through.
        self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path


def log_in(page: Page, user, *, access_expired: bool = False) -> RefreshToken:
    """Arrive logged in, the way the storefront keeps a session: tokens in localStorage."""
    refresh = RefreshToken.for_user(user)
    access = refresh.access_token
    if access_expired:
        access.set_exp(lifetime=-timedelta(minutes=1))
    auth = {
        "token": str(access),
        "refresh": str(refresh),
        "username": user.username,
        "icon": "",
    }
    page.add_init_script(f"localStorage.setItem('luffy.auth', JSON.stringify({auth!r}))")
    return refresh


def choose_from_account_menu(page: Page, item: str) -> None:
    """Open the header's account menu the way a shopper does, by a click or a tap (it has no
    hover trigger: a phone has no hover), and choose `item` once the menu stands still."""
    page.locator("header .user-name").click()
    menu_item = page.get_by_role("menuitem", name=item)
    expect(menu_item).to_be_visible()
    menu_item.click()


class SmsOutbox(logging.Handler):
    """Codes the development SMS backend (`SMS_BACKEND=log`) writes to the log, by mobile."""

    PATTERN = re.compile(r"SMS code for (\d+): (\d{6})")

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.codes: dict[str, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = self.PATTERN.search(record.getMessage())
        if match:
            self.codes.setdefault(match.group(1), []).append(match.group(2))

    def last_code(self, mobile: str) -> str:
        return self.codes[mobile][-1]


@pytest.fixture
def sms_outbox() -> Iterator[SmsOutbox]:
    outbox = SmsOutbox()
    logger = logging.getLogger("luffy.sms")
    previous = logger.level
    logger.addHandler(outbox)
    logger.setLevel(logging.INFO)
    yield outbox
    logger.removeHandler(outbox)
    logger.setLevel(previous)
