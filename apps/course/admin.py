"""Staff screens for the catalog. A course's chapters and their sections are edited on the
course page (nested inlines, django-nested-admin); the counters are computed, never typed."""

from __future__ import annotations

from typing import Any

import nested_admin
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from libs.qiniu import QiniuError
from libs.qiniu.storage import undo_uploads_on_error

from . import selectors
from .models import Course, CourseCategory, CourseChapter, CourseSection, Teacher


class StorageErrorsAsMessages:
    """A failed upload to object storage rolls the whole form back and says why, not a 500.

    "The whole form" includes files of the same form already stored in the bucket."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            with undo_uploads_on_error():
                return super().changeform_view(request, *args, **kwargs)
        except QiniuError as exc:
            self.message_user(
                request, _("文件上传失败,未保存: %(error)s") % {"error": exc}, messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())


class CatalogAdmin(admin.ModelAdmin):
    list_filter = ["is_show", "is_delete"]
    list_editable = ["orders", "is_show"]


@admin.register(CourseCategory)
class CourseCategoryAdmin(CatalogAdmin):
    list_display = ["id", "name", "orders", "is_show", "is_delete", "updated_time"]
    search_fields = ["name"]


@admin.register(Teacher)
class TeacherAdmin(StorageErrorsAsMessages, CatalogAdmin):
    list_display = ["id", "name", "role", "title", "orders", "is_show", "is_delete"]
    list_filter = ["role", *CatalogAdmin.list_filter]
    search_fields = ["name", "title"]


SECTION_FIELDS = [
    ("name", "section_type", "duration", "free_trial"),
    ("video", "section_link"),
    ("video_key", "video_size_display", "video_etag"),
    ("orders", "is_show", "is_delete"),
]
SECTION_READONLY = ["video_key", "video_size_display", "video_etag"]


class SectionDisplay:
    @admin.display(description=_("对象 key"))
    def video_key(self, section: CourseSection) -> str:
        return section.video.name if section.video else "-"

    @admin.display(description=_("视频大小"))
    def video_size_display(self, section: CourseSection) -> str:
        if section.video_size is None:
            return "-"
        size = section.video_size
        in_bytes = ngettext("%(count)s 字节", "%(count)s 字节", size) % {"count": f"{size:,}"}
        return f"{filesizeformat(size)} ({in_bytes})"


class SectionInline(SectionDisplay, admin.StackedInline):
    """Sections on their chapter's own page."""

    model = CourseSection
    extra = 0
    fields = SECTION_FIELDS
    readonly_fields = SECTION_READONLY


NESTED_TEMPLATE = "admin/course/nested_stacked.html"  # the stock one says "Remove" in English


class NestedSectionInline(SectionDisplay, nested_admin.NestedStackedInline):
    template = NESTED_TEMPLATE
    model = CourseSection
    extra = 0
    fields = SECTION_FIELDS
    readonly_fields = SECTION_READONLY


class ChapterInline(nested_admin.NestedStackedInline):
    template = NESTED_TEMPLATE
    model = CourseChapter
    extra = 0
    fields = [("chapter", "name"), "summary", ("orders", "is_show", "is_delete")]
    inlines = [NestedSectionInline]
    show_change_link = True


def count_sections(course_id: int) -> tuple[int, int]:
    """(sections, published sections) of a course, deleted ones and deleted chapters left out."""
    live = Q(is_delete=False, chapter__is_delete=False)
    row = CourseSection.objects.filter(live, chapter__course_id=course_id).aggregate(
        total=Count("id"), shown=Count("id", filter=Q(is_show=True, chapter__is_show=True))
    )
    return row["total"], row["shown"]


@admin.register(Course)
class CourseAdmin(StorageErrorsAsMessages, nested_admin.NestedModelAdmin, CatalogAdmin):
    list_display = [
        "id",
        "name",
        "course_type",
        "course_category",
        "teacher",
        "status",
        "price",
        "current_price_display",
        "discount_window",
        "students",
        "sections",
        "orders",
        "is_show",
        "is_delete",
    ]
    list_filter = ["course_type", "status", "level", "course_category", *CatalogAdmin.list_filter]
    search_fields = ["name", "brief"]
    list_select_related = ["course_category", "teacher"]
    autocomplete_fields = ["teacher", "course_category"]
    inlines = [ChapterInline]
    # Counted by the services (students: grants and refunds) and on save (sections).
    readonly_fields = ["students", "sections", "pub_sections", "learning_figures"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "course_type",
                    "course_category",
                    "teacher",
                    "course_img",
                    "brief",
                    "description",
                    "level",
                    "status",
                    "pub_date",
                    "period",
                ]
            },
        ),
        (
            _("价格"),
            {
                "fields": [
                    "price",
                    "discount_type",
                    "discount_price",
                    "discount_start",
                    "discount_end",
                ]
            },
        ),
        (_("统计"), {"fields": ["students", "sections", "pub_sections", "learning_figures"]}),
        (_("展示"), {"fields": ["orders", "is_show", "is_delete"]}),
    ]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).with_current_price()

    @admin.display(description=_("当前售价"), ordering="current_price")
    def current_price_display(self, course: Course) -> str:
        return f"¥{course.real_price}"

    @admin.display(description=_("优惠期"), ordering="discount_start")
    def discount_window(self, course: Course) -> str:
        if course.discount_price is None or not course.discount_start or not course.discount_end:
            return "-"
        start = date_format(timezone.localtime(course.discount_start), "Y-m-d H:i")
        end = date_format(timezone.localtime(course.discount_end), "Y-m-d H:i")
        state = _("进行中") if course.discount_active() else ""
        return f"¥{course.discount_price} {start} ~ {end} {state}".strip()

    @admin.display(description=_("学习情况"))
    def learning_figures(self, course: Course) -> str:
        if course.pk is None:
            return "-"
        figures = selectors.course_completion(course.pk)
        return _("已开始 %(started)s 人,已学完 %(completed)s 人,平均进度 %(average)s%%") % {
            "started": figures.started,
            "completed": figures.completed,
            "average": figures.average_percent,
        }

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        course = form.instance
        total, shown = count_sections(course.pk)
        Course.objects.filter(pk=course.pk).update(sections=total, pub_sections=shown)
        course.sections, course.pub_sections = total, shown


@admin.register(CourseChapter)
class CourseChapterAdmin(StorageErrorsAsMessages, CatalogAdmin):
    list_display = ["id", "course", "chapter", "name", "orders", "is_show", "is_delete"]
    list_filter = ["course__course_type", *CatalogAdmin.list_filter]
    search_fields = ["name", "course__name"]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    inlines = [SectionInline]


@admin.register(CourseSection)
class CourseSectionAdmin(SectionDisplay, StorageErrorsAsMessages, CatalogAdmin):
    list_display = [
        "id",
        "name",
        "chapter",
        "section_type",
        "duration",
        "video_size_display",
        "free_trial",
        "orders",
        "is_show",
        "is_delete",
    ]
    list_filter = ["section_type", "free_trial", *CatalogAdmin.list_filter]
    search_fields = ["name", "chapter__name", "chapter__course__name"]
    fields = [*SECTION_FIELDS[:-1], ("chapter", "orders", "is_show", "is_delete")]
    readonly_fields = SECTION_READONLY
    list_select_related = ["chapter__course"]
    autocomplete_fields = ["chapter"]
