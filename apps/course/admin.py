"""Staff screens for the catalog. Chapters are edited inline under their course, sections
inline under their chapter (the chapter row links to it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from libs.qiniu import QiniuError
from libs.qiniu.storage import undo_uploads_on_error

from .models import Course, CourseCategory, CourseChapter, CourseSection, Teacher


class StorageErrorsAsMessages:
    """A failed upload to object storage rolls the whole form back and says why, not a 500.

    "The whole form" includes files of the same form already stored in the bucket."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            with undo_uploads_on_error():
                return super().changeform_view(request, *args, **kwargs)
        except QiniuError as exc:
            self.message_user(request, f"文件上传失败,未保存: {exc}", messages.ERROR)
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


class ChapterInline(admin.StackedInline):
    model = CourseChapter
    extra = 0
    fields = ["chapter", "name", "summary", "orders", "is_show", "is_delete"]
    show_change_link = True  # opens the chapter with its sections


class SectionInline(admin.StackedInline):
    model = CourseSection
    extra = 0
    fields = [
        ("name", "section_type", "duration", "free_trial"),
        ("video", "section_link"),
        ("video_key", "video_size", "video_etag"),
        ("orders", "is_show", "is_delete"),
    ]
    readonly_fields = ["video_key", "video_size", "video_etag"]

    @admin.display(description="对象 key")
    def video_key(self, section: CourseSection) -> str:
        return section.video.name if section.video else "-"


@admin.register(Course)
class CourseAdmin(StorageErrorsAsMessages, CatalogAdmin):
    list_display = [
        "id",
        "name",
        "course_type",
        "course_category",
        "teacher",
        "status",
        "price",
        "discount_price",
        "students",
        "orders",
        "is_show",
        "is_delete",
    ]
    list_filter = ["course_type", "status", "level", "course_category", *CatalogAdmin.list_filter]
    search_fields = ["name", "brief"]
    list_select_related = ["course_category", "teacher"]
    autocomplete_fields = ["teacher", "course_category"]
    inlines = [ChapterInline]
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
                    "level",
                    "status",
                    "pub_date",
                    "period",
                ]
            },
        ),
        (
            "价格",
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
        ("统计", {"fields": ["students", "sections", "pub_sections"]}),
        ("展示", {"fields": ["orders", "is_show", "is_delete"]}),
    ]


@admin.register(CourseChapter)
class CourseChapterAdmin(StorageErrorsAsMessages, CatalogAdmin):
    list_display = ["id", "course", "chapter", "name", "orders", "is_show", "is_delete"]
    list_filter = ["course__course_type", *CatalogAdmin.list_filter]
    search_fields = ["name", "course__name"]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    inlines = [SectionInline]


@admin.register(CourseSection)
class CourseSectionAdmin(StorageErrorsAsMessages, CatalogAdmin):
    list_display = [
        "id",
        "name",
        "chapter",
        "section_type",
        "free_trial",
        "orders",
        "is_show",
        "is_delete",
    ]
    list_filter = ["section_type", "free_trial", *CatalogAdmin.list_filter]
    search_fields = ["name", "chapter__name", "chapter__course__name"]
    fields = [*SectionInline.fields[:-1], ("chapter", "orders", "is_show", "is_delete")]
    readonly_fields = SectionInline.readonly_fields
    video_key = SectionInline.video_key
    list_select_related = ["chapter__course"]
    autocomplete_fields = ["chapter"]
