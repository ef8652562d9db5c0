"""Every route of the storefront with the data it needs, and the screen widths it must fit
(issue 25): the layout and accessibility tests visit them all, logged in and out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from apps.coupon import services as coupon_services
from apps.course.models import Course
from apps.order import services
from apps.order.models import Order
from tests.coupon.factories import CouponFactory
from tests.factories import UserFactory
from tests.support.alipay import random_trade_no
from tests.web.conftest import TIMEOUT_MS, log_in

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
# Phones (touch, phone user agent), a tablet held upright, a laptop.
WIDTHS = (360, 390, 768, 1366)
PHONE_MAX_WIDTH = 430


@dataclass(frozen=True)
class Shopper:
    """A shopper who owns a course (paid), has an unpaid order for another, a coupon, and a
    third course to check out with it."""

    user: object
    owned: Course
    unpaid: Order
    paid: Order
    checkout: Course


def make_shopper() -> Shopper:
    user = UserFactory()
    owned = Course.objects.get(name="Django框架实战")
    other = Course.objects.get(name="Go微服务实战")
    orders = []
    for course in (owned, other):
        price = Course.objects.with_current_price().get(pk=course.pk).real_price
        placed = services.place_order(buyer=user, course_ids=[course.pk], total_amount=price)
        orders.append(placed.order)
    paid, unpaid = orders
    services.settle_payment(
        paid.out_trade_no, trade_no=random_trade_no(), total_amount=paid.total_amount, paid_at=None
    )
    paid.refresh_from_db()
    assert paid.total_amount > Decimal("0")
    coupon = CouponFactory(name="全场立减10元")
    coupon_services.claim_coupon(user, coupon_id=coupon.pk)
    checkout = Course.objects.get(name="Vue3企业级项目实战")
    return Shopper(user=user, owned=owned, unpaid=unpaid, paid=paid, checkout=checkout)


def routes(shopper: Shopper, *, logged_in: bool) -> dict[str, str]:
    """name -> path; pages that need an account are visited only with one."""
    course = shopper.owned.pk
    pages = {
        "home": "/",
        "free": "/free",
        "actual": "/actual",
        "light": "/light",
        "search": "/search?word=Python",
        "search-none": "/search?word=nothing-matches-this",
        "course": f"/course/{course}",
        "pay-success": f"/pay/success?out_trade_no={shopper.paid.out_trade_no}",
        "coupons": "/coupons",
        "flash": "/flash",
        "not-found": "/no/such/page",
    }
    if logged_in:
        pages |= {
            "orders": "/orders",
            "my-courses": "/my/courses",
            "learn": f"/learn/{course}",
            "my-coupons": "/my/coupons",
            "checkout": f"/checkout?courses={shopper.checkout.pk}",
        }
    else:
        # Opens the login dialog over the home page.
        pages |= {"orders-logged-out": "/orders"}
    return pages


@contextmanager
def screen(
    browser: Browser,
    base_url: str,
    width: int,
    *,
    user=None,
    height: int = 844,
    bypass_csp: bool = False,
) -> Iterator[Page]:
    """A page at `width` CSS pixels: a phone (touch, phone user agent) up to 430 px.
    `bypass_csp` lets a test inject its own script (axe-core) whatever the site's policy says."""
    phone = width <= PHONE_MAX_WIDTH
    options: dict = {
        "viewport": {"width": width, "height": height},
        "locale": "zh-CN",
        "bypass_csp": bypass_csp,
    }
    if phone:
        options |= {"is_mobile": True, "has_touch": True, "user_agent": PHONE_UA}
    context: BrowserContext = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if user is not None:
        log_in(page, user)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def settle(page: Page, path: str) -> None:
    """Open `path` and wait until its requests are answered and its content drawn."""
    page.goto(path)
    # A video keeps its stream open: the page itself is drawn by then.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=5000)
    page.wait_for_selector("main h1, .el-dialog")
    page.wait_for_selector(".el-skeleton", state="detached")
    page.wait_for_timeout(300)  # transitions (dialogs, carousel) end
