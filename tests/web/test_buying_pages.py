"""A shopper buys in Chromium: a paid course through 确认订单 and the local Alipay cashier, a
free course, a price that changed under the page, and an unpaid order cancelled from 我的订单."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Page, expect

from apps.course.models import Course, CourseSection
from apps.order.models import Order
from tests.factories import UserFactory
from tests.web.conftest import TIMEOUT_MS, log_in

pytestmark = pytest.mark.browser

PLAYING = (
    "() => { const v = document.querySelector('video[data-test=player]');"
    " return v && v.currentTime > 0.5 && !v.paused }"
)


@pytest.fixture
def buyer(shop):
    return UserFactory()


def submit_checkout(page: Page, *, total: str | None = None) -> None:
    """On 确认订单 (after 立即购买): check the amount to pay when given, then 提交订单."""
    # After a login the checkout opens behind the dialog's own request: give it the page's time.
    expect(page).to_have_url(re.compile(r"/checkout\?courses="), timeout=TIMEOUT_MS)
    if total is not None:
        expect(page.locator("[data-test=checkout-total]")).to_have_text(total)
    page.get_by_role("button", name="提交订单").click()


def test_buying_a_paid_course_through_the_cashier_ends_on_success_and_every_section_plays(
    page: Page, buyer
):
    course = Course.objects.get(name="Django框架实战")
    log_in(page, buyer)
    page.goto(f"/course/{course.pk}")
    page.get_by_role("button", name="立即购买").click()
    submit_checkout(page)

    # The local cashier (apps/cashier) stands where Alipay's page would.
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    expect(page.get_by_text(str(course.real_price))).to_be_visible()
    page.shots.take("cashier")
    page.get_by_role("button", name="确认付款").click()

    expect(page).to_have_url(re.compile(r"/pay/success\?.*out_trade_no="))
    expect(page.get_by_text("支付成功")).to_be_visible()
    expect(page.locator(".courses")).to_contain_text(course.name)
    page.shots.take("paid")
    order = Order.objects.get(user=buyer)
    assert order.order_status == Order.Status.PAID
    assert order.total_amount == course.real_price

    page.get_by_role("button", name="继续学习").click()
    expect(page).to_have_url(re.compile(f"/learn/{course.pk}$"))
    paid = CourseSection.objects.filter(chapter__course=course, free_trial=False).first()
    page.locator("[data-test=section]", has_text=paid.name).get_by_role("button").click()
    expect(page.locator(".now-playing")).to_contain_text(paid.name)
    page.wait_for_function(PLAYING)
    page.shots.take("learning")

    page.goto("/my/courses")
    expect(page.locator("[data-test=course-tile]")).to_have_text(re.compile(course.name))
    page.goto(f"/course/{course.pk}")
    expect(page.get_by_role("button", name="继续学习")).to_be_visible()


def test_a_free_course_opens_at_once_and_goes_to_the_study_page(page: Page, buyer):
    course = Course.objects.get(name="Python入门基础")
    log_in(page, buyer)
    page.goto(f"/course/{course.pk}")
    page.get_by_role("button", name="免费学习").click()
    expect(page.get_by_text("已开通")).to_be_visible()
    expect(page).to_have_url(re.compile(f"/learn/{course.pk}$"))
    expect(page.locator("[data-test=section]")).to_have_count(
        CourseSection.objects.filter(chapter__course=course).count()
    )
    assert buyer.entitlements.filter(course=course).exists()


def test_a_price_changed_after_the_checkout_opened_is_said_and_the_new_amount_shown(
    page: Page, buyer
):
    course = Course.objects.get(name="DRF与前后端分离项目")
    log_in(page, buyer)
    page.goto(f"/course/{course.pk}")
    expect(page.locator(".price-box")).to_contain_text("399.00")
    page.get_by_role("button", name="立即购买").click()
    expect(page.locator("[data-test=checkout-total]")).to_have_text("¥399.00")
    Course.objects.filter(pk=course.pk).update(price=Decimal("429.00"))

    page.get_by_role("button", name="提交订单").click()
    notice = page.locator("[data-test=checkout-notice]")
    expect(notice).to_contain_text("价格已变动")
    expect(page.locator("[data-test=checkout-total]")).to_have_text("¥429.00")
    assert not Order.objects.filter(user=buyer).exists()
    page.shots.take("changed")
    submit_checkout(page, total="¥429.00")
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    assert Order.objects.get(user=buyer).total_amount == Decimal("429.00")


def test_an_unpaid_order_is_cancelled_from_my_orders(page: Page, buyer):
    course = Course.objects.get(name="Go微服务实战")
    log_in(page, buyer)
    page.goto(f"/course/{course.pk}")
    page.get_by_role("button", name="立即购买").click()
    submit_checkout(page)
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))

    page.goto("/orders")
    order = page.locator("[data-test=order]")
    expect(order).to_contain_text(course.name)
    expect(order).to_contain_text("未支付")
    expect(order).to_contain_text("¥499.00")
    page.shots.take("unpaid")
    order.get_by_role("button", name="取消订单").click()
    page.get_by_role("dialog").get_by_role("button", name="取消订单").click()
    expect(order).to_contain_text("已取消")
    expect(order.get_by_role("button", name="去支付")).to_have_count(0)
    assert Order.objects.get(user=buyer).order_status == Order.Status.CANCELLED


def test_an_unpaid_order_is_paid_from_my_orders_through_its_own_trade(page: Page, buyer):
    course = Course.objects.get(name="Vue3企业级项目实战")
    log_in(page, buyer)
    page.goto(f"/course/{course.pk}")
    page.get_by_role("button", name="立即购买").click()
    submit_checkout(page)
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    first = Order.objects.get(user=buyer)

    page.goto("/orders")
    page.locator("[data-test=order]").get_by_role("button", name="去支付").click()
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    page.get_by_role("button", name="确认付款").click()
    expect(page.get_by_text("支付成功")).to_be_visible()

    # The server handed the open order out again: one order, paid, no second trade.
    first.refresh_from_db()
    assert first.order_status == Order.Status.PAID
    assert first.total_amount == course.real_price
    assert Order.objects.filter(user=buyer).count() == 1
    page.goto("/orders")
    expect(page.locator("[data-test=order]")).to_have_count(1)
    page.shots.take("orders")


def test_the_return_page_keeps_asking_until_the_payment_is_confirmed(page: Page, buyer):
    course = Course.objects.get(name="Shell脚本轻课")
    log_in(page, buyer)
    page.goto(f"/course/{course.pk}")
    page.get_by_role("button", name="立即购买").click()
    submit_checkout(page)
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    confirm = page.locator("form[action$='/confirm/']")
    confirm_url = urljoin(page.url, confirm.get_attribute("action"))
    ticket = confirm.locator("input[name=ticket]").get_attribute("value")
    order = Order.objects.get(user=buyer)

    # Back on the shop before Alipay's notify: the return page waits and asks again.
    page.goto(f"/pay/success?out_trade_no={order.out_trade_no}")
    expect(page.get_by_text("支付结果确认中")).to_be_visible()
    page.shots.take("pending")
    # The buyer pays meanwhile (the cashier's 确认付款 form, posted beside the page).
    paid = page.request.post(confirm_url, form={"ticket": ticket}, max_redirects=0)
    assert paid.status == 302
    expect(page.get_by_text("支付成功")).to_be_visible(timeout=15_000)
    expect(page.locator(".courses")).to_contain_text(course.name)


def test_the_return_page_says_when_the_order_does_not_exist(page: Page):
    page.goto("/pay/success?out_trade_no=202611260000000000000000000000")
    expect(page.get_by_text("订单不存在")).to_be_visible()
