"""Staff run the shop from the admin, in Chromium: a course edited with its chapter and sections
on one page (with a video upload), orders filtered and exported, the sales chart on the index."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from apps.course.demo_media import DEMO_VIDEO_FILE
from apps.course.models import CourseSection
from apps.order.models import CourseEntitlement
from tests.factories import CourseFactory, OrderFactory, OrderLineFactory, SectionFactory

# Chromium runs once, in the SQLite pass (make test-mariadb deselects `browser`).
pytestmark = pytest.mark.browser

LESSON = DEMO_VIDEO_FILE


def test_staff_edits_a_course_with_a_chapter_and_sections_on_one_page(admin_page):
    page = admin_page
    course = CourseFactory(name="Vue 实战")

    page.goto(f"/admin/course/course/{course.pk}/change/")
    page.click("a.djn-add-handler.djn-model-course-coursechapter")
    page.fill('[name="coursechapters-0-chapter"]', "1")
    page.fill('[name="coursechapters-0-name"]', "第一章 起步")
    add_section = page.locator("a.djn-add-handler.djn-model-course-coursesection:visible").first
    add_section.click()
    add_section.click()
    page.fill('[name="coursechapters-0-coursesections-0-name"]', "1.1 安装")
    page.set_input_files('[name="coursechapters-0-coursesections-0-video"]', str(LESSON))
    page.fill('[name="coursechapters-0-coursesections-1-name"]', "1.2 组件")
    page.fill('[name="coursechapters-0-coursesections-1-duration"]', "08:30")
    page.shot("filled")
    page.click('input[name="_continue"]')

    page.wait_for_selector("ul.messagelist li.success")
    course.refresh_from_db()
    chapter = course.coursechapters.get()
    assert chapter.name == "第一章 起步"
    video, other = CourseSection.objects.filter(chapter=chapter).order_by("pk")
    assert (video.name, video.duration, video.video_size) == ("1.1 安装", "00:06", 107128)
    assert (other.name, other.duration) == ("1.2 组件", "08:30")
    assert (course.sections, course.pub_sections) == (2, 2)
    # The saved page shows it back: the size for people, the duration read from the file.
    body = page.inner_text("body")
    assert "104.6\xa0KB (107,128 字节)" in body and "00:06" in page.content()
    page.shot("course-page")


def _paid(days_ago: int, *prices: str, **kwargs):
    when = timezone.now() - timedelta(days=days_ago)
    total = sum((Decimal(p) for p in prices), Decimal("0"))
    order = OrderFactory(paid=True, pay_time=when, total_amount=total, **kwargs)
    for price in prices:
        OrderLineFactory(order=order, course=CourseFactory(price=Decimal(price)))
    return order


def test_staff_filters_orders_by_date_and_exports_them_with_their_lines(admin_page):
    page = admin_page
    _paid(2, "10.00", "20.00", out_trade_no="RANGE-IN")
    _paid(20, "99.00", out_trade_no="RANGE-OUT")
    from apps.order.models import Order

    Order.objects.filter(out_trade_no="RANGE-OUT").update(
        created_time=timezone.now() - timedelta(days=20)
    )
    today = timezone.localdate()

    page.goto("/admin/order/order/")
    page.fill('[name="created_time__range_from"]', (today - timedelta(days=7)).isoformat())
    page.fill('[name="created_time__range_to"]', today.isoformat())
    page.locator("form.date-range-filter").first.locator("input[type=submit]").click()
    page.wait_for_url("**created_time__range_from=*")

    assert "共 1 个订单,合计 ¥30.00" in page.inner_text("#order-totals")
    assert page.locator("#result_list").inner_text().count("RANGE-") == 1
    with page.expect_download() as download:
        page.click("#export-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [(r[0], r[-1]) for r in rows[1:]] == [("RANGE-IN", "10.00"), ("RANGE-IN", "20.00")]
    page.shot("orders")


def test_the_dashboard_chart_shows_the_right_totals(admin_page):
    page = admin_page
    _paid(0, "100.00", "23.45")
    _paid(0, "10.00")
    _paid(3, "200.00")
    _paid(45, "999.00")  # outside the 30 days
    OrderFactory()  # unpaid, still open

    page.goto("/admin/")

    assert "¥133.45" in page.inner_text("#sales-today") and "2 单" in page.inner_text(
        "#sales-today"
    )
    assert "¥333.45" in page.inner_text("#sales-window")
    assert page.inner_text("#sales-unpaid").startswith("待支付订单\n1")
    bars = page.locator("#sales-chart rect.bar")
    assert bars.count() == 30
    today = timezone.localdate().isoformat()
    assert bars.last.locator("title").text_content() == f"{today}: ¥133.45, 2 单"
    # Bar heights follow the revenue: ¥200.00 three days ago, ¥133.45 today, nothing else.
    heights = [float(h) for h in bars.evaluate_all("bs => bs.map(b => b.getAttribute('height'))")]
    assert [i for i, h in enumerate(heights) if h] == [26, 29]
    assert heights[26] / heights[29] == pytest.approx(200 / 133.45, rel=0.01)
    assert "¥200.00" in page.inner_text("#sales-top-courses")
    page.shot("dashboard")


# Words of the stock admin UI that a Chinese page must not show (whole words, as displayed).
ENGLISH_UI = [
    "Add", "Save", "Delete", "Search", "Filter", "Action", "Actions", "Home", "Log out", "Change",
    "History", "View site", "Luffy", "Welcome", "Today", "All", "Yes", "No", "Go", "Select",
    "Error", "error", "By", "Show counts", "Clear", "Recent actions", "None", "Unknown",
    "Site administration", "Django administration", "Password", "Token", "Access",
    "Model name", "Add link", "Change or view list link", "Blacklist", "Outstanding", "Can",
    "Choose", "Remove", "throttle",
]  # fmt: skip


def _english_words(text: str) -> list[str]:
    import re

    # Case-blind: CSS may show a heading in capitals ("MODEL NAME").
    pattern = r"(?<![\w-]){}(?![\w-])"
    return [w for w in ENGLISH_UI if re.search(pattern.format(re.escape(w)), text, re.I)]


def test_no_english_ui_words_on_the_chinese_admin_pages(admin_page):
    from django.contrib import admin

    page = admin_page
    section = SectionFactory()
    order = _paid(1, "9.90")
    CourseEntitlement.objects.create(user=order.user, course=section.chapter.course, order=order)
    urls = ["/admin/"]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(f"/admin/{opts.app_label}/{opts.model_name}/")
        urls.append(f"/admin/{opts.app_label}/{opts.model_name}/add/")
        if (first := model._default_manager.order_by("pk").first()) is not None:
            urls.append(f"/admin/{opts.app_label}/{opts.model_name}/{first.pk}/change/")
    found = {}
    for url in urls:
        response = page.goto(url)
        if response.status == 403:  # no add page for read-only models
            continue
        assert response.status == 200, url
        text = page.inner_text("body") + " " + page.title()
        if words := _english_words(text):
            found[url] = words
    assert not found, found


@pytest.mark.parametrize("path", ["/admin/", "/admin/order/order/"])
def test_the_header_names_the_shop_and_links_to_the_storefront(admin_page, path):
    page = admin_page

    page.goto(path)

    assert page.inner_text("#site-name") == "路飞学城 管理后台"
    assert page.locator("#user-tools a", has_text="查看站点").get_attribute("href") == "/"
