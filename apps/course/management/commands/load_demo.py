"""Load a demo catalog (with a claimable coupon and a flash sale running now), a demo user (who
owns a course and is partway through it) and a staff user. Safe to run again: it updates the
catalog in place, creates the users only when missing and leaves the demo learner's progress
alone. Refuses to run with DEBUG off unless forced."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from apps.coupon.demo import ensure_demo_coupon
from apps.course import ownership
from apps.course.demo_media import DEMO_VIDEO_FILE, DEMO_VIDEO_KEY, attach_demo_media
from apps.course.models import (
    Course,
    CourseCategory,
    CourseChapter,
    CourseSection,
    LessonProgress,
    Teacher,
)
from apps.course.mp4 import duration_seconds, format_duration, mp4_duration
from apps.promotion.demo import ensure_demo_flash_sale

DEMO_USER = {"username": "demo", "mobile": "13800000001", "password": "luffy-demo-2026"}
STAFF_USER = {"username": "admin", "mobile": "13800000000", "password": "luffy-admin-2026"}

CATEGORIES = ["Python", "Linux运维", "前端开发", "Go语言", "数据分析"]

TEACHERS = [
    ("Alex", Teacher.Role.LECTURER, "Python资深讲师", "人生苦短,我用Python"),
    ("Egon", Teacher.Role.MENTOR, "全栈开发导师", "代码即文档"),
    ("Lily", Teacher.Role.LECTURER, "前端架构师", "好的界面会说话"),
    ("Zhang", Teacher.Role.HEAD_TEACHER, "Go 语言布道师", "少即是多"),
]

# name, type, category, teacher, price, discount (label, price) or None, level
COURSES = [
    ("Python入门基础", "free", "Python", "Alex", "0", None, 0),
    ("Linux系统基础", "free", "Linux运维", "Egon", "0", None, 0),
    ("Django框架实战", "actual", "Python", "Alex", "299.00", ("限时折扣", "199.00"), 1),
    ("DRF与前后端分离项目", "actual", "Python", "Egon", "399.00", None, 2),
    ("Vue3企业级项目实战", "actual", "前端开发", "Lily", "259.90", ("限时折扣", "99.90"), 1),
    ("Go微服务实战", "actual", "Go语言", "Zhang", "499.00", None, 2),
    ("Shell脚本轻课", "light", "Linux运维", "Egon", "9.90", None, 0),
    ("Pandas数据分析轻课", "light", "数据分析", "Alex", "19.90", ("新人特惠", "9.90"), 0),
    ("Flask轻课", "light", "Python", "Alex", "29.00", None, 1),
]

DEMO_LEARNING = "Django框架实战"  # the course the demo learner owns and is studying

# The paid course the demo's 限时秒杀 sells (apps/promotion/demo.py).
FLASH_SALE_COURSE = "DRF与前后端分离项目"
# The coupon shoppers can claim, on every paid course (apps/coupon/demo.py).
DEMO_COUPON = "新人满减券"
CHAPTERS_PER_COURSE = 3
SECTIONS_PER_CHAPTER = 3


class Command(BaseCommand):
    help = "Load (or refresh) the demo catalog and the demo and staff users."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo accounts have published passwords).",
        )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        # The demo logins are in the README: on a production database they would be a way in.
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "load_demo creates accounts whose passwords are public and refuses to run with "
                "DJANGO_DEBUG off. Use --force if this really is a demo instance."
            )
        now = timezone.now()
        categories = {
            name: CourseCategory.objects.update_or_create(name=name, defaults={"orders": i})[0]
            for i, name in enumerate(CATEGORIES)
        }
        teachers = {}
        for i, (name, role, title, signature) in enumerate(TEACHERS):
            teachers[name] = Teacher.objects.update_or_create(
                name=name,
                defaults={
                    "role": role,
                    "title": title,
                    "signature": signature,
                    "orders": i,
                    "brief": f"{name}老师,{title}。",
                },
            )[0]
        for i, course in enumerate(COURSES):
            self._course(i, course, categories, teachers, now)
        demo_courses = Course.objects.filter(name__in=[c[0] for c in COURSES]).order_by("orders")
        attach_demo_media(list(demo_courses), list(teachers.values()))
        ensure_demo_flash_sale(Course.objects.get(name=FLASH_SALE_COURSE), now=now)
        ensure_demo_coupon(DEMO_COUPON, demo_courses.filter(price__gt=0), now=now)
        self._user(DEMO_USER, staff=False)
        self._user(STAFF_USER, staff=True)
        self._learning(now)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Course.objects.count()} courses in "
                f"{CourseCategory.objects.count()} categories.\n"
                f"  Demo user : {DEMO_USER['username']} / {DEMO_USER['password']} "
                f"(mobile {DEMO_USER['mobile']})\n"
                f"  Staff user: {STAFF_USER['username']} / {STAFF_USER['password']} (/admin/)"
            )
        )

    def _course(self, i: int, row: tuple, categories: dict, teachers: dict, now: datetime) -> None:
        """Create or update the demo course of COURSES[i] (`row`) and its chapters."""
        name, kind, category, teacher, price, discount, level = row
        defaults = {
            "course_type": kind,
            "course_category": categories[category],
            "teacher": teachers[teacher],
            "price": Decimal(price),
            "level": level,
            "orders": i,
            "brief": f"{name}：从零开始，循序渐进，配套练习与项目。",
            "description": demo_description(name, teacher),
            "period": 7 + 7 * level,
            "students": 100 * (len(COURSES) - i),
            "sections": CHAPTERS_PER_COURSE * SECTIONS_PER_CHAPTER,
            "pub_sections": CHAPTERS_PER_COURSE * SECTIONS_PER_CHAPTER,
            "discount_type": discount[0] if discount else "",
            "discount_price": Decimal(discount[1]) if discount else None,
            "discount_start": now - timedelta(days=1) if discount else None,
            "discount_end": now + timedelta(days=30) if discount else None,
        }
        course, _ = Course.objects.update_or_create(name=name, defaults=defaults)
        self._chapters(course)

    def _chapters(self, course: Course) -> None:
        # Every lesson plays the one demo video, so each says that video's length: a lesson
        # watched to the end then reads 100 %, as it would in the real shop.
        with open(DEMO_VIDEO_FILE, "rb") as video:
            length = format_duration(mp4_duration(video))
        for c in range(1, CHAPTERS_PER_COURSE + 1):
            chapter, _ = CourseChapter.objects.update_or_create(
                course=course,
                chapter=c,
                defaults={
                    "name": f"第{c}章 {course.name}核心{c}",
                    "summary": f"本章讲解第{c}部分。",
                },
            )
            for s in range(1, SECTIONS_PER_CHAPTER + 1):
                CourseSection.objects.update_or_create(
                    chapter=chapter,
                    name=f"{c}.{s} 课时{s}",
                    defaults={
                        "orders": s,
                        "section_type": CourseSection.SectionType.VIDEO,
                        "section_link": DEMO_VIDEO_KEY,  # one short real MP4 for every lesson
                        "duration": length,
                        "free_trial": c == 1 and s == 1,
                    },
                )

    def _learning(self, now: datetime) -> None:
        """The demo learner owns DEMO_LEARNING's course and is partway through it: two lessons
        finished, the third paused a few seconds in (the demo video is 6 s long), so 继续学习
        has somewhere to go. Progress already there (the learner's own) is left alone."""
        learner = get_user_model().objects.get(username=DEMO_USER["username"])
        course = Course.objects.get(name=DEMO_LEARNING)
        if not ownership.grant_for_demo(learner, course.pk):
            return  # a catalog without a shop: nobody owns anything
        lessons = CourseSection.objects.filter(chapter__course=course, chapter__chapter=1)
        for i, lesson in enumerate(lessons.order_by("orders", "id")):
            length = duration_seconds(lesson.duration) or 0
            watched, position = (length, length) if i < 2 else (3, 3)
            LessonProgress.objects.get_or_create(
                user=learner,
                section=lesson,
                defaults={
                    "course": course,
                    "position": position,
                    "watched": watched,
                    "completed_at": now - timedelta(days=2 - i) if i < 2 else None,
                    "started_at": now - timedelta(days=3 - i),
                    "updated_at": now - timedelta(days=2 - i),
                },
            )

    def _user(self, spec: dict[str, str], staff: bool) -> None:
        """Create the account when missing; an existing one (whose password someone may have
        changed) is left exactly as it is."""
        user_model = get_user_model()
        if user_model.objects.filter(username=spec["username"]).exists():
            return
        user = user_model(username=spec["username"], is_staff=staff, is_superuser=staff)
        # Keep the demo mobile unless another account already uses it.
        if not user_model.objects.filter(mobile=spec["mobile"]).exists():
            user.mobile = spec["mobile"]
        user.set_password(spec["password"])
        user.save()


def demo_description(name: str, teacher: str) -> str:
    """The 课程介绍 of a demo course: the kind of HTML staff write in the admin."""
    return (
        f"<h2>课程简介</h2><p>《{name}》由{teacher}老师主讲，从基础概念讲到完整项目，"
        "每章配有练习。</p>"
        "<h3>你将学到</h3><ul><li>核心概念与常用写法</li><li>调试与排错的方法</li>"
        "<li>一个可以写进简历的完整项目</li></ul>"
        "<h3>适合人群</h3><p>有一点编程基础、希望系统学习的同学。</p>"
    )
