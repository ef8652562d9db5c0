from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.course.models import Course
from tests.factories import (
    CategoryFactory,
    ChapterFactory,
    CourseFactory,
    SectionFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
WINDOW = {
    "discount_type": "限时折扣",
    "discount_price": Decimal("49.90"),
    "discount_start": T0,
    "discount_end": T0 + timedelta(hours=1),
}


def unsaved(**fields) -> Course:
    return Course(**{"name": "c", "price": Decimal("99.00"), **fields})


# --- discount window ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "active"),
    [
        (timedelta(seconds=-1), False),  # before the start
        (timedelta(0), True),  # the start is included
        (timedelta(minutes=30), True),
        (timedelta(hours=1) - timedelta(microseconds=1), True),
        (timedelta(hours=1), False),  # the end is excluded
        (timedelta(days=1), False),
    ],
)
def test_discount_window_is_start_inclusive_end_exclusive(offset, active):
    course = CourseFactory(**WINDOW)
    now = T0 + offset

    assert course.discount_active(now) is active
    annotated = Course.objects.with_current_price(now).get(pk=course.pk)
    assert annotated.current_price == (Decimal("49.90") if active else Decimal("99.00"))
    assert annotated.real_price == annotated.current_price


@pytest.mark.parametrize(
    "missing",
    ["discount_price", "discount_start", "discount_end"],
)
def test_incomplete_discount_is_never_active(missing):
    fields = {**WINDOW, missing: None}
    course = CourseFactory(**fields)

    assert course.discount_active(T0 + timedelta(minutes=1)) is False
    annotated = Course.objects.with_current_price(T0 + timedelta(minutes=1)).get(pk=course.pk)
    assert annotated.current_price == Decimal("99.00")


@pytest.mark.parametrize(
    ("fields", "real_price"),
    [
        pytest.param({}, Decimal("99.00"), id="no-discount"),
        pytest.param({"discounted": True}, Decimal("49.90"), id="active"),
        pytest.param(
            {
                "discounted": True,
                "discount_start": timezone.now() - timedelta(days=2),
                "discount_end": timezone.now() - timedelta(days=1),
            },
            Decimal("99.00"),
            id="expired",
        ),
        pytest.param(
            {
                "discounted": True,
                "discount_start": timezone.now() + timedelta(days=1),
                "discount_end": timezone.now() + timedelta(days=2),
            },
            Decimal("99.00"),
            id="future",
        ),
    ],
)
def test_real_price_with_and_without_annotation(fields, real_price):
    course = CourseFactory(**fields)

    assert course.real_price == real_price  # computed in Python
    assert Course.objects.with_current_price().get(pk=course.pk).real_price == real_price
    assert Course.objects.get(pk=course.pk).real_price == real_price


def test_real_price_prefers_the_annotation():
    course = CourseFactory(discounted=True)
    later = timezone.now() + timedelta(days=2)  # past the factory's discount end

    annotated = Course.objects.with_current_price(later).get(pk=course.pk)

    assert annotated.real_price == Decimal("99.00")
    assert Course.objects.get(pk=course.pk).real_price == Decimal("49.90")


def test_visible_queryset():
    shown = CourseFactory()
    CourseFactory(is_show=False)
    CourseFactory(is_delete=True)
    CourseFactory(status=Course.Status.OFFLINE)
    CourseFactory(status=Course.Status.PRE_RELEASE)

    assert list(Course.objects.visible()) == [shown]


# --- clean() -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="no-discount"),
        pytest.param(WINDOW, id="valid-window"),
        pytest.param({**WINDOW, "discount_price": Decimal("99.00")}, id="equal-to-price"),
        pytest.param({**WINDOW, "discount_price": Decimal("0")}, id="free-discount"),
        pytest.param(
            {"discount_start": T0, "discount_end": T0 + timedelta(days=1)}, id="window-only"
        ),
    ],
)
def test_clean_accepts(fields):
    unsaved(**fields).full_clean()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({**WINDOW, "discount_start": None}, "优惠价需要同时", id="no-start"),
        pytest.param({**WINDOW, "discount_end": None}, "优惠价需要同时", id="no-end"),
        pytest.param(
            {**WINDOW, "discount_start": None, "discount_end": None},
            "优惠价需要同时",
            id="no-window",
        ),
        pytest.param({**WINDOW, "discount_end": T0}, "结束时间必须晚于", id="empty-window"),
        pytest.param(
            {**WINDOW, "discount_end": T0 - timedelta(seconds=1)},
            "结束时间必须晚于",
            id="reversed-window",
        ),
        pytest.param(
            {**WINDOW, "discount_price": Decimal("99.01")}, "不能高于原价", id="above-price"
        ),
    ],
)
def test_clean_rejects(fields, message):
    with pytest.raises(ValidationError) as excinfo:
        unsaved(**fields).full_clean()

    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    "field", ["price", "discount_price"], ids=["negative-price", "negative-discount"]
)
def test_negative_money_is_rejected(field):
    course = unsaved(**{**WINDOW, "discount_price": Decimal("1"), field: Decimal("-1")})

    with pytest.raises(ValidationError) as excinfo:
        course.full_clean()
    assert field in excinfo.value.message_dict


@pytest.mark.parametrize("field", ["price", "discount_price"])
def test_database_refuses_negative_money(field):
    course = CourseFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.filter(pk=course.pk).update(**{field: Decimal("-0.01")})


# --- misc --------------------------------------------------------------------------------------


def test_string_representations():
    category = CategoryFactory(name="Python")
    teacher = TeacherFactory(name="Alex")
    course = CourseFactory(name="Django", course_category=category, teacher=teacher)
    chapter = ChapterFactory(course=course, chapter=3, name="ORM")
    section = SectionFactory(chapter=chapter, name="QuerySet")

    assert str(category) == "Python"
    assert str(teacher) == "Alex"
    assert str(course) == "Django"
    assert str(chapter) == "Django: 第3章 ORM"
    assert str(section) == "Django: 第3章 ORM-QuerySet"


def test_deleting_category_or_teacher_keeps_the_course():
    course = CourseFactory()

    course.course_category.delete()
    course.teacher.delete()
    course.refresh_from_db()

    assert course.course_category is None
    assert course.teacher is None


def test_deleting_course_cascades_to_chapters_and_sections():
    section = SectionFactory()
    course = section.chapter.course

    course.delete()

    assert not type(section).objects.exists()
    assert not type(section.chapter).objects.exists()
