"""How the catalog looks on the wire (field names are the Vue app's)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from utils.html import sanitize_html
from utils.public_urls import MediaURLField
from utils.serializers import MoneyField

from .media import may_watch, section_media_url
from .models import Course, CourseCategory, CourseChapter, CourseSection, Teacher
from .services import MAX_SECONDS


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = CourseCategory
        fields = ["id", "name"]


class TeacherSerializer(serializers.ModelSerializer):
    role_name = serializers.CharField(source="get_role_display", read_only=True)
    image = MediaURLField()

    class Meta:
        model = Teacher
        fields = ["id", "name", "role", "role_name", "title", "signature", "image", "brief"]


class ChapterQuerySerializer(serializers.Serializer):
    """`?course=<id>` of the chapter tree: ASCII digits only (no sign, space, full-width digit)."""

    course = serializers.RegexField(
        r"\A[0-9]{1,18}\Z",
        trim_whitespace=False,
        error_messages={
            key: _("请提供有效的课程编号") for key in ("required", "blank", "null", "invalid")
        },
    )

    def validate_course(self, value: str) -> int:
        return int(value)


class SectionLinkMixin(serializers.Serializer):
    """`section_link`: a playable URL for free-trial sections and for owners of the course, null
    for everyone else. Needs `owned_course_ids` in the context (sections carry `course_id`)."""

    section_link = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.URLField(
            allow_null=True,
            help_text="Playable URL for free-preview sections (`free_trail`) and, for a buyer "
            "who owns the course, every section; null for everyone else",
        )
    )
    def get_section_link(self, section: CourseSection) -> str | None:
        if not may_watch(section, self.context.get("owned_course_ids", frozenset())):
            return None
        if section.free_trial:
            return section_media_url(section)
        # An owner's link names the owner: it stops working when the course is taken back.
        return section_media_url(section, viewer_id=self.context["request"].user.pk)


class FreeTrialMixin(serializers.Serializer):
    # The tutorial's spelling stays on the wire; the model field is spelt right.
    free_trail = serializers.BooleanField(
        source="free_trial", required=False, label=_("是否可试看")
    )


class SectionPreviewSerializer(FreeTrialMixin, SectionLinkMixin, serializers.ModelSerializer):
    """One of the first sections of a course, as course lists preview them."""

    class Meta:
        model = CourseSection
        fields = ["id", "name", "section_link", "duration", "free_trail"]


class SectionSerializer(FreeTrialMixin, SectionLinkMixin, serializers.ModelSerializer):
    """A section (lesson) of a chapter."""

    class Meta:
        model = CourseSection
        fields = ["id", "name", "orders", "section_type", "section_link", "duration", "free_trail"]


class ChapterSerializer(serializers.ModelSerializer):
    coursesections = SectionSerializer(many=True, read_only=True)

    class Meta:
        model = CourseChapter
        fields = ["id", "name", "chapter", "summary", "coursesections"]


class CourseSerializer(serializers.ModelSerializer):
    """A course as the lists and the search show it, with previews of its first sections and
    whether the logged-in user owns it (the card then says 继续学习)."""

    # Expects selectors.visible_courses() rows with attach_section_previews() applied.

    course_img = MediaURLField()
    course_type_name = serializers.CharField(source="get_course_type_display", read_only=True)
    level_name = serializers.CharField(source="get_level_display", read_only=True)
    status_name = serializers.CharField(source="get_status_display", read_only=True)
    discount_type = serializers.SerializerMethodField()
    price = MoneyField(required=False, label=_("课程原价"))
    real_price = MoneyField(read_only=True, help_text="What a buyer pays now (discount included)")
    teacher = TeacherSerializer(read_only=True, allow_null=True)
    section_list = SectionPreviewSerializer(source="section_previews", many=True, read_only=True)
    owned = serializers.SerializerMethodField(
        help_text="The logged-in user owns this course (always false for a visitor)"
    )

    class Meta:
        model = Course
        fields = [
            "id",
            "name",
            "course_img",
            "course_type",
            "course_type_name",
            "brief",
            "level_name",
            "status_name",
            "period",
            "students",
            "sections",
            "pub_sections",
            "price",
            "discount_type",
            "real_price",
            "teacher",
            "section_list",
            "owned",
        ]

    @extend_schema_field(serializers.BooleanField())
    def get_owned(self, course: Course) -> bool:
        # The views ask ownership.owned_course_ids once for the whole page (no query per card).
        return course.pk in self.context.get("owned_course_ids", frozenset())

    @extend_schema_field(serializers.CharField())
    def get_discount_type(self, course: Course) -> str:
        # The label ("限时折扣") only while the discount runs, like the price it explains.
        return course.discount_type if course.discount_active() else ""


class CourseDetailSerializer(CourseSerializer):
    """A course with its category and its full description (the 课程介绍 tab)."""

    description = serializers.SerializerMethodField(
        help_text="The full description: HTML cleaned to a safe subset (utils/html.py)"
    )
    course_category = CategorySerializer(read_only=True, allow_null=True)

    class Meta(CourseSerializer.Meta):
        # `pub_date` first: the stored documents cut the list's card there (documents.card).
        fields = [
            *CourseSerializer.Meta.fields,
            "pub_date",
            "description",
            "course_category",
        ]

    @extend_schema_field(serializers.CharField())
    def get_description(self, course: Course) -> str:
        # Cleaned on the way out too: rows written around the admin (imports, the shell).
        return sanitize_html(course.description)


class TeacherCoursesSerializer(TeacherSerializer):
    """A teacher's page: the teacher, and the courses on sale they teach (as the lists show
    them)."""

    courses = CourseSerializer(
        source="course_list", many=True, read_only=True, help_text="Visible courses, in order"
    )

    class Meta(TeacherSerializer.Meta):
        fields = [*TeacherSerializer.Meta.fields, "courses"]


class ProgressReportSerializer(serializers.Serializer):
    """What the player reports, in seconds (fractions dropped); a day or more is refused."""

    position = serializers.FloatField(
        min_value=0, max_value=MAX_SECONDS, help_text="Where the video is now (seconds)"
    )
    watched = serializers.FloatField(
        min_value=0, max_value=MAX_SECONDS, help_text="Seconds of the lesson actually watched"
    )
    ended = serializers.BooleanField(
        default=False, help_text="The video played to its end: the lesson is completed"
    )

    def validate(self, attrs: dict) -> dict:
        return {**attrs, "position": int(attrs["position"]), "watched": int(attrs["watched"])}


class BeaconReportSerializer(ProgressReportSerializer):
    """A report sent by `navigator.sendBeacon`, which cannot set headers: the token comes along."""

    token = serializers.CharField(write_only=True, help_text="The access token of a login")


class LessonStateSerializer(serializers.Serializer):
    section = serializers.IntegerField()
    position = serializers.IntegerField()
    watched = serializers.IntegerField()
    completed = serializers.BooleanField()


class LessonProgressSerializer(LessonStateSerializer):
    name = serializers.CharField()


class ResumeSerializer(serializers.Serializer):
    section = serializers.IntegerField(help_text="The lesson to open")
    name = serializers.CharField()
    position = serializers.IntegerField(help_text="Second to start it at")


class CourseProgressSerializer(serializers.Serializer):
    course = serializers.IntegerField()
    progress = serializers.IntegerField(
        source="percent", help_text="Completed lessons ÷ lessons, in percent (0-100)"
    )
    completed_lessons = serializers.IntegerField(source="completed")
    lessons = LessonProgressSerializer(many=True)
    resume_section = ResumeSerializer(source="resume", allow_null=True)


class OwnedCourseSerializer(CourseSerializer):
    """A course the learner owns, with how far they got in it."""

    # Expects `learning` set by selectors.attach_course_progress().

    progress = serializers.IntegerField(
        source="learning.percent", read_only=True, help_text="Completed lessons, in percent"
    )
    resume_section = ResumeSerializer(source="learning.resume", read_only=True, allow_null=True)

    class Meta(CourseSerializer.Meta):
        fields = [*CourseSerializer.Meta.fields, "progress", "resume_section"]
