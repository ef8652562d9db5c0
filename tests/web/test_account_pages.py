"""A visitor logs in (password or SMS code), registers and logs out in the login dialog; every
refusal the API gives is shown there."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.course.management.commands.load_demo import DEMO_USER
from tests.factories import TEST_PASSWORD, UserFactory
from tests.web.conftest import choose_from_account_menu, log_in

pytestmark = pytest.mark.browser


def open_dialog(page: Page, tab: str):
    page.goto("/")
    page.locator("header").get_by_role("button", name="登录").click()
    dialog = page.locator(".login-dialog")
    dialog.get_by_role("tab", name=tab).click()
    return dialog


def form(dialog):
    """The visible tab of the dialog (every tab's form is in the page, the others hidden)."""
    return dialog.get_by_role("tabpanel")


def account_menu(page: Page):
    return page.locator("header .user-name")


def test_password_login_shows_the_account_menu_and_logout_returns_to_the_login_button(page: Page):
    dialog = open_dialog(page, "密码登录")
    form(dialog).get_by_placeholder("用户名 / 手机号 / 邮箱").fill(DEMO_USER["mobile"])
    form(dialog).get_by_placeholder("密码").fill(DEMO_USER["password"])
    page.shots.take("filled")
    form(dialog).get_by_role("button", name="登录", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(account_menu(page)).to_contain_text(DEMO_USER["username"])

    choose_from_account_menu(page, "我的订单")
    expect(page).to_have_url(re.compile("/orders$"))
    expect(page.locator("h1")).to_have_text("我的订单")
    page.shots.take("orders")

    choose_from_account_menu(page, "退出")
    expect(page.locator("header").get_by_role("button", name="登录")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
    assert page.evaluate("localStorage.getItem('luffy.auth')") is None


def test_a_wrong_password_shows_the_servers_message_and_logs_nobody_in(page: Page):
    dialog = open_dialog(page, "密码登录")
    form(dialog).get_by_placeholder("用户名 / 手机号 / 邮箱").fill(DEMO_USER["username"])
    form(dialog).get_by_placeholder("密码").fill("not-the-password")
    form(dialog).get_by_role("button", name="登录", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("用户名或密码错误")
    page.shots.take("refused")
    expect(account_menu(page)).to_have_count(0)


def test_sms_login_with_the_code_from_the_development_sms_backend(page: Page, sms_outbox):
    user = UserFactory()
    dialog = open_dialog(page, "短信登录")
    form(dialog).get_by_placeholder("手机号").fill(user.mobile)
    form(dialog).get_by_role("button", name="获取验证码").click()
    expect(form(dialog).get_by_role("button", name=re.compile(r"\d+秒后重发"))).to_be_disabled()
    expect(dialog.get_by_text("验证码已发送")).to_be_visible()
    form(dialog).get_by_placeholder("6 位验证码").fill(sms_outbox.last_code(user.mobile))
    page.shots.take("code")
    form(dialog).get_by_role("button", name="登录", exact=True).click()
    expect(account_menu(page)).to_contain_text(user.username)


def test_a_second_code_within_the_minute_shows_how_long_to_wait(page: Page, sms_outbox):
    user = UserFactory()
    dialog = open_dialog(page, "短信登录")
    form(dialog).get_by_placeholder("手机号").fill(user.mobile)
    form(dialog).get_by_role("button", name="获取验证码").click()
    expect(dialog.get_by_text("验证码已发送")).to_be_visible()
    # A fresh page forgets the countdown; the server does not.
    dialog = open_dialog(page, "短信登录")
    form(dialog).get_by_placeholder("手机号").fill(user.mobile)
    form(dialog).get_by_role("button", name="获取验证码").click()
    expect(dialog.get_by_role("alert")).to_contain_text(re.compile(r"请 \d+ 秒后再试"))
    expect(form(dialog).get_by_role("button", name=re.compile(r"\d+秒后重发"))).to_be_disabled()
    page.shots.take("throttled")
    assert len(sms_outbox.codes[user.mobile]) == 1


def test_registration_by_mobile_logs_the_new_user_in(page: Page, sms_outbox):
    mobile = "13912345678"
    dialog = open_dialog(page, "注册")
    form(dialog).get_by_placeholder("手机号").fill(mobile)
    form(dialog).get_by_role("button", name="获取验证码").click()
    expect(dialog.get_by_text("验证码已发送")).to_be_visible()
    form(dialog).get_by_placeholder("6 位验证码").fill(sms_outbox.last_code(mobile))
    form(dialog).get_by_placeholder("至少 8 位，不要全是数字").fill(TEST_PASSWORD)
    page.shots.take("filled")
    form(dialog).get_by_role("button", name="注册并登录").click()
    expect(account_menu(page)).to_be_visible()
    user = get_user_model().objects.get(mobile=mobile)
    expect(account_menu(page)).to_contain_text(user.username)
    assert user.check_password(TEST_PASSWORD)


def test_registration_errors_appear_next_to_the_field_and_in_the_dialog(page: Page, sms_outbox):
    mobile = "13912345679"
    dialog = open_dialog(page, "注册")
    form(dialog).get_by_placeholder("手机号").fill(mobile)
    form(dialog).get_by_role("button", name="获取验证码").click()
    expect(dialog.get_by_text("验证码已发送")).to_be_visible()
    form(dialog).get_by_placeholder("6 位验证码").fill(
        "000000" if sms_outbox.last_code(mobile) != "000000" else "111111"
    )
    form(dialog).get_by_placeholder("至少 8 位，不要全是数字").fill(TEST_PASSWORD)
    form(dialog).get_by_role("button", name="注册并登录").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    page.shots.take("refused")
    assert not get_user_model().objects.filter(mobile=mobile).exists()


def test_a_page_that_needs_an_account_asks_to_log_in_and_continues_there(page: Page):
    page.goto("/my/courses")
    dialog = page.locator(".login-dialog")
    expect(dialog).to_be_visible()
    form(dialog).get_by_placeholder("用户名 / 手机号 / 邮箱").fill(DEMO_USER["username"])
    form(dialog).get_by_placeholder("密码").fill(DEMO_USER["password"])
    form(dialog).get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile("/my/courses$"))
    expect(page.locator("h1")).to_have_text("我的课程")


def test_an_unknown_page_says_so_inside_the_shop(page: Page):
    response = page.goto("/no/such/page")
    assert response.status == 200  # index.html; the router draws the 404 page
    expect(page.get_by_text("页面不存在", exact=True)).to_be_visible()
    page.get_by_role("button", name="回到首页").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_an_expired_access_token_is_refreshed_and_the_page_loads(page: Page):
    user = UserFactory()
    log_in(page, user, access_expired=True)
    refreshed = []
    page.on(
        "response",
        lambda r: refreshed.append(r.status) if r.url.endswith("/user/token/refresh/") else None,
    )
    page.goto("/orders")
    expect(page.locator("h1")).to_have_text("我的订单")
    expect(page.get_by_text("还没有订单")).to_be_visible()
    expect(account_menu(page)).to_contain_text(user.username)
    assert refreshed == [200]
    stored = page.evaluate("JSON.parse(localStorage.getItem('luffy.auth')).token")
    assert str(AccessToken(stored)["user_id"]) == str(user.pk)  # a valid, fresh access token


def _store_session(page: Page, user, *, access_expired: bool) -> None:
    """Put a session in the shop's localStorage once (log_in's init script would put it back
    on every page load, and these tests watch the tabs change it)."""
    refresh = RefreshToken.for_user(user)
    access = refresh.access_token
    if access_expired:
        access.set_exp(lifetime=-timedelta(minutes=1))
    auth = {"token": str(access), "refresh": str(refresh), "username": user.username, "icon": ""}
    page.evaluate("auth => localStorage.setItem('luffy.auth', JSON.stringify(auth))", auth)


def _second_tab(page: Page) -> tuple[Page, list[str]]:
    other = page.context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    return other, errors


def test_two_tabs_refreshing_one_session_at_the_same_moment_both_stay_logged_in(page: Page):
    # Both tabs load with the same expired access token and refresh at once. The server rotates
    # refresh tokens (the old one is refused from then on): the tab whose swap came second used
    # to be refused and log the buyer out of both.
    user = UserFactory()
    page.goto("/")
    _store_session(page, user, access_expired=True)
    held, statuses = [], []
    page.context.route("**/user/token/refresh/", lambda route: held.append(route))
    page.context.on(
        "response",
        lambda r: statuses.append(r.status) if r.url.endswith("/user/token/refresh/") else None,
    )
    other, other_errors = _second_tab(page)
    page.goto("/orders", wait_until="commit")
    other.goto("/orders", wait_until="commit")
    # Hold the first tab's swap until the second tab has had every chance to send its own.
    page.wait_for_function("() => document.querySelector('#app') !== null")
    other.wait_for_function("() => document.querySelector('#app') !== null")
    page.wait_for_timeout(1500)
    # Chromium has Web Locks: the second tab waits for the first tab's swap, then takes its tokens.
    assert len(held) == 1, f"{len(held)} refreshes sent with the same token at once"
    for route in held:
        route.continue_()
    page.context.unroute("**/user/token/refresh/")

    for tab in (page, other):
        expect(tab.locator("h1")).to_have_text("我的订单")
        expect(account_menu(tab)).to_contain_text(user.username)
    assert 401 not in statuses and 400 not in statuses, statuses
    page.shots.take("first-tab")
    for tab in (page, other):  # and the session kept in storage is a live one
        tab.reload()
        expect(tab.locator("h1")).to_have_text("我的订单")
        expect(account_menu(tab)).to_contain_text(user.username)
    assert not other_errors, other_errors


def test_logging_out_in_one_tab_logs_the_other_tab_out(page: Page):
    user = UserFactory()
    page.goto("/")
    _store_session(page, user, access_expired=False)
    page.reload()
    other, other_errors = _second_tab(page)
    other.goto("/")
    expect(account_menu(other)).to_contain_text(user.username)

    choose_from_account_menu(page, "退出")
    expect(page.locator("header").get_by_role("button", name="登录")).to_be_visible()
    # Without a reload: the other tab drops the session the first one ended.
    expect(other.locator("header").get_by_role("button", name="登录")).to_be_visible()
    assert not other_errors, other_errors


def test_on_a_phone_a_tap_on_the_name_opens_the_account_menu(phone: Page):
    user = UserFactory()
    log_in(phone, user)
    phone.goto("/")
    expect(account_menu(phone)).to_be_visible()
    phone.get_by_role("menuitem", name="我的课程").wait_for(state="hidden")

    account_menu(phone).tap()
    item = phone.get_by_role("menuitem", name="我的课程")
    expect(item).to_be_visible()
    phone.shots.take("menu-open")
    item.tap()
    expect(phone).to_have_url(re.compile("/my/courses$"))
