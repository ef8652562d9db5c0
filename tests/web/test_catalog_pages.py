"""A visitor browses the shop in Chromium: home, the three course lists, search, a course's page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from apps.course.models import Course, CourseCategory, CourseSection
from tests.factories import CourseFactory

pytestmark = pytest.mark.browser

LISTS = [("free", "免费课"), ("actual", "实战课"), ("light", "轻课")]


def card_names(page: Page) -> list[str]:
    return page.locator("[data-test=course-card] .name").all_inner_texts()


def card_prices(page: Page) -> list[Decimal]:
    texts = page.locator("[data-test=course-card] .pay-box .price").all_inner_texts()
    return [Decimal("0") if t == "免费" else Decimal(re.sub(r"[^\d.]", "", t)) for t in texts]


def wait_for_list(page: Page) -> None:
    expect(page.locator(".course-list[data-loaded=true]")).to_be_visible()


def test_home_shows_a_row_of_courses_for_each_type_and_the_nav_reaches_each_list(page: Page):
    page.goto("/")
    for course_type, _ in LISTS:
        row = page.locator(f"[data-test=row-{course_type}]")
        expected = Course.objects.filter(course_type=course_type, is_show=True).count()
        expect(row.locator("[data-test=course-tile]")).to_have_count(min(expected, 4))
    page.shots.take("home")
    for course_type, label in LISTS:
        page.locator("header nav").get_by_text(label, exact=True).click()
        expect(page).to_have_url(re.compile(f"/{course_type}$"))
        wait_for_list(page)
        expect(page.locator("h1")).to_have_text(label)


@pytest.mark.parametrize(("course_type", "label"), LISTS)
def test_each_list_filters_by_category_and_orders_by_popularity_and_price(
    page: Page, course_type: str, label: str
):
    courses = Course.objects.filter(course_type=course_type)
    page.goto(f"/{course_type}")
    wait_for_list(page)
    assert sorted(card_names(page)) == sorted(c.name for c in courses)
    page.shots.take(course_type)

    category = CourseCategory.objects.get(pk=courses.first().course_category_id)
    page.locator(".filters").get_by_text(category.name, exact=True).click()
    expect(page).to_have_url(re.compile(f"category={category.pk}"))
    wait_for_list(page)
    in_category = sorted(c.name for c in courses.filter(course_category=category))
    expect(page.locator("[data-test=course-card]")).to_have_count(len(in_category))
    assert sorted(card_names(page)) == in_category

    page.locator(".filters").get_by_text("全部", exact=True).click()
    page.locator(".filters").get_by_text("人气", exact=True).click()
    expect(page).to_have_url(re.compile("ordering=-students"))
    wait_for_list(page)
    assert card_names(page) == [c.name for c in courses.order_by("-students")]

    page.locator(".filters").get_by_text("价格↓", exact=True).click()
    expect(page).to_have_url(re.compile("ordering=-price"))
    wait_for_list(page)
    prices = card_prices(page)
    assert prices == sorted(prices, reverse=True)

    page.locator(".filters").get_by_text("价格↑", exact=True).click()
    expect(page).to_have_url(re.compile("ordering=price"))
    wait_for_list(page)
    prices = card_prices(page)
    assert prices == sorted(prices) and len(prices) == courses.count()


def test_a_long_list_pages_with_the_chosen_page_size(page: Page):
    for n in range(8):
        CourseFactory(course_type="actual", name=f"分页实战课{n}")
    total = Course.objects.filter(course_type="actual").count()  # 4 demo + 8
    page.goto("/actual")
    wait_for_list(page)
    expect(page.locator("[data-test=course-card]")).to_have_count(10)
    expect(page.locator(".el-pagination__total")).to_contain_text(str(total))

    page.locator(".el-pagination .el-select").click()
    page.get_by_role("option", name="5条/页").click()
    expect(page).to_have_url(re.compile("size=5"))
    wait_for_list(page)
    expect(page.locator("[data-test=course-card]")).to_have_count(5)
    first_page = card_names(page)

    page.locator(".el-pager li", has_text="3").click()
    expect(page).to_have_url(re.compile("page=3"))
    wait_for_list(page)
    expect(page.locator("[data-test=course-card]")).to_have_count(total - 10)
    page.shots.take("page-3")

    page.go_back()
    wait_for_list(page)
    expect(page.locator("[data-test=course-card]")).to_have_count(5)
    assert card_names(page) == first_page


def test_search_from_the_header_finds_every_course_type_and_keeps_the_words(page: Page):
    CourseFactory(name="Python爬虫实战", course_type="actual")
    CourseFactory(name="Python自动化轻课", course_type="light")
    page.goto("/")
    box = page.get_by_placeholder("搜索课程")
    box.fill("Python")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?word=Python$"))
    expect(page.locator(".summary .count")).to_have_text("3")
    assert sorted(card_names(page)) == sorted(
        ["Python入门基础", "Python爬虫实战", "Python自动化轻课"]
    )
    expect(box).to_have_value("Python")
    page.shots.take("results")

    box.fill("量子计算")
    box.press("Enter")
    expect(page.get_by_text("没有搜索结果")).to_be_visible()
    expect(page.locator("[data-test=course-card]")).to_have_count(0)
    expect(box).to_have_value("量子计算")


def test_a_free_trial_section_plays_on_the_course_page(page: Page):
    course = Course.objects.get(name="Django框架实战")
    page.goto(f"/course/{course.pk}")
    expect(page.locator("h1.name")).to_have_text(course.name)
    expect(page.get_by_role("button", name="立即购买")).to_be_visible()
    page.get_by_role("button", name="试看", exact=True).click()
    video = page.locator("video[data-test=player]")
    expect(video).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.querySelector('video[data-test=player]');"
        " return v && v.currentTime > 0.5 && !v.paused }"
    )
    page.shots.take("trial-playing")


def sections_in(answer: object) -> list[dict]:
    """Every section object anywhere in a catalog answer (lists, detail, chapters)."""
    found = []
    if isinstance(answer, dict):
        if "free_trail" in answer and "section_link" in answer:
            found.append(answer)
        for value in answer.values():
            found += sections_in(value)
    elif isinstance(answer, list):
        for value in answer:
            found += sections_in(value)
    return found


def test_an_anonymous_visitor_never_receives_a_paid_sections_video(page: Page):
    course = Course.objects.get(name="Django框架实战")
    answers: list[object] = []
    page.on(
        "response",
        lambda r: answers.append(r.json()) if "/api/v1/course/" in r.url and r.ok else None,
    )
    page.goto("/actual")
    wait_for_list(page)
    page.goto(f"/course/{course.pk}")
    total = CourseSection.objects.filter(chapter__course=course).count()
    expect(page.locator("[data-test=section]")).to_have_count(total)
    expect(page.get_by_role("button", name="试看", exact=True)).to_have_count(1)
    page.wait_for_load_state("networkidle")
    sections = [s for answer in answers for s in sections_in(answer)]
    assert len(sections) > total, "the pages read lists, detail and chapters"
    assert any(s["section_link"] for s in sections if s["free_trail"])
    assert all(s["section_link"] is None for s in sections if not s["free_trail"])
    # Clicking a locked section plays nothing.
    page.get_by_role("tab", name="课程目录").click()
    paid = CourseSection.objects.filter(chapter__course=course, free_trial=False).first()
    page.locator("[data-test=section]", has_text=paid.name).click()
    expect(page.locator("video")).to_have_count(0)
