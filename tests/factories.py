"""factory_boy factories for the models the tests build."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from apps.course.models import Course, CourseCategory, CourseChapter, CourseSection, Teacher
from apps.order.models import Order, OrderDetail
from apps.user.models import User

TEST_PASSWORD = "Luffy-test-pass-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseCategory

    name = factory.Sequence(lambda n: f"分类{n}")


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Teacher

    name = factory.Sequence(lambda n: f"老师{n}")
    title = "讲师"


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    name = factory.Sequence(lambda n: f"课程{n}")
    course_type = Course.CourseType.ACTUAL
    course_category = factory.SubFactory(CategoryFactory)
    teacher = factory.SubFactory(TeacherFactory)
    price = Decimal("99.00")

    class Params:
        discounted = factory.Trait(
            discount_type="限时折扣",
            discount_price=Decimal("49.90"),
            discount_start=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1)),
            discount_end=factory.LazyFunction(lambda: timezone.now() + timedelta(days=1)),
        )


class ChapterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseChapter

    course = factory.SubFactory(CourseFactory)
    chapter = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"章节{n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseSection

    chapter = factory.SubFactory(ChapterFactory)
    name = factory.Sequence(lambda n: f"课时{n}")
    section_link = factory.Sequence(lambda n: f"videos/{n}.mp4")
    duration = "10:00"


class BannerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "home.Banner"

    title = factory.Sequence(lambda n: f"轮播图{n}")
    image = factory.django.ImageField(filename="banner.png", width=32, height=12, format="PNG")
    link = factory.Sequence(lambda n: f"/course/{n + 1}")
    orders = factory.Sequence(lambda n: n)


class OrderFactory(factory.django.DjangoModelFactory):
    """An unpaid order; `paid=True` (with `pay_time=`) for a paid one. Lines: `OrderLineFactory`."""

    class Meta:
        model = Order

    subject = "路飞学城课程"
    total_amount = Decimal("99.00")
    out_trade_no = factory.Sequence(lambda n: f"T{n:020d}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))
    user = factory.SubFactory(UserFactory)

    class Params:
        paid = factory.Trait(
            order_status=Order.Status.PAID,
            trade_no=factory.Sequence(lambda n: f"2026{n:024d}"),
            pay_time=factory.LazyFunction(timezone.now),
        )


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderDetail

    order = factory.SubFactory(OrderFactory)
    course = factory.SubFactory(CourseFactory)
    price = factory.LazyAttribute(lambda line: line.course.price)
    real_price = factory.LazyAttribute(lambda line: line.price)
