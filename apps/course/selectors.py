"""Read-side queries of the catalog: what shoppers may see, and in how few SQL queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from .models import Course, CourseCategory, CourseChapter, CourseSection
from .search import search_backend

SECTION_PREVIEW_COUNT = 4
MAX_SEARCH_WORDS = 8
MAX_SEARCH_LENGTH = 100


def visible_categories() -> QuerySet[CourseCategory]:
    return CourseCategory.objects.filter(is_show=True, is_delete=False).only("id", "name")


def visible_courses() -> QuerySet[Course]:
    """Courses a shopper may see, priced now, with their teacher joined in (one query)."""
    return Course.objects.visible().with_current_price().select_related("teacher")


def visible_sections() -> QuerySet[CourseSection]:
    """Shown sections of shown chapters, each with its `course_id` (who may watch it)."""
    return CourseSection.objects.filter(
        is_show=True, is_delete=False, chapter__is_show=True, chapter__is_delete=False
    ).annotate(course_id=F("chapter__course_id"))


def attach_section_previews(courses: Iterable[Course]) -> None:
    """Set `section_previews` on each course: its first few sections, in chapter order.

    One query for the whole page, whatever its size: a window function numbers the sections of
    each course and only the first SECTION_PREVIEW_COUNT come back.
    """
    courses = list(courses)
    if not courses:
        return
    ranked = (
        visible_sections()
        .filter(chapter__course_id__in=[c.pk for c in courses])
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("chapter__course_id")],
                order_by=[
                    F("chapter__chapter"),
                    F("chapter__orders"),
                    F("chapter_id"),
                    F("orders"),
                    F("id"),
                ],
            ),
        )
        .filter(rank__lte=SECTION_PREVIEW_COUNT)
        .order_by("course_id", "rank")
    )
    by_course: dict[int, list[CourseSection]] = defaultdict(list)
    for section in ranked:
        by_course[section.course_id].append(section)
    for course in courses:
        course.section_previews = by_course.get(course.pk, [])


def chapter_tree(course_id: int) -> QuerySet[CourseChapter]:
    """Visible chapters of one course with their visible sections (two queries)."""
    return (
        CourseChapter.objects.filter(course_id=course_id, is_show=True, is_delete=False)
        .prefetch_related(Prefetch("coursesections", queryset=visible_sections()))
        .order_by("chapter", "orders", "id")
    )


def search_words(text: str) -> list[str]:
    """Split a search box entry into distinct words (the caller enforces MAX_SEARCH_WORDS)."""
    words: list[str] = []
    for word in text.split():
        if word not in words:
            words.append(word)
    return words


def _as_price(word: str) -> Decimal | None:
    try:
        value = Decimal(word)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value >= Decimal("1e8"):
        return None
    if value != value.quantize(Decimal("0.01")):
        return None  # no price has more than two decimals
    return value


def search_courses(queryset: QuerySet[Course], words: list[str]) -> QuerySet[Course]:
    """Every word must match the name or brief; a numeric word may also match a price.

    The search backend (SEARCH_BACKEND) first narrows to candidates from its index; the
    predicate below still decides, so every backend finds exactly what the scan finds.
    """
    candidates = search_backend().matching(words)
    if candidates is not None:
        queryset = queryset.filter(candidates)
    for word in words:
        condition = Q(name__icontains=word) | Q(brief__icontains=word)
        price = _as_price(word)
        if price is not None:
            condition |= Q(price=price) | Q(current_price=price)
        queryset = queryset.filter(condition)
    return queryset
