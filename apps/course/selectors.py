"""Read-side queries of the catalog: what shoppers may see, and in how few SQL queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from .models import Course, CourseCategory, CourseChapter, CourseSection, Teacher
from .search import counts as search_counts
from .search import search_backend
from .search.words import as_price

SECTION_PREVIEW_COUNT = 4
MAX_SEARCH_WORDS = 8
MAX_SEARCH_LENGTH = 100


def visible_categories() -> QuerySet[CourseCategory]:
    return CourseCategory.objects.filter(is_show=True, is_delete=False).only("id", "name")


def visible_courses() -> QuerySet[Course]:
    """Courses a shopper may see, priced now, with their teacher joined in (one query)."""
    return Course.objects.visible().with_current_price().select_related("teacher")


def visible_teacher(teacher_id: int) -> Teacher | None:
    """A shown teacher with `course_list`: their visible courses as the lists show them, with
    section previews (three queries); None when there is no such teacher to show."""
    teacher = Teacher.objects.filter(pk=teacher_id, is_show=True, is_delete=False).first()
    if teacher is None:
        return None
    courses = list(visible_courses().filter(teacher=teacher))
    attach_section_previews(courses)
    teacher.course_list = courses
    return teacher


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


class IndexedSearch:
    """A search the index answers alone, as a sequence Django's Paginator can page through.

    The count is one COUNT(*) on the index and a page is one ORDER BY ... LIMIT on it, then the
    page's courses by primary key: neither reads every match (at 1,000,000 courses a common word
    holds 100,000). Only for a search whose every word the backend decides (`decided_words`),
    ordered by (orders, id), or (-orders, id) when descending: the search page's default and
    its `ordering=orders`/`-orders`.
    """

    def __init__(self, words: list[str], *, descending: bool) -> None:
        self.words, self.descending = words, descending
        self._count: int | None = None
        self._reads: dict[str, Any] = {}  # what the count read, for the page (one request)

    def count(self) -> int:
        if self._count is None:
            self._count = search_counts.count(self.words, reads=self._reads)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def page_ids(self, page: slice) -> list[int]:
        """Ids of the page's courses, in order (they were visible when the index was read)."""
        start, stop = page.start or 0, page.stop
        if stop is None or stop <= start:
            return []
        return search_backend().page(
            self.words,
            descending=self.descending,
            offset=start,
            limit=stop - start,
            count=self._count,
            reads=self._reads,
        )

    def __getitem__(self, page: slice) -> list[Course]:
        ids = self.page_ids(page)
        by_id = visible_courses().in_bulk(ids)
        # A course hidden after the index was read is left out (its entry goes on commit).
        return [by_id[pk] for pk in ids if pk in by_id]

    def ids(self) -> IndexedIds:
        """The same search as a sequence of course ids (the cards' page reads no course row)."""
        return IndexedIds(self)


class IndexedIds:
    """An IndexedSearch whose slices are course ids (for Django's Paginator)."""

    def __init__(self, search: IndexedSearch) -> None:
        self.search = search

    def count(self) -> int:
        return self.search.count()

    def __len__(self) -> int:
        return self.search.count()

    def __getitem__(self, page: slice) -> list[int]:
        return self.search.page_ids(page)


def decided_words(words: list[str]) -> frozenset[str]:
    """The words the search index decides exactly (one query at most; none for LIKE)."""
    return search_backend().decides(words)


def _narrowed(queryset: QuerySet[Course], candidates: Q) -> QuerySet[Course]:
    """`queryset.filter(candidates)`, with a candidate id list written into the SQL as numbers.

    Django binds each id of `pk__in=[...]` as a parameter, resolved, prepared and escaped one
    by one, for the count and again for the page: 120-130 ms of CPU for the 16,000 candidates of
    a price at 1,000,000 courses (`39.92`), for one join of integers here.
    """
    if len(candidates.children) == 1 and not candidates.negated:
        child = candidates.children[0]
        if isinstance(child, tuple) and child[0] == "pk__in" and isinstance(child[1], list):
            ids = child[1]
            if ids and all(type(pk) is int for pk in ids):  # ints only: nothing to escape
                quote = connection.ops.quote_name
                column = f"{quote(Course._meta.db_table)}.{quote(Course._meta.pk.column)}"
                listed = ",".join(map(str, ids))
                return queryset.extra(where=[f"{column} IN ({listed})"])  # noqa: S610
    return queryset.filter(candidates)


def search_courses(
    queryset: QuerySet[Course], words: list[str], *, decided: frozenset[str] | None = None
) -> QuerySet[Course]:
    """Every word must match the name or brief; a numeric word may also match a price.

    The search backend (SEARCH_BACKEND) first narrows to candidates from its index; the
    predicate below still decides each word the index does not decide exactly, so every backend
    finds what the scan finds. `queryset` must be within `visible_courses()`: the index holds
    only visible courses. `decided`: `decided_words(words)` if the caller has it already.
    """
    backend = search_backend()
    candidates = backend.matching(words)
    if candidates is None:
        decided = frozenset()  # nothing narrowed: the predicate decides every word
    else:
        queryset = _narrowed(queryset, candidates)
        decided = backend.decides(words) if decided is None else decided
    for word in words:
        if word in decided:
            continue
        condition = Q(name__icontains=word) | Q(brief__icontains=word)
        price = as_price(word)
        if price is not None:
            condition |= Q(price=price) | Q(current_price=price)
        queryset = queryset.filter(condition)
    return queryset
