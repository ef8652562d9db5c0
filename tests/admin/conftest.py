"""Admin flows in a real browser: Debian's Chromium driven by Playwright against pytest-django's
live server, logged in through the admin's own login form.

Chromium is launched by tests/support/browser.py, as for the storefront's tests; a missing
Chromium fails these tests, never skips them. Screenshots go to tests/admin/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.factories import TEST_PASSWORD, UserFactory
from tests.support.browser import chromium, watch_csp

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def staff(transactional_db):
    return UserFactory(username="店长", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_page(browser: Browser, live_server, staff, request) -> Iterator[Page]:
    """A page logged in to the admin as a superuser, in Chinese."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 1366, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    violations = watch_csp(context)  # every admin page a test opens keeps to the site's CSP
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.shot = lambda label: shoot(page, request.node.name, label)  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


def shoot(page: Page, test_name: str, label: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w-]+", "_", test_name)
    path = ARTIFACTS / f"{name}-{label}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
