"""Owned and free courses as a shopper meets them (issue 25), at desktop and phone width: a
course the shopper owns says 继续学习 on the list's and the search's cards; 免费学习 on a free
course opens the lessons and leaves no "已支付 ¥0.00" order in 我的订单."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from apps.course.models import Course
from apps.order.models import CourseEntitlement, Order
from tests.factories import UserFactory
from tests.web.conftest import log_in

pytestmark = pytest.mark.browser

OWNED = "Django框架实战"  # an actual course with a running discount (¥199.00, was ¥299.00)


def card_of(page: Page, name: str):
    return page.locator("[data-test=course-card]", has=page.get_by_role("link", name=name))


def test_an_owned_course_says_continue_on_the_list_and_in_search(page: Page):
    see_owned_course_on_list_and_search(page)


def test_an_owned_course_says_continue_on_the_list_and_in_search_on_a_phone(phone: Page):
    see_owned_course_on_list_and_search(phone)


def see_owned_course_on_list_and_search(page: Page) -> None:
    shopper = UserFactory()
    owned = Course.objects.get(name=OWNED)
    CourseEntitlement.objects.create(user=shopper, course=owned)
    log_in(page, shopper)

    for path in ("/actual", "/search?word=实战"):
        page.goto(path)
        card = card_of(page, OWNED)
        expect(card.get_by_role("button", name="继续学习")).to_be_visible()
        expect(card.get_by_role("button", name="立即购买")).to_have_count(0)
        expect(card.get_by_text("¥199.00")).to_have_count(0)
        # The other courses keep their price and 立即购买.
        other = page.locator("[data-test=course-card]", has_not_text=OWNED).first
        expect(other.get_by_role("button", name="立即购买")).to_be_visible()
        page.shots.take("list-owned" if path == "/actual" else "search-owned")

    card_of(page, OWNED).get_by_role("button", name="继续学习").click()
    expect(page).to_have_url(re.compile(f"/learn/{owned.pk}$"))


FREE = "Linux系统基础"  # the demo's free course


def take_free_course(page: Page) -> None:
    shopper = UserFactory()
    free = Course.objects.get(name=FREE)
    log_in(page, shopper)
    page.goto(f"/course/{free.pk}")
    expect(page.get_by_role("button", name="免费学习")).to_be_visible()
    expect(page.get_by_role("button", name="立即购买")).to_have_count(0)
    page.shots.take("free-detail")

    page.get_by_role("button", name="免费学习").click()

    expect(page).to_have_url(re.compile(f"/learn/{free.pk}$"))
    assert shopper.entitlements.filter(course=free, order=None).exists()
    page.goto("/orders")
    expect(page.get_by_text("还没有订单")).to_be_visible()
    expect(page.locator("[data-test=order]")).to_have_count(0)
    expect(page.get_by_text("¥0.00")).to_have_count(0)
    assert not Order.objects.filter(user=shopper).exists()
    page.goto("/free")
    card = card_of(page, FREE)
    expect(card.get_by_role("button", name="继续学习")).to_be_visible()
    page.shots.take("free-list-owned")


def test_a_free_course_is_taken_with_no_order(page: Page):
    take_free_course(page)


def test_a_free_course_is_taken_with_no_order_on_a_phone(phone: Page):
    take_free_course(phone)
