"""A shopper on a phone buys through Alipay's phone cashier (alipay.trade.wap.pay, the local
cashier's phone page), ends paid and watches the lesson; leaving the cashier brings them back
to the course, which offers to pay or cancel the order."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from apps.course.models import Course, CourseSection
from apps.order.models import Order
from tests.factories import UserFactory
from tests.web.conftest import log_in
from tests.web.test_buying_pages import PLAYING, submit_checkout

pytestmark = pytest.mark.browser


@pytest.fixture
def buyer(shop):
    return UserFactory()


def test_a_phone_purchase_goes_through_the_phone_cashier_ends_paid_and_the_lesson_plays(
    phone: Page, buyer
):
    course = Course.objects.get(name="Django框架实战")
    log_in(phone, buyer)
    phone.goto(f"/course/{course.pk}")
    phone.get_by_role("button", name="立即购买").click()
    submit_checkout(phone)

    expect(phone).to_have_url(re.compile("/cashier/gateway.do"))
    query = parse_qs(urlsplit(phone.url).query)
    assert query["method"] == ["alipay.trade.wap.pay"]
    biz = json.loads(query["biz_content"][0])
    assert biz["product_code"] == "QUICK_WAP_WAY"
    assert urlsplit(biz["quit_url"]).path == f"/course/{course.pk}"
    expect(phone.get_by_text("手机网站支付")).to_be_visible()
    expect(phone.locator("#amount")).to_have_text(f"¥{course.real_price}")
    phone.shots.take("phone-cashier")
    phone.get_by_role("button", name="确认付款").tap()

    expect(phone).to_have_url(re.compile(r"/pay/success\?.*out_trade_no="))
    expect(phone.get_by_text("支付成功")).to_be_visible()
    order = Order.objects.get(user=buyer)
    assert order.order_status == Order.Status.PAID
    phone.shots.take("paid")

    phone.get_by_role("button", name="继续学习").tap()
    expect(phone).to_have_url(re.compile(f"/learn/{course.pk}$"))
    paid = CourseSection.objects.filter(chapter__course=course, free_trial=False).first()
    phone.locator("[data-test=section]", has_text=paid.name).get_by_role("button").tap()
    expect(phone.locator(".now-playing")).to_contain_text(paid.name)
    phone.wait_for_function(PLAYING)
    phone.shots.take("learning")


def test_leaving_the_phone_cashier_returns_to_the_course_which_offers_to_pay_or_cancel(
    phone: Page, buyer
):
    course = Course.objects.get(name="Go微服务实战")
    log_in(phone, buyer)
    phone.goto(f"/course/{course.pk}")
    phone.get_by_role("button", name="立即购买").click()
    submit_checkout(phone)
    expect(phone).to_have_url(re.compile("/cashier/gateway.do"))
    phone.get_by_role("button", name="取消").tap()

    order = Order.objects.get(user=buyer)
    expect(phone).to_have_url(re.compile(f"/course/{course.pk}\\?unpaid={order.out_trade_no}$"))
    notice = phone.locator("[data-test=unpaid-order]")
    expect(notice).to_contain_text("您已取消支付，订单尚未支付")
    expect(notice.get_by_role("button", name="去支付")).to_be_visible()
    phone.shots.take("back-on-the-course")
    notice.get_by_role("button", name="取消订单").tap()
    phone.get_by_role("dialog").get_by_role("button", name="取消订单").tap()
    expect(phone.get_by_text("订单已取消")).to_be_visible()
    expect(notice).to_have_count(0)
    order.refresh_from_db()
    assert order.order_status == Order.Status.CANCELLED
