"""The catalog: categories, teachers, courses of every type, chapters and sections."""

from __future__ import annotations

import operator
import os
import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libs.qiniu import stream_etag
from utils.html import sanitize_html
from utils.uploads import validate_image_upload, validate_video_upload

from .mp4 import ImplausibleDuration, format_duration, mp4_duration

CENT = Decimal("0.01")
MONEY = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class CatalogModel(models.Model):
    """Fields every catalog table shares: soft delete, visibility, manual ordering, timestamps."""

    is_delete = models.BooleanField(_("是否删除"), default=False)
    is_show = models.BooleanField(_("是否展示"), default=True)
    orders = models.IntegerField(_("排序"), default=0)
    created_time = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_time = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class CourseCategory(CatalogModel):
    name = models.CharField(_("分类名称"), max_length=64, unique=True)

    class Meta:
        db_table = "luffy_course_category"
        verbose_name = _("课程分类")
        verbose_name_plural = verbose_name
        ordering = ["orders", "id"]

    def __str__(self) -> str:
        return self.name


class Teacher(CatalogModel):
    class Role(models.IntegerChoices):
        LECTURER = 0, _("讲师")
        MENTOR = 1, _("导师")
        HEAD_TEACHER = 2, _("班主任")

    name = models.CharField(_("导师名"), max_length=32)
    role = models.SmallIntegerField(_("导师身份"), choices=Role.choices, default=Role.LECTURER)
    title = models.CharField(_("职位、职称"), max_length=64)
    signature = models.CharField(_("导师签名"), max_length=255, blank=True, default="")
    image = models.ImageField(
        _("导师封面"),
        upload_to="teacher",
        blank=True,
        default="",
        validators=[validate_image_upload],
    )
    brief = models.TextField(_("导师描述"), max_length=1024, blank=True, default="")

    class Meta:
        db_table = "luffy_teacher"
        verbose_name = _("导师")
        verbose_name_plural = verbose_name
        ordering = ["orders", "id"]

    def __str__(self) -> str:
        return self.name


# --- The catalog's rules, written once ---------------------------------------------------------
#
# Each rule is a Q: the ORM filters with it, the search's SQL is compiled from it
# (apps/course/search/mroonga.py), and Python evaluates the same Q on an instance (`holds`).


def visible_condition() -> Q:
    """What shoppers may see: shown, not deleted, online."""
    return Q(is_show=True, is_delete=False, status=Course.Status.ONLINE)


def discount_running(now: datetime) -> Q:
    """The discount price applies at `now`: one is set and start <= now < end."""
    return Q(discount_price__isnull=False, discount_start__lte=now, discount_end__gt=now)


_LOOKUPS = {
    "exact": operator.eq,
    "lte": operator.le,
    "gt": operator.gt,
    "isnull": lambda value, wanted: (value is None) is wanted,
}


def holds(condition: Q, instance: models.Model) -> bool:
    """Whether `instance` meets `condition` (an AND of the lookups in _LOOKUPS on its own
    fields), as the database would judge it: a NULL field fails every comparison."""
    if condition.connector != Q.AND or condition.negated:
        raise ValueError("holds() evaluates an AND of field lookups only")
    for key, wanted in condition.children:
        field, _sep, lookup = key.partition("__")
        value = getattr(instance, field)
        if lookup != "isnull" and value is None:
            return False
        if not _LOOKUPS[lookup or "exact"](value, wanted):
            return False
    return True


class CourseQuerySet(models.QuerySet):
    def visible(self) -> CourseQuerySet:
        """What shoppers may see (`visible_condition`)."""
        return self.filter(visible_condition())

    def with_current_price(self, now: datetime | None = None) -> CourseQuerySet:
        """Annotate `current_price`: the discount price while it runs, else the price."""
        return self.annotate(
            current_price=Case(
                When(discount_running(now or timezone.now()), then=F("discount_price")),
                default=F("price"),
                output_field=models.DecimalField(max_digits=10, decimal_places=2),
            )
        )


class Course(CatalogModel):
    class CourseType(models.TextChoices):
        FREE = "free", _("免费课")
        ACTUAL = "actual", _("实战课")
        LIGHT = "light", _("轻课")

    class Level(models.IntegerChoices):
        BEGINNER = 0, _("初级")
        INTERMEDIATE = 1, _("中级")
        ADVANCED = 2, _("高级")

    class Status(models.IntegerChoices):
        ONLINE = 0, _("上线")
        OFFLINE = 1, _("下线")
        PRE_RELEASE = 2, _("预上线")

    name = models.CharField(_("课程名称"), max_length=128)
    course_img = models.ImageField(
        _("封面图片"),
        upload_to="courses",
        blank=True,
        default="",
        validators=[validate_image_upload],
    )
    course_type = models.CharField(
        _("课程类型"), max_length=16, choices=CourseType.choices, default=CourseType.ACTUAL
    )
    brief = models.TextField(_("详情介绍"), max_length=2048, blank=True, default="")
    # The 课程介绍 tab: HTML written by staff, kept cleaned (clean(); the API cleans it again).
    description = models.TextField(
        _("课程介绍"),
        blank=True,
        default="",
        help_text=_(
            "课程详情页「课程介绍」的完整内容,可用 HTML:段落、标题、列表、表格、引用、代码和链接;"
            "其他标签和属性(脚本、样式、图片等)保存时会被去掉。"
        ),
    )
    level = models.SmallIntegerField(_("难度等级"), choices=Level.choices, default=Level.BEGINNER)
    pub_date = models.DateField(_("发布日期"), default=timezone.localdate)
    period = models.PositiveIntegerField(_("建议学习周期(天)"), default=7)
    status = models.SmallIntegerField(_("课程状态"), choices=Status.choices, default=Status.ONLINE)
    students = models.PositiveIntegerField(_("学习人数"), default=0)
    sections = models.PositiveIntegerField(_("总课时数量"), default=0)
    pub_sections = models.PositiveIntegerField(_("课时更新数量"), default=0)
    price = models.DecimalField(_("课程原价"), default=Decimal("0"), **MONEY)
    discount_type = models.CharField(
        _("优惠类型"), max_length=32, blank=True, default="", help_text=_("如 限时折扣")
    )
    discount_price = models.DecimalField(_("优惠价"), null=True, blank=True, **MONEY)
    discount_start = models.DateTimeField(_("优惠开始"), null=True, blank=True)
    discount_end = models.DateTimeField(_("优惠结束"), null=True, blank=True)
    course_category = models.ForeignKey(
        CourseCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("课程分类"),
    )
    teacher = models.ForeignKey(
        Teacher,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("授课老师"),
    )

    objects = CourseQuerySet.as_manager()

    class Meta:
        db_table = "luffy_course"
        verbose_name = _("课程")
        verbose_name_plural = verbose_name
        ordering = ["orders", "id"]
        indexes = [
            models.Index(
                fields=["status", "is_show", "is_delete", "orders"], name="course_listing"
            ),
            models.Index(fields=["course_type", "orders"], name="course_type_orders"),
            # The page cache looks up the next discount start/end (apps/course/cache.py).
            models.Index(fields=["discount_start"], name="course_discount_start"),
            models.Index(fields=["discount_end"], name="course_discount_end"),
            # A numeric search word may match either price: counted and paged in (orders, id)
            # order from these alone, the discount's window and price read from it too
            # (apps/course/search/mroonga.py).
            models.Index(
                fields=["price", "status", "is_show", "is_delete", "orders"],
                name="course_price_listing",
            ),
            models.Index(
                fields=[
                    "discount_price",
                    "status",
                    "is_show",
                    "is_delete",
                    "orders",
                    "discount_start",
                    "discount_end",
                    "price",
                ],
                name="course_discount_listing",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="course_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_price__isnull=True) | Q(discount_price__gte=0),
                name="course_discount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Staff see what is kept of their HTML once the form is saved.
        self.description = sanitize_html(self.description)
        if self.discount_price is not None:
            if self.discount_start is None or self.discount_end is None:
                raise ValidationError(_("优惠价需要同时设置优惠开始和结束时间"))
            if self.discount_start >= self.discount_end:
                raise ValidationError(_("优惠结束时间必须晚于开始时间"))
            if self.discount_price > self.price:
                raise ValidationError(_("优惠价不能高于原价"))

    def discount_active(self, now: datetime | None = None) -> bool:
        return holds(discount_running(now or timezone.now()), self)

    @property
    def real_price(self) -> Decimal:
        """The price a buyer pays right now."""
        if hasattr(self, "current_price"):  # annotated by with_current_price()
            price = self.current_price
        else:
            price = self.discount_price if self.discount_active() else self.price
        # SQLite hands back annotated decimals with excess digits; money has two.
        return Decimal(price).quantize(CENT)


class CourseChapter(CatalogModel):
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="coursechapters", verbose_name=_("课程")
    )
    chapter = models.PositiveSmallIntegerField(_("第几章"), default=1)
    name = models.CharField(_("章节标题"), max_length=128)
    summary = models.TextField(_("章节介绍"), blank=True, default="")
    pub_date = models.DateField(_("发布日期"), default=timezone.localdate)

    class Meta:
        db_table = "luffy_course_chapter"
        verbose_name = _("章节")
        verbose_name_plural = verbose_name
        ordering = ["chapter", "orders", "id"]
        indexes = [models.Index(fields=["course", "chapter"], name="chapter_course_order")]

    def __str__(self) -> str:
        return _("%(course)s: 第%(chapter)s章 %(name)s") % {
            "course": self.course,
            "chapter": self.chapter,
            "name": self.name,
        }


def video_upload_to(section: CourseSection, filename: str) -> str:
    """An unguessable object key: nobody can fetch a paid video by guessing its name."""
    ext = os.path.splitext(filename)[1].lower()[:10]
    return f"videos/{uuid.uuid4().hex}{ext}"


class CourseSection(CatalogModel):
    class SectionType(models.IntegerChoices):
        DOCUMENT = 0, _("文档")
        EXERCISE = 1, _("练习")
        VIDEO = 2, _("视频")

    chapter = models.ForeignKey(
        CourseChapter,
        on_delete=models.CASCADE,
        related_name="coursesections",
        verbose_name=_("章节"),
    )
    name = models.CharField(_("课时标题"), max_length=128)
    section_type = models.SmallIntegerField(
        _("课时种类"), choices=SectionType.choices, default=SectionType.VIDEO
    )
    section_link = models.CharField(
        _("课时链接"), max_length=255, blank=True, default="", help_text=_("视频或文档的地址")
    )
    video = models.FileField(
        _("视频文件"),
        upload_to=video_upload_to,
        blank=True,
        default="",
        max_length=255,
        validators=[validate_video_upload],
        help_text=_("上传到对象存储(配置七牛时)或本地 media 目录"),
    )
    video_size = models.PositiveBigIntegerField(_("视频大小(字节)"), null=True, blank=True)
    video_etag = models.CharField(_("视频 etag"), max_length=64, blank=True, default="")
    duration = models.CharField(_("视频时长"), max_length=32, blank=True, default="")
    pub_date = models.DateTimeField(_("发布时间"), auto_now_add=True)
    # The column keeps the tutorial's spelling; so does the API key (apps/course/serializers.py).
    free_trial = models.BooleanField(_("是否可试看"), default=False, db_column="free_trail")

    class Meta:
        db_table = "luffy_course_section"
        verbose_name = _("课时")
        verbose_name_plural = verbose_name
        ordering = ["orders", "id"]
        indexes = [models.Index(fields=["chapter", "orders"], name="section_chapter_order")]

    def __str__(self) -> str:
        return f"{self.chapter}-{self.name}"

    def save(self, *args, **kwargs) -> None:
        # Record what is being uploaded; the Qiniu storage checks the stored hash equals it.
        if self.video and not self.video._committed:
            self.video_size = self.video.size
            self.video_etag = stream_etag(self.video.file)
            # A new file's own length wins over what was typed for the old one; not an MP4 (or
            # a header clean() refuses, when saved without it): kept.
            try:
                length = mp4_duration(self.video.file)
            except ImplausibleDuration:
                length = None
            if length is not None:
                self.duration = format_duration(length)
        elif not self.video:
            self.video_size, self.video_etag = None, ""
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """A video whose MP4 header states an impossible length is refused with a form error
        (it used to reach save() and answer 500: OverflowError)."""
        super().clean()
        if self.video and not self.video._committed:
            try:
                mp4_duration(self.video.file)
            except ImplausibleDuration:
                message = _("视频文件头中的时长超过 24 小时,文件可能已损坏,请重新导出后上传")
                raise ValidationError({"video": message}) from None


class CourseDocument(models.Model):
    """The anonymous detail, search card and chapter tree of one course, as the API answers them
    (JSON bytes).

    Kept by apps/course/documents.py: built on read when missing or stale, emptied (and its
    generation bumped) after any write that changes what it says.
    """

    # No foreign key: a document outlives nothing it describes (emptied when the course goes),
    # and a tombstone row must be writable before the course row is read (documents.py).
    course_id = models.BigIntegerField(_("课程"), primary_key=True)
    generation = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=16, blank=True, default="")
    detail = models.BinaryField(null=True)
    detail_expires_at = models.BigIntegerField(null=True)  # µs since the epoch
    card = models.BinaryField(null=True)  # the search card, built and valid with the detail
    chapters = models.BinaryField(null=True)
    chapters_expires_at = models.BigIntegerField(null=True)

    class Meta:
        db_table = "luffy_course_document"
        verbose_name = _("课程文档")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"course {self.course_id} documents (generation {self.generation})"


class SearchCount(models.Model):
    """How many visible courses a search the index answers alone finds, in one search
    generation; the row keyed GENERATION holds the current generation
    (apps/course/search/counts.py keeps them)."""

    digest = models.CharField(max_length=64, primary_key=True)  # of the search's words
    generation = models.BigIntegerField()
    found = models.BigIntegerField()
    stored_at = models.BigIntegerField(db_index=True)  # µs since the epoch

    class Meta:
        db_table = "luffy_search_count"
        verbose_name = _("搜索计数")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.digest[:12]}: {self.found} (generation {self.generation})"


class LessonProgress(models.Model):
    """How far one learner got in one lesson (section): one row per learner and lesson.

    Written by apps/course/services.py `record_progress` in one statement a report; rows stay
    when a refund takes the course back, and are shown again if the learner owns it again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="lesson_progress",
        verbose_name=_("学员"),
    )
    section = models.ForeignKey(
        CourseSection, on_delete=models.CASCADE, related_name="progress", verbose_name=_("课时")
    )
    # The section's course, copied at the first report: a course's figures (the learner's
    # resume, staff's completion counts) read this table alone, by (course, user).
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="lesson_progress", verbose_name=_("课程")
    )
    position = models.PositiveIntegerField(_("播放位置(秒)"), default=0)
    watched = models.PositiveIntegerField(_("已观看(秒)"), default=0)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("最近学习"), default=timezone.now)

    class Meta:
        db_table = "luffy_lesson_progress"
        verbose_name = _("学习进度")
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["user", "section"], name="progress_user_section")
        ]
        indexes = [models.Index(fields=["course", "user"], name="progress_course_user")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.section_id}: {self.watched}s"
