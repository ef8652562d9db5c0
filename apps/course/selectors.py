"""Read-side queries of the catalog: what shoppers may see, and in how few SQL queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, F, FilteredRelation, Max, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _
from rest_framework import exceptions

from .models import (
    Course,
    CourseCategory,
    CourseChapter,
    CourseSection,
    LessonProgress,
    Teacher,
)
from .ownership import owned_course_ids
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


SECTION_ORDER = ["chapter__chapter", "chapter__orders", "chapter_id", "orders", "id"]


@dataclass(frozen=True)
class Lesson:
    """A lesson of a course in order, with one learner's progress in it (zeros: not started)."""

    section: int
    name: str
    position: int
    watched: int
    completed: bool
    updated_at: datetime | None


@dataclass(frozen=True)
class Resume:
    """Where a learner picks the course up again."""

    section: int
    name: str
    position: int


@dataclass(frozen=True)
class CourseProgress:
    """One learner in one course: every lesson, completed lessons ÷ lessons, where to resume."""

    course: int
    lessons: list[Lesson]
    completed: int
    percent: int
    resume: Resume | None


def course_progress(user: Any, course_ids: list[int]) -> dict[int, CourseProgress]:
    """The learner's progress in each of these courses (the caller checked they own them):
    one query however many lessons, the lessons left-joined to the learner's rows."""
    rows = (
        visible_sections()
        .filter(chapter__course_id__in=course_ids)
        .annotate(mine=FilteredRelation("progress", condition=Q(progress__user=user)))
        .order_by(*SECTION_ORDER)
        .values_list(
            "course_id",
            "id",
            "name",
            "mine__position",
            "mine__watched",
            "mine__completed_at",
            "mine__updated_at",
        )
    )
    lessons: dict[int, list[Lesson]] = {pk: [] for pk in course_ids}
    for course_id, pk, name, position, watched, completed_at, updated_at in rows:
        lessons[course_id].append(
            Lesson(pk, name, position or 0, watched or 0, completed_at is not None, updated_at)
        )
    return {pk: _summary(pk, found) for pk, found in lessons.items()}


def owned_course_progress(user: Any, course_id: int) -> CourseProgress:
    """The learner's progress in a course they own now; NotFound for no such course,
    PermissionDenied for one they do not own (a refund hides the kept progress)."""
    if not owned_course_ids(user, [course_id]):
        if not Course.objects.filter(pk=course_id, is_delete=False).exists():
            raise exceptions.NotFound(_("课程不存在"))
        raise exceptions.PermissionDenied(_("购买课程后才能查看学习进度"))
    return course_progress(user, [course_id])[course_id]


def attach_course_progress(user: Any, courses: Iterable[Course]) -> None:
    """Set `learning` (CourseProgress) on each of a page of the user's own courses, one query."""
    courses = list(courses)
    found = course_progress(user, [c.pk for c in courses]) if courses else {}
    for course in courses:
        course.learning = found[course.pk]


@dataclass(frozen=True)
class Completion:
    """How a course's learners do, for staff: who started, who finished, the average."""

    lessons: int
    started: int
    completed: int
    average_percent: int


# A progress row of a lesson still shown (staff may hide a lesson after learners watched it).
SHOWN_LESSON = Q(
    section__is_show=True,
    section__is_delete=False,
    section__chapter__is_show=True,
    section__chapter__is_delete=False,
)


def course_completion(course_id: int) -> Completion:
    """Learners with progress in the course's shown lessons (two queries: lessons, learners)."""
    lessons = visible_sections().filter(chapter__course_id=course_id).count()
    done = (
        LessonProgress.objects.filter(SHOWN_LESSON, course_id=course_id)
        .values("user")
        .annotate(done=Count("id", filter=Q(completed_at__isnull=False)))
        .values_list("done", flat=True)
    )
    per_learner = [min(count, lessons) * 100 // lessons for count in done] if lessons else []
    return Completion(
        lessons=lessons,
        started=len(per_learner),
        completed=sum(percent == 100 for percent in per_learner),
        average_percent=round(sum(per_learner) / len(per_learner)) if per_learner else 0,
    )


def learning_completion() -> Completion:
    """The shop's learners for the admin's front page: `started`, learners with progress in a
    shown lesson; `completed`, those who finished at least one course; `average_percent`, the
    mean progress over every (learner, course) they studied; `lessons`, the courses studied.
    Two queries: the studied courses' lesson counts, then one row per learner and course."""
    studied = LessonProgress.objects.values("course_id").distinct()
    lessons = dict(
        visible_sections()
        .filter(chapter__course_id__in=studied)
        .values_list("chapter__course_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    pairs = (
        LessonProgress.objects.filter(SHOWN_LESSON)
        .values_list("user_id", "course_id")
        .annotate(done=Count("id", filter=Q(completed_at__isnull=False)))
        .order_by()
    )
    percents: dict[int, list[int]] = {}
    for user_id, course_id, done in pairs:
        total = lessons.get(course_id)
        if total:
            percents.setdefault(user_id, []).append(min(done, total) * 100 // total)
    every = [percent for mine in percents.values() for percent in mine]
    return Completion(
        lessons=len(lessons),
        started=len(percents),
        completed=sum(100 in mine for mine in percents.values()),
        average_percent=round(sum(every) / len(every)) if every else 0,
    )


def learner_courses(user: Any) -> list[tuple[Course, CourseProgress, datetime]]:
    """Every course the learner has progress in, with it and when they last studied, most
    recent first (staff's view of one user: owned or not)."""
    last = dict(
        LessonProgress.objects.filter(user=user)
        .values("course")
        .annotate(last=Max("updated_at"))
        .values_list("course", "last")
    )
    progress = course_progress(user, list(last))
    courses = Course.objects.in_bulk(list(last))
    found = [(courses[pk], progress[pk], at) for pk, at in last.items() if pk in courses]
    return sorted(found, key=lambda item: item[2], reverse=True)


def _summary(course_id: int, lessons: list[Lesson]) -> CourseProgress:
    completed = sum(lesson.completed for lesson in lessons)
    percent = completed * 100 // len(lessons) if lessons else 0
    return CourseProgress(course_id, lessons, completed, percent, _resume(lessons))


def _resume(lessons: list[Lesson]) -> Resume | None:
    """The lesson watched last if it is unfinished; else the next unfinished one (from its
    saved position); the first lesson when nothing is started or everything is done."""
    if not lessons:
        return None
    started = [i for i, lesson in enumerate(lessons) if lesson.updated_at is not None]
    if started:
        last = max(started, key=lambda i: lessons[i].updated_at)
        after = lessons[last:] + lessons[:last]  # the last one first, then onwards, wrapping
        lesson = next((one for one in after if not one.completed), None)
        if lesson is not None:
            return Resume(lesson.section, lesson.name, lesson.position)
    return Resume(lessons[0].section, lessons[0].name, 0)


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
