"""Defects found trying the shop as a new shopper would (issue 25), each clicked through in
Chromium: a dead session in storage, Enter in the password field, page titles, leaving the
cashier, 播放 on the loaded lesson, a page past the end, free and owned courses, buying while
logged out, one price format, failing requests, and logging out on the server."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Route, expect
from rest_framework_simplejwt.tokens import RefreshToken

from apps.course.management.commands.load_demo import DEMO_USER
from apps.course.models import Course, CourseSection
from apps.order.models import CourseEntitlement, Order
from tests.factories import UserFactory
from tests.web.conftest import choose_from_account_menu, log_in
from tests.web.test_buying_pages import PLAYING, submit_checkout

pytestmark = pytest.mark.browser

SESSION_ENDED = "登录已过期，请重新登录"


@pytest.fixture
def buyer(shop):
    return UserFactory()


def revoked_refresh(user) -> str:
    refresh = RefreshToken.for_user(user)
    refresh.blacklist()
    return str(refresh)


@pytest.mark.parametrize("kind", ["garbage", "expired-and-revoked"])
def test_a_dead_session_in_storage_is_dropped_and_the_public_pages_load(page: Page, kind, buyer):
    if kind == "garbage":
        auth = {"token": "not.a.jwt", "refresh": "garbage", "username": "ghost", "icon": ""}
    else:
        access = RefreshToken.for_user(buyer).access_token
        access.set_exp(lifetime=-RefreshToken.lifetime)
        auth = {"token": str(access), "refresh": revoked_refresh(buyer), "username": "x"}
    page.add_init_script(
        f"if (!sessionStorage.getItem('seeded')) {{ sessionStorage.setItem('seeded', '1');"
        f" localStorage.setItem('luffy.auth', JSON.stringify({auth!r})) }}"
    )
    page.goto("/")

    for row in ("free", "actual", "light"):
        expect(page.locator(f"[data-test=row-{row}] [data-test=course-tile]").first).to_be_visible()
    expect(page.get_by_text("暂无课程")).to_have_count(0)
    expect(page.get_by_text(SESSION_ENDED)).to_be_visible()
    expect(page.locator(".login-dialog")).to_be_hidden()
    expect(page.locator("header").get_by_role("button", name="登录")).to_be_visible()
    assert page.evaluate("localStorage.getItem('luffy.auth')") is None
    page.goto("/actual")
    expect(page.locator("[data-test=course-card]").first).to_be_visible()


def test_enter_in_the_password_field_logs_in_once(page: Page):
    logins: list[str] = []
    page.on("request", lambda r: "/user/user/mul_login/" in r.url and logins.append(r.url))
    page.goto("/")
    page.locator("header").get_by_role("button", name="登录").click()
    dialog = page.locator(".login-dialog")
    dialog.get_by_placeholder("用户名 / 手机号 / 邮箱").fill(DEMO_USER["mobile"])
    dialog.get_by_placeholder("密码").fill(DEMO_USER["password"])
    dialog.get_by_placeholder("密码").press("Enter")

    expect(page.locator("header .user-name")).to_contain_text(DEMO_USER["username"])
    page.wait_for_timeout(500)  # a second request or toast would be on its way by now
    assert len(logins) == 1
    expect(page.locator(".el-message", has_text="欢迎回来")).to_have_count(1)


def test_every_route_names_itself_in_the_title(page: Page, buyer):
    log_in(page, buyer)
    course = Course.objects.get(name="Django框架实战")
    titles = {
        "/actual": "实战课 - 路飞学城",
        "/free": "免费课 - 路飞学城",
        "/search?word=Python": "搜索「Python」 - 路飞学城",
        "/orders": "我的订单 - 路飞学城",
        "/my/courses": "我的课程 - 路飞学城",
        "/pay/success?out_trade_no=202611260000000000000000000000": "支付结果 - 路飞学城",
        "/no/such/page": "页面不存在 - 路飞学城",
        f"/course/{course.pk}": f"{course.name} - 路飞学城",
    }
    for path, title in titles.items():
        page.goto(path)
        expect(page).to_have_title(title)
    # Moving inside the app (no page load) names the new page too, not the previous one's.
    page.locator("header").get_by_role("link", name="轻课").first.click()
    expect(page).to_have_title("轻课 - 路飞学城")
    page.goto("/orders")
    page.locator("header").get_by_role("link", name="免费课").first.click()
    expect(page).to_have_title("免费课 - 路飞学城")


def test_cancelling_at_the_cashier_returns_saying_so_and_offers_to_pay_or_cancel(page: Page, buyer):
    course = Course.objects.get(name="DRF与前后端分离项目")
    log_in(page, buyer)
    page.goto(f"/course/{course.pk}")
    page.get_by_role("button", name="立即购买").click()
    submit_checkout(page)
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    page.get_by_role("button", name="取消").click()

    notice = page.locator("[data-test=unpaid-order]")
    expect(notice).to_contain_text("您已取消支付，订单尚未支付")
    order = Order.objects.get(user=buyer)
    expect(notice).to_contain_text(order.out_trade_no)
    page.shots.take("cancelled")
    notice.get_by_role("button", name="去支付").click()
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    page.get_by_role("button", name="确认付款").click()
    expect(page.get_by_text("支付成功")).to_be_visible()
    assert Order.objects.filter(user=buyer).count() == 1  # the same order, paid


def test_play_on_the_lesson_already_loaded_starts_it(page: Page, buyer):
    course = Course.objects.get(name="Flask轻课")
    CourseEntitlement.objects.create(user=buyer, course=course)
    log_in(page, buyer)
    page.goto(f"/learn/{course.pk}")
    sections = CourseSection.objects.filter(chapter__course=course)
    first = sections.order_by("chapter__chapter", "orders").first()
    expect(page.locator(".now-playing")).to_contain_text(first.name)

    loaded = page.locator("[data-test=section]", has_text=first.name)
    loaded.get_by_role("button", name="播放").click()

    page.wait_for_function(PLAYING)


def test_a_page_number_past_the_end_goes_to_the_last_page(page: Page):
    page.goto("/actual?page=9")

    expect(page).to_have_url(re.compile(r"/actual$"))
    expect(page.locator("[data-test=course-card]").first).to_be_visible()
    expect(page.get_by_text("无效页面")).to_have_count(0)
    expect(page.locator(".count")).to_have_text(re.compile(r"共 [1-9]\d* 门课程"))
    page.goto("/light?page=3&size=2")
    expect(page).to_have_url(re.compile(r"/light\?page=2&size=2$"))
    expect(page.locator("[data-test=course-card]")).to_have_count(1)


def test_a_free_course_says_free_study_and_an_owned_one_says_continue(page: Page, buyer):
    free = Course.objects.get(name="Linux系统基础")
    log_in(page, buyer)
    page.goto(f"/course/{free.pk}")
    expect(page.get_by_role("button", name="立即购买")).to_have_count(0)
    expect(page.locator(".price-box")).to_have_text("免费")
    page.get_by_role("button", name="免费学习").click()
    expect(page).to_have_url(re.compile(f"/learn/{free.pk}$"))

    page.goto(f"/course/{free.pk}")
    expect(page.get_by_role("button", name="继续学习")).to_be_visible()
    expect(page.locator("[data-test=owned]")).to_be_visible()
    expect(page.get_by_role("button", name="免费学习")).to_have_count(0)
    expect(page.get_by_role("button", name="试看")).to_have_count(0)
    expect(page.locator(".price")).to_have_count(0)

    paid = Course.objects.get(name="Go微服务实战")
    CourseEntitlement.objects.create(user=buyer, course=paid)
    page.goto(f"/course/{paid.pk}")
    expect(page.get_by_role("button", name="继续学习")).to_be_visible()
    expect(page.get_by_text("¥499.00")).to_have_count(0)
    expect(page.get_by_role("button", name="立即购买")).to_have_count(0)


def test_buying_while_logged_out_continues_the_purchase_after_login(page: Page):
    course = Course.objects.get(name="Shell脚本轻课")
    page.goto(f"/course/{course.pk}")
    page.get_by_role("button", name="立即购买").click()
    dialog = page.locator(".login-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_placeholder("用户名 / 手机号 / 邮箱").fill(DEMO_USER["mobile"])
    dialog.get_by_placeholder("密码").fill(DEMO_USER["password"])
    dialog.get_by_role("button", name="登录", exact=True).click()

    submit_checkout(page, total="¥9.90")
    expect(page).to_have_url(re.compile("/cashier/gateway.do"))
    expect(page.locator("#amount")).to_have_text("¥9.90")


def test_prices_read_one_way_and_the_count_waits_for_the_answer(page: Page):
    held: list[Route] = []
    page.route(re.compile(r"/api/v1/course/list/\?"), lambda route: held.append(route))
    page.goto("/actual")
    page.wait_for_function("() => document.querySelector('.course-list') !== null")
    expect(page.locator(".course-list")).to_have_attribute("data-loaded", "false")
    expect(page.get_by_text("共 0 门课程")).to_have_count(0)
    for route in held:
        route.continue_()
    page.unroute(re.compile(r"/api/v1/course/list/\?"))
    expect(page.locator(".course-list")).to_have_attribute("data-loaded", "true")
    expect(page.locator(".count")).to_have_text(re.compile(r"共 [1-9]\d* 门课程"))

    card = page.locator("[data-test=course-card]", has_text="Django框架实战")
    expect(card.locator(".pay-box")).to_contain_text("¥199.00")
    expect(card.locator(".pay-box")).to_contain_text("原价 ¥299.00")
    expect(page.locator(".pay-box", has_text="元")).to_have_count(0)
    expect(page.get_by_text("课程分类：")).to_be_visible()
    expect(page.get_by_text("免费试看")).to_have_count(0)


@pytest.mark.parametrize("status", [429, 503, 0], ids=["throttled", "server-error", "no-network"])
def test_a_failing_public_request_shows_the_error_with_retry_not_an_empty_list(page: Page, status):
    failing = {"on": True}

    def fail(route: Route) -> None:
        if not failing["on"]:
            route.continue_()
        elif status == 0:
            route.abort("internetdisconnected")
        else:
            body = json.dumps({"code": status, "msg": "服务繁忙", "wait": 3})
            route.fulfill(status=status, body=body, content_type="application/json")

    page.route(re.compile(r"/api/v1/course/list/\?"), fail)
    page.goto("/")
    row = page.locator("[data-test=row-actual]")
    expect(row.get_by_role("alert")).to_be_visible()
    expect(row.get_by_role("button", name="重试")).to_be_visible()
    expect(page.get_by_text("暂无课程")).to_have_count(0)
    page.shots.take("failed")

    failing["on"] = False
    row.get_by_role("button", name="重试").click()
    expect(row.locator("[data-test=course-tile]").first).to_be_visible()

    failing["on"] = True
    page.goto("/actual")
    expect(page.get_by_role("button", name="重试")).to_be_visible()
    expect(page.get_by_text("该分类下暂无课程")).to_have_count(0)
    failing["on"] = False
    page.get_by_role("button", name="重试").click()
    expect(page.locator("[data-test=course-card]").first).to_be_visible()


def test_logging_out_ends_the_session_on_the_server(page: Page):
    page.goto("/")
    page.locator("header").get_by_role("button", name="登录").click()
    dialog = page.locator(".login-dialog")
    dialog.get_by_placeholder("用户名 / 手机号 / 邮箱").fill(DEMO_USER["mobile"])
    dialog.get_by_placeholder("密码").fill(DEMO_USER["password"])
    dialog.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("header .user-name")).to_be_visible()
    token = page.evaluate("JSON.parse(localStorage.getItem('luffy.auth')).token")
    header = {"Authorization": f"jwt {token}"}
    assert page.request.get("/api/v1/order/", headers=header).status == 200

    choose_from_account_menu(page, "退出")
    expect(page.locator("header").get_by_role("button", name="登录")).to_be_visible()

    assert page.request.get("/api/v1/order/", headers=header).status == 401
