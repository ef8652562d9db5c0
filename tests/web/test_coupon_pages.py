"""Coupons in Chromium: claimed in 领券中心, shown on the course, chosen on 确认订单 and paid
through the local cashier at the discounted amount (desktop and phone); a code redeemed; a
coupon that expired while the checkout was open; 我的优惠券 and its tabs."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.coupon import services as coupons
from apps.coupon.models import Coupon, UserCoupon
from apps.course.models import Course
from apps.order.models import Order
from tests.coupon.factories import CouponFactory
from tests.factories import UserFactory
from tests.web.conftest import choose_from_account_menu, log_in

pytestmark = pytest.mark.browser

COURSE = "Django框架实战"


@pytest.fixture
def buyer(shop):
    return UserFactory()


@pytest.fixture
def coupon(shop):
    return CouponFactory(
        name="全场满100减30",
        kind=Coupon.Kind.THRESHOLD,
        amount=Decimal("30.00"),
        min_spend=Decimal("100.00"),
    )


def price_now(course: Course) -> Decimal:
    return Course.objects.with_current_price().get(pk=course.pk).real_price


def pay_at_the_cashier(page: Page, amount: Decimal) -> None:
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    expect(page.locator("#amount")).to_have_text(f"¥{amount}")
    page.shots.take("cashier")
    page.get_by_role("button", name="确认付款").click()
    expect(page).to_have_url(re.compile(r"/pay/success\?.*out_trade_no="))
    expect(page.get_by_text("支付成功")).to_be_visible()


def test_a_claimed_coupon_is_chosen_at_checkout_and_the_order_is_paid_at_the_discount(
    page: Page, buyer, coupon
):
    course = Course.objects.get(name=COURSE)
    due = price_now(course) - Decimal("30.00")
    log_in(page, buyer)
    page.goto("/coupons")
    expect(page).to_have_title("领券中心 - 路飞学城")
    card = page.locator("[data-test=coupon-card]", has_text=coupon.name)
    expect(card).to_contain_text("¥30.00")
    expect(card).to_contain_text("满¥100.00可用")
    page.shots.take("coupon-center")
    card.get_by_role("button", name="领取").click()
    expect(card.get_by_role("button", name="已领取")).to_be_disabled()
    held = UserCoupon.objects.get(user=buyer, coupon=coupon)

    page.goto(f"/course/{course.pk}")
    expect(page.locator("[data-test=usable-coupons]")).to_contain_text("最多可减 ¥30.00")
    # The course page knows it is claimed (the per-user limit is 1).
    offered = page.locator("[data-test=course-coupon]", has_text=coupon.name)
    expect(offered.get_by_role("button", name="已领取")).to_be_disabled()
    page.get_by_role("button", name="立即购买").click()
    expect(page).to_have_url(re.compile(rf"/checkout\?courses={course.pk}$"))
    expect(page).to_have_title("确认订单 - 路飞学城")
    offer = page.locator("[data-test=coupon-offer]", has_text=coupon.name)
    expect(offer).to_contain_text("最优")
    expect(offer.locator("input")).to_be_checked()
    expect(page.locator("[data-test=checkout-discount]")).to_have_text("-¥30.00")
    expect(page.locator("[data-test=checkout-total]")).to_have_text(f"¥{due}")
    page.shots.take("checkout")

    # 不使用优惠券 prices it again at the full price; choosing the coupon again takes it off.
    page.locator("[data-test=no-coupon]").click()
    expect(page.locator("[data-test=checkout-total]")).to_have_text(f"¥{price_now(course)}")
    offer.click()
    expect(page.locator("[data-test=checkout-total]")).to_have_text(f"¥{due}")
    page.get_by_role("button", name="提交订单").click()
    pay_at_the_cashier(page, due)

    order = Order.objects.get(user=buyer)
    assert order.order_status == Order.Status.PAID
    assert order.total_amount == due
    held.refresh_from_db()
    assert held.status == UserCoupon.Status.USED

    choose_from_account_menu(page, "我的优惠券")
    expect(page).to_have_url(re.compile("/my/coupons$"))
    expect(page.locator("[data-test=my-coupon]")).to_have_count(0)
    page.get_by_role("tab", name="已使用").click()
    used = page.locator("[data-test=my-coupon]", has_text=coupon.name)
    expect(used).to_contain_text("已使用")
    page.shots.take("my-coupons-used")


def test_a_phone_buys_with_a_coupon_through_the_phone_cashier(phone: Page, buyer, coupon):
    course = Course.objects.get(name=COURSE)
    due = price_now(course) - Decimal("30.00")
    log_in(phone, buyer)
    phone.goto(f"/course/{course.pk}")
    phone.locator("[data-test=course-coupon]", has_text=coupon.name).get_by_role(
        "button", name="领取"
    ).tap()
    expect(phone.locator("[data-test=usable-coupons]")).to_contain_text("最多可减 ¥30.00")
    phone.get_by_role("button", name="立即购买").tap()
    expect(phone.locator("[data-test=checkout-total]")).to_have_text(f"¥{due}")
    phone.shots.take("checkout")
    phone.get_by_role("button", name="提交订单").tap()

    expect(phone).to_have_url(re.compile("/cashier/gateway.do"))
    query = parse_qs(urlsplit(phone.url).query)
    assert query["method"] == ["alipay.trade.wap.pay"]
    assert json.loads(query["biz_content"][0])["total_amount"] == str(due)
    phone.get_by_role("button", name="确认付款").tap()
    expect(phone.get_by_text("支付成功")).to_be_visible()
    order = Order.objects.get(user=buyer)
    assert (order.order_status, order.total_amount) == (Order.Status.PAID, due)


def test_claiming_logged_out_asks_to_log_in_first(page: Page, coupon):
    page.goto("/coupons")
    page.locator("[data-test=coupon-card]", has_text=coupon.name).get_by_role(
        "button", name="领取"
    ).click()
    expect(page.locator(".login-dialog")).to_be_visible()
    expect(page.get_by_text("请先登录再领取")).to_be_visible()
    assert not UserCoupon.objects.exists()


def test_a_code_is_redeemed_and_a_wrong_one_is_refused(page: Page, buyer):
    CouponFactory(
        name="新人立减20", amount=Decimal("20.00"), obtain=Coupon.Obtain.CODE, code="LUFFY2026"
    )
    log_in(page, buyer)
    page.goto("/coupons")
    box = page.get_by_role("textbox", name="兑换码")
    box.fill("NOT-A-CODE")
    page.get_by_role("button", name="兑换").click()
    expect(page.locator("[data-test=redeem-error]")).to_be_visible()
    assert not UserCoupon.objects.filter(user=buyer).exists()

    box.fill(" luffy2026 ")
    page.get_by_role("button", name="兑换").click()
    expect(page.locator("[data-test=redeemed]")).to_contain_text("已兑换「新人立减20」")
    assert UserCoupon.objects.filter(user=buyer, coupon__code="LUFFY2026").count() == 1
    page.get_by_role("link", name="我的优惠券").first.click()
    expect(page.locator("[data-test=my-coupon]", has_text="新人立减20")).to_contain_text("去使用")
    page.shots.take("my-coupons")


def test_a_coupon_that_expired_while_checking_out_is_said_and_the_full_price_shown(
    page: Page, buyer, coupon
):
    course = Course.objects.get(name=COURSE)
    held = coupons.claim_coupon(buyer, coupon_id=coupon.pk)
    log_in(page, buyer)
    page.goto(f"/checkout?courses={course.pk}")
    expect(page.locator("[data-test=checkout-discount]")).to_have_text("-¥30.00")
    UserCoupon.objects.filter(pk=held.pk).update(valid_until=timezone.now() - timedelta(minutes=1))

    page.get_by_role("button", name="提交订单").click()
    expect(page.locator("[data-test=checkout-notice]")).to_be_visible()
    expect(page.locator("[data-test=checkout-total]")).to_have_text(f"¥{price_now(course)}")
    expect(page.locator("[data-test=coupon-offer]")).to_have_count(0)
    page.shots.take("expired")
    assert not Order.objects.filter(user=buyer).exists()

    page.goto("/my/coupons?status=expired")
    expect(page.locator("[data-test=my-coupon]", has_text=coupon.name)).to_contain_text("已过期")


def test_an_unpaid_order_with_a_coupon_is_paid_from_my_orders_with_its_coupon(
    page: Page, buyer, coupon
):
    course = Course.objects.get(name=COURSE)
    due = price_now(course) - Decimal("30.00")
    coupons.claim_coupon(buyer, coupon_id=coupon.pk)
    log_in(page, buyer)
    page.goto(f"/checkout?courses={course.pk}")
    expect(page.locator("[data-test=checkout-total]")).to_have_text(f"¥{due}")
    page.get_by_role("button", name="提交订单").click()
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    first = Order.objects.get(user=buyer)

    # Left at the cashier; 去支付 hands out the same order, its coupon still applied.
    page.goto("/orders")
    page.locator("[data-test=order]").get_by_role("button", name="去支付").click()
    pay_at_the_cashier(page, due)
    first.refresh_from_db()
    assert (first.order_status, first.total_amount) == (Order.Status.PAID, due)
    assert Order.objects.filter(user=buyer).count() == 1
    assert UserCoupon.objects.get(user=buyer).status == UserCoupon.Status.USED
