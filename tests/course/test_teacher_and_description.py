"""The course detail's 课程介绍 (staff HTML, cleaned) and GET course/teacher/<id>/: a teacher
with the courses on sale they teach."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.course.models import Course
from tests.factories import CourseFactory, TeacherFactory
from utils.html import sanitize_html

pytestmark = pytest.mark.django_db

HOSTILE = (
    '<h2 onclick="steal()">大纲</h2><script>alert(1)</script><p style="color:red">第一周'
    '<img src=x onerror=alert(2)><a href="javascript:alert(3)">坏链接</a>'
    '<a href="https://example.com/x" target="_blank">好链接</a></p><iframe src="//evil"></iframe>'
)


def test_the_description_is_cleaned_to_safe_html_keeping_the_text():
    clean = sanitize_html(HOSTILE)

    for gone in ("script", "alert", "onclick", "onerror", "style", "<img", "iframe", "javascript"):
        assert gone not in clean
    assert "<h2>大纲</h2>" in clean
    assert "第一周" in clean and "坏链接" in clean
    assert '<a href="https://example.com/x" rel="noopener noreferrer nofollow">好链接</a>' in clean


def test_the_detail_answers_the_cleaned_description_even_for_rows_written_around_the_admin():
    course = CourseFactory(description=HOSTILE)  # saved without the admin's clean()

    body = APIClient().get(f"/api/v1/course/list/{course.pk}/").json()

    assert body["description"] == sanitize_html(HOSTILE)
    assert "brief" in body and "owned" in body  # the fields the tutorial's client reads stay


def test_full_clean_keeps_what_the_admin_saves_cleaned():
    course = CourseFactory.build(description=HOSTILE, teacher=None, course_category=None)

    course.clean()

    assert course.description == sanitize_html(HOSTILE)


def test_a_teacher_page_lists_their_visible_courses_as_the_lists_show_them():
    teacher = TeacherFactory(name="Alex", brief="十年 Python 经验")
    first = CourseFactory(teacher=teacher, orders=1, price=Decimal("199.00"))
    second = CourseFactory(teacher=teacher, orders=2, price=Decimal("0.00"))
    CourseFactory(teacher=teacher, is_show=False)
    CourseFactory(teacher=teacher, status=Course.Status.OFFLINE)
    CourseFactory()  # another teacher's

    response = APIClient().get(f"/api/v1/course/teacher/{teacher.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Alex" and body["brief"] == "十年 Python 经验"
    assert [c["id"] for c in body["courses"]] == [first.pk, second.pk]
    listed = APIClient().get("/api/v1/course/list/", {"course_type": first.course_type}).json()
    card = next(c for c in listed["results"] if c["id"] == first.pk)
    assert body["courses"][0] == card
    assert body["courses"][0]["real_price"] == "199.00"


@pytest.mark.parametrize("hidden", [{"is_show": False}, {"is_delete": True}])
def test_a_hidden_teacher_is_a_404(hidden):
    teacher = TeacherFactory(**hidden)

    response = APIClient().get(f"/api/v1/course/teacher/{teacher.pk}/")

    assert response.status_code == 404
    assert response.json()["msg"] == "导师不存在"


def test_an_unknown_teacher_is_a_404():
    assert APIClient().get("/api/v1/course/teacher/999999/").status_code == 404
