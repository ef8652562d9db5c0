"""The flash sale in Chromium: found from the home page and the header, bought at the sale price
through the local cashier (desktop and phone), sold out, coming, and counted down on the
server's clock even when the device's is an hour off."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.course.models import Course
from apps.order.models import Order
from apps.promotion import services as promotion
from apps.promotion.models import FlashSale
from tests.factories import UserFactory
from tests.web.conftest import log_in

pytestmark = pytest.mark.browser

CLOCK = re.compile(r"^(\d+天 )?\d\d:\d\d:\d\d$")


@pytest.fixture
def buyer(shop):
    return UserFactory()


@pytest.fixture
def demo_sale(shop) -> FlashSale:
    """load_demo's sale: DRF与前后端分离项目 at ¥99.00, 100 seats, on now."""
    return FlashSale.objects.get(course__name="DRF与前后端分离项目")


def make_sale(course_name: str, *, seats: int, starts_in=timedelta(hours=-1)) -> FlashSale:
    starts_at = timezone.now() + starts_in
    return FlashSale.objects.create(
        course=Course.objects.get(name=course_name),
        sale_price=Decimal("49.00"),
        seats=seats,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=1),
    )


def sale_card(page: Page, sale: FlashSale):
    return page.locator(f"[data-test=flash-sale-{sale.pk}]")


def test_a_sale_found_from_the_home_page_is_bought_through_the_cashier_at_the_sale_price(
    page: Page, buyer, demo_sale
):
    log_in(page, buyer)
    page.goto("/")
    page.locator("[data-test=flash-banner]").click()
    expect(page).to_have_url(re.compile("/flash$"))
    expect(page).to_have_title("限时秒杀 - 路飞学城")
    card = sale_card(page, demo_sale)
    expect(card.locator("[data-test=sale-price]")).to_have_text("¥99.00")
    expect(card).to_contain_text("原价 ¥399.00")
    expect(card.locator("[data-test=seats-left]")).to_have_text("剩余 100 / 100 席")
    expect(card.locator("[data-test=sale-state]")).to_have_text("抢购中")
    expect(card.locator("[data-test=countdown]")).to_have_text(CLOCK)
    page.shots.take("flash")

    card.get_by_role("button", name="立即抢购").click()
    dialog = page.get_by_role("dialog", name="抢购成功")
    expect(dialog.locator("[data-test=pay-window]")).to_contain_text("前完成支付")
    expect(dialog).to_contain_text("¥99.00")
    page.shots.take("bought")
    order = Order.objects.get(user=buyer)
    assert order.total_amount == Decimal("99.00")
    assert order.expires_at - order.created_time <= timedelta(minutes=6)
    dialog.get_by_role("button", name="去支付").click()

    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    expect(page.locator("#amount")).to_have_text("¥99.00")
    page.get_by_role("button", name="确认付款").click()
    expect(page.get_by_text("支付成功")).to_be_visible()
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID

    # The seat is sold: one fewer on sale.
    page.goto("/flash")
    expect(sale_card(page, demo_sale).locator("[data-test=seats-left]")).to_have_text(
        "剩余 99 / 100 席"
    )


def test_a_phone_buys_a_seat_from_the_header_link_and_pays_at_the_sale_price(
    phone: Page, buyer, demo_sale
):
    log_in(phone, buyer)
    phone.goto("/")
    phone.get_by_role("button", name="菜单").tap()
    phone.locator("header").get_by_role("link", name="限时秒杀").tap()
    card = sale_card(phone, demo_sale)
    card.get_by_role("button", name="立即抢购").tap()
    dialog = phone.get_by_role("dialog", name="抢购成功")
    expect(dialog.locator("[data-test=pay-window]")).to_contain_text("前完成支付")
    phone.shots.take("bought")
    dialog.get_by_role("button", name="去支付").tap()
    expect(phone.locator("#amount")).to_have_text("¥99.00")
    assert "alipay.trade.wap.pay" in phone.url  # Alipay's phone cashier, as for order/pay/
    phone.get_by_role("button", name="确认付款").tap()
    expect(phone.get_by_text("支付成功")).to_be_visible()
    order = Order.objects.get(user=buyer)
    assert (order.order_status, order.total_amount) == (Order.Status.PAID, Decimal("99.00"))


def test_a_seat_left_unpaid_is_paid_later_from_my_orders_at_the_sale_price(
    page: Page, buyer, demo_sale
):
    log_in(page, buyer)
    page.goto("/flash")
    sale_card(page, demo_sale).get_by_role("button", name="立即抢购").click()
    expect(page.get_by_role("dialog", name="抢购成功")).to_be_visible()
    page.goto("/orders")  # the buyer wanders off, then comes back to pay
    order = page.locator("[data-test=order]")
    expect(order).to_contain_text("¥99.00")
    order.get_by_role("button", name="去支付").click()

    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    expect(page.locator("#amount")).to_have_text("¥99.00")
    page.get_by_role("button", name="确认付款").click()
    expect(page.get_by_text("支付成功")).to_be_visible()
    [paid] = Order.objects.filter(user=buyer)
    assert (paid.order_status, paid.total_amount) == (Order.Status.PAID, Decimal("99.00"))


def test_a_sold_out_sale_says_so_and_cannot_be_bought(page: Page, buyer):
    sold_out = make_sale("Go微服务实战", seats=1)
    promotion.buy_flash_sale(sold_out.pk, buyer=UserFactory())
    log_in(page, buyer)
    page.goto("/flash")
    card = sale_card(page, sold_out)
    expect(card.locator("[data-test=sale-state]")).to_have_text("已抢光")
    expect(card.locator("[data-test=seats-left]")).to_have_text("剩余 0 / 1 席")
    expect(card.get_by_role("button", name="已抢光")).to_be_disabled()
    page.shots.take("sold-out")
    assert not Order.objects.filter(user=buyer).exists()


def test_the_last_seat_taken_while_the_page_was_open_is_refused_clearly(page: Page, buyer):
    sale = make_sale("Vue3企业级项目实战", seats=1)
    log_in(page, buyer)
    page.goto("/flash")
    card = sale_card(page, sale)
    expect(card.locator("[data-test=sale-state]")).to_have_text("抢购中")
    promotion.buy_flash_sale(sale.pk, buyer=UserFactory())  # someone else was faster

    card.get_by_role("button", name="立即抢购").click()
    expect(card.locator("[data-test=sale-refused]")).to_be_visible()
    expect(card.locator("[data-test=sale-state]")).to_have_text("已抢光")
    expect(card.get_by_role("button", name="已抢光")).to_be_disabled()
    page.shots.take("refused")
    assert not Order.objects.filter(user=buyer).exists()


def test_a_coming_sale_counts_down_on_the_servers_clock_not_the_devices(page: Page, buyer):
    coming = make_sale("Go微服务实战", seats=5, starts_in=timedelta(minutes=30))
    # The device's clock is an hour fast: by it the sale would have started half an hour ago.
    page.clock.set_system_time(timezone.now() + timedelta(hours=1))
    log_in(page, buyer)
    page.goto("/flash")
    card = sale_card(page, coming)
    expect(card.locator("[data-test=sale-state]")).to_have_text("即将开始")
    expect(card).to_contain_text("距开始")
    expect(card.locator("[data-test=countdown]")).to_have_text(re.compile(r"^00:(29|30):\d\d$"))
    expect(card.get_by_role("button", name="即将开始")).to_be_disabled()
    page.shots.take("coming")
