"""Course documents: the anonymous course detail and chapter tree, kept as the exact JSON bytes.

A miss of the per-worker page cache used to cost 8-16 ms of CPU (DRF, three serializers, a window
query the ORM compiles anew each time). A document is what the endpoint answers an anonymous
visitor, rendered once and stored in `luffy_course_document` (one row a course): every worker
and every node reads it with one primary-key lookup, on SQLite and MariaDB, with or without
Redis, and nothing has to be warm (docs/cache.md says why a table rather than the cache).

It stays correct this way:

* any write that changes what a document says empties it and bumps its `generation`, creating
  the row if there was none: after the commit for the catalog signals below
  (`invalidate_after_commit`), in the same transaction for the payment, refund and grant
  services that change the `students` counter (`invalidate`: no commit of its own);
* a build reads the row (or its absence) before the catalog rows and stores its bytes only if
  the generation is still the same (or, with no row before, none has appeared): a build racing
  an edit never stores the old state over the edit;
* a document carries when it stops being valid: the course's next discount start or end (the
  price changes without any write), half the life of a signed Qiniu link, and at most
  CATALOG_DOCUMENT_SECONDS as a backstop for writes that bypass signals;
* it is stamped with a fingerprint of the settings its bytes depend on (site and media URLs,
  Qiniu, language), so a deploy that changes them never serves old links;
* a missing, emptied or expired document is built on read; `manage.py build_course_documents`
  builds all of them (deploy step; bulk loads that bypass signals must run it).

Documents hold what anonymous visitors see (`owned` false, links of free-trial sections only):
logged-in requests never read them (apps/course/document_views.py).

A search page's *card* of a course (what CourseSerializer answers) is stored beside its detail
document, rendered from the same rows at the same time, valid as long as the detail is: a page
of cards is one primary-key read of the page's rows (`read_cards`), kept right by all of the
above.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Prefetch
from django.db.models.signals import post_save, pre_delete, pre_save
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer

from . import selectors
from . import serializers as wire
from .models import (
    Course,
    CourseCategory,
    CourseChapter,
    CourseDocument,
    CourseSection,
    Teacher,
)

logger = logging.getLogger(__name__)

DETAIL = "detail"
CHAPTERS = "chapters"
KINDS = (DETAIL, CHAPTERS)
# The columns of each kind (a detail carries its course's search card).
_KIND_COLUMNS = {
    DETAIL: ("detail", "detail_expires_at", "card"),
    CHAPTERS: ("chapters", "chapters_expires_at"),
}
# Bump when a serializer of the detail or the chapter tree changes what a field answers (a change
# of the field lists is seen by itself): every stored document is then rebuilt on its next read.
DOCUMENT_FORMAT = 1
BATCH = 500  # courses per build or invalidation statement (well under SQLite's variable limit)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ANONYMOUS: frozenset[int] = frozenset()  # owned_course_ids of a visitor: none
# Column names come from KINDS only, never from a request.
_SELECT = {
    kind: f"SELECT {kind}, {kind}_expires_at, fingerprint, generation "  # noqa: S608
    f"FROM {CourseDocument._meta.db_table} WHERE course_id = %s"
    for kind in KINDS
}


@dataclass(frozen=True)
class Built:
    """One freshly rendered document and the moment (µs since the epoch) it stops being valid."""

    body: bytes
    expires_at: int
    card: bytes | None = None  # with a detail: the course's search card (CourseSerializer)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


_fingerprint: tuple[object, str] = (None, "")  # (the settings object it was made from, value)


def fingerprint() -> str:
    """What the bytes depend on besides the rows: URLs, Qiniu, language, document format."""
    global _fingerprint
    holder = settings._wrapped  # override_settings swaps the holder: tests get their own
    if _fingerprint[0] is not holder:
        parts = (
            DOCUMENT_FORMAT,
            [s.Meta.fields for s in (wire.CourseDetailSerializer, wire.SectionPreviewSerializer)],
            wire.CourseSerializer.Meta.fields,
            [s.Meta.fields for s in (wire.ChapterSerializer, wire.SectionSerializer)],
            wire.TeacherSerializer.Meta.fields,
            settings.SITE_URL,
            settings.MEDIA_URL,
            settings.MEDIA_BASE_URL,
            repr(settings.QINIU),
            repr(settings.STORAGES.get("default")),
            settings.LANGUAGE_CODE,
        )
        _fingerprint = (holder, hashlib.sha256(repr(parts).encode()).hexdigest()[:16])
    return _fingerprint[1]


def _expires_at(now: datetime, course: Course | None = None) -> int:
    """The first moment the bytes built at `now` may be wrong without any write."""
    moments = [now + timedelta(seconds=settings.CATALOG_DOCUMENT_SECONDS)]
    qiniu = settings.QINIU
    if qiniu and qiniu.private:  # signed links: never served past half their life
        moments.append(now + timedelta(seconds=max(1, qiniu.link_ttl // 2)))
    if course is not None and course.discount_price is not None:
        # The price and its label switch when the discount starts and when it ends.
        moments += [m for m in (course.discount_start, course.discount_end) if m and m > now]
    return _micros(min(moments))


def _render(data: Any) -> bytes:
    # The endpoints' own renderer and settings: the same bytes DRF would send.
    return JSONRenderer().render(data)


def build_details(course_ids: Sequence[int], now: datetime) -> dict[int, Built]:
    """The anonymous detail and search card of each visible course among `course_ids` (three
    queries)."""
    courses = list(
        Course.objects.visible()
        .with_current_price(now)
        .select_related("teacher", "course_category")
        .filter(pk__in=list(course_ids))
    )
    selectors.attach_section_previews(courses)
    context = {"owned_course_ids": _ANONYMOUS}
    rows = wire.CourseDetailSerializer(courses, many=True, context=context).data
    cards = wire.CourseSerializer(courses, many=True, context=context).data
    return {
        course.pk: Built(_render(row), _expires_at(now, course), card=_render(card))
        for course, row, card in zip(courses, rows, cards, strict=True)
    }


def build_chapter_trees(course_ids: Sequence[int], now: datetime) -> dict[int, Built]:
    """The anonymous chapter tree of each visible course among `course_ids` (three queries)."""
    visible = list(Course.objects.visible().filter(pk__in=list(course_ids)).values_list("pk"))
    visible_ids = [pk for (pk,) in visible]
    chapters = (
        CourseChapter.objects.filter(course_id__in=visible_ids, is_show=True, is_delete=False)
        .prefetch_related(Prefetch("coursesections", queryset=selectors.visible_sections()))
        .order_by("course_id", "chapter", "orders", "id")  # selectors.chapter_tree's order
    )
    by_course: dict[int, list[CourseChapter]] = defaultdict(list)
    for chapter in chapters:
        by_course[chapter.course_id].append(chapter)
    context = {"owned_course_ids": _ANONYMOUS}
    expires_at = _expires_at(now)
    return {
        pk: Built(
            _render(wire.ChapterSerializer(by_course.get(pk, []), many=True, context=context).data),
            expires_at,
        )
        for pk in visible_ids
    }


BUILDERS: dict[str, Callable[[Sequence[int], datetime], dict[int, Built]]] = {
    DETAIL: build_details,
    CHAPTERS: build_chapter_trees,
}


def read(course_id: int, kind: str) -> Built | None:
    """The document of a visible course (one query when it is ready), None when the course is
    not visible (the caller answers as the endpoint always has: a 404)."""
    now = timezone.now()
    current = fingerprint()
    with connection.cursor() as cursor:
        cursor.execute(_SELECT[kind], [course_id])
        row = cursor.fetchone()
    return _fresh(row, now, current) or _build_and_store(course_id, kind, row, now, current)


_SELECT_CARDS = (
    "SELECT course_id, card, detail_expires_at, fingerprint, generation "  # noqa: S608
    f"FROM {CourseDocument._meta.db_table} WHERE course_id IN "
)


def _fresh(row: tuple | None, now: datetime, current: str) -> Built | None:
    """The document a row holds (bytes, expires at, fingerprint, ...) if it is still good."""
    if row is None or row[0] is None or row[1] is None or row[2] != current:
        return None
    if row[1] <= _micros(now):
        return None
    return Built(bytes(row[0]), row[1])


def read_cards(course_ids: Sequence[int]) -> dict[int, Built]:
    """The search cards of the visible courses among `course_ids` (one query when they are
    ready; the missing, emptied or expired ones are built with their details: three more, and
    one statement per stored row). A course that is not visible has none."""
    ids = list(dict.fromkeys(course_ids))
    now, current = timezone.now(), fingerprint()
    rows = _card_rows(ids)
    cards = {pk: _fresh(rows.get(pk), now, current) for pk in ids}
    missing = [pk for pk, card in cards.items() if card is None]
    built = _build_and_store_details(missing, rows, now, current)
    return {pk: card for pk, card in cards.items() if card} | {
        pk: Built(details.card or b"", details.expires_at) for pk, details in built.items()
    }


def _card_rows(ids: list[int]) -> dict[int, tuple]:
    """The document rows of these courses: card, detail_expires_at, fingerprint, generation."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_SELECT_CARDS + f"({', '.join(['%s'] * len(ids))})", ids)
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _build_and_store_details(
    ids: list[int], rows: dict[int, tuple], now: datetime, current: str
) -> dict[int, Built]:
    """Build the details (and cards) of these courses and store them: an update for a row
    read before (`rows`), one INSERT for the others."""
    if not ids:
        return {}
    with translation.override(settings.LANGUAGE_CODE):
        built = build_details(ids, now)
    for pk in built.keys() & rows.keys():
        _store_built(pk, DETAIL, built[pk], rows[pk], current)
    new = [
        CourseDocument(course_id=pk, fingerprint=current, **_columns(DETAIL, built[pk]))
        for pk in built.keys() - rows.keys()
    ]
    if new:
        try:  # a row that appeared since (an invalidation) wins: see _store
            CourseDocument.objects.bulk_create(new, ignore_conflicts=True)
        except OperationalError:  # busy database: answer anyway, the next read stores them
            logger.warning("course documents %s not stored", new, exc_info=True)
    return built


def _columns(kind: str, built: Built) -> dict[str, Any]:
    """The columns a built document of `kind` fills (a detail carries its card)."""
    values: dict[str, Any] = {kind: built.body, f"{kind}_expires_at": built.expires_at}
    if kind == DETAIL:
        values["card"] = built.card
    return values


def seconds_left(document: Built) -> int:
    """Whole seconds before `document` stops being valid (at least 1)."""
    return max(1, (document.expires_at - _micros(timezone.now())) // 1_000_000)


def _build_and_store(
    course_id: int, kind: str, row: tuple | None, now: datetime, current: str
) -> Built | None:
    with translation.override(settings.LANGUAGE_CODE):
        built = BUILDERS[kind]([course_id], now).get(course_id)
    if built is None:
        return None  # not visible: no row is written for ids that are not on sale
    _store_built(course_id, kind, built, row, current)
    return built


def _store_built(course_id: int, kind: str, built: Built, row: tuple | None, current: str) -> None:
    """Store a document built after `row` (the course's document row, or None) was read."""
    values = _columns(kind, built)
    if row is not None and row[2] != current:
        # The other kind was built under other settings: it must not pass as current.
        other = CHAPTERS if kind == DETAIL else DETAIL
        values |= dict.fromkeys(_KIND_COLUMNS[other])
    try:
        _store(course_id, values | {"fingerprint": current}, None if row is None else row[3])
    except OperationalError:  # busy database: answer anyway, the next read stores it
        logger.warning("course document %s/%s not stored", course_id, kind, exc_info=True)


def _store(course_id: int, values: dict[str, Any], generation: int | None) -> None:
    """Store what was built from rows read after `generation` was (None: there was no row).

    Stores nothing if the document was invalidated since: its generation moved on, or (no row
    before) the invalidation created the row first.
    """
    if generation is None:
        document = CourseDocument(course_id=course_id, **values)
        CourseDocument.objects.bulk_create([document], ignore_conflicts=True)
    else:
        CourseDocument.objects.filter(pk=course_id, generation=generation).update(**values)


def _batches(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def invalidate(course_ids: Iterable[int]) -> None:
    """Empty the documents of these courses and bump their generation.

    Rows are created first where missing: a build that started before the change and found no
    row then fails to insert its bytes, and one that found a row fails on the generation. Inside
    the transaction that changes the course, the rows stay locked until it commits, so a build
    waits for it and then stores nothing; after that commit, a build that read before it loses
    the same way.

    One upsert per batch, written as SQL: every paid notify calls this inside its settlement,
    and the ORM's two statements (insert-or-ignore, then update) cost that hot path more CPU
    than the database's work (issue 12).
    """
    for chunk in _batches(sorted(set(course_ids))):
        with connection.cursor() as cursor:
            cursor.execute(_invalidate_sql(len(chunk)), list(chunk))


_EMPTIED = (*_KIND_COLUMNS[DETAIL], *_KIND_COLUMNS[CHAPTERS])


def _invalidate_sql(rows: int) -> str:
    quote = connection.ops.quote_name
    table = quote(CourseDocument._meta.db_table)
    columns = ("course_id", "generation", "fingerprint", *_EMPTIED)
    values = ", ".join(["(%s, 0, '', " + ", ".join(["NULL"] * len(_EMPTIED)) + ")"] * rows)
    generation = quote("generation")
    emptied = ", ".join(f"{quote(c)} = NULL" for c in _EMPTIED)
    if connection.vendor == "mysql":
        upsert = f"ON DUPLICATE KEY UPDATE {generation} = {generation} + 1, {emptied}"
    else:  # SQLite (and PostgreSQL) spell the upsert this way
        upsert = (
            f"ON CONFLICT ({quote('course_id')}) DO UPDATE SET "
            f"{generation} = {table}.{generation} + 1, {emptied}"
        )
    names = ", ".join(quote(c) for c in columns)
    # Names come from the model, values are bound parameters.
    return f"INSERT INTO {table} ({names}) VALUES {values} {upsert}"  # noqa: S608


def invalidate_after_commit(course_ids: Iterable[int]) -> None:
    """`invalidate` once the current transaction commits (at once outside of one): a document
    built before the commit must not survive it."""
    ids = list(course_ids)
    if ids:
        transaction.on_commit(partial(invalidate, ids))


def build_all() -> int:
    """Build the detail and chapter tree of every visible course and empty the documents of the
    others. Returns how many courses have documents now."""
    ids = list(Course.objects.visible().order_by("pk").values_list("pk", flat=True))
    current = fingerprint()
    for chunk in _batches(ids):
        generations = dict(
            CourseDocument.objects.filter(pk__in=chunk).values_list("course_id", "generation")
        )
        now = timezone.now()
        with translation.override(settings.LANGUAGE_CODE):
            details = build_details(chunk, now)
            trees = build_chapter_trees(chunk, now)
        with transaction.atomic():
            for pk in chunk:
                if pk not in details or pk not in trees:
                    continue  # hidden since the id list was read
                values = {
                    "fingerprint": current,
                    **_columns(DETAIL, details[pk]),
                    **_columns(CHAPTERS, trees[pk]),
                }
                _store(pk, values, generations.get(pk))
    hidden = CourseDocument.objects.exclude(pk__in=Course.objects.visible().values("pk"))
    stale = hidden.exclude(detail__isnull=True, chapters__isnull=True)
    invalidate(list(stale.values_list("course_id", flat=True)))
    return len(ids)


# --- Signals: which documents a catalog write changes ------------------------------------------


def _stored_course_ids(sender: type, instance: Any) -> list[int]:
    """Courses whose documents show `instance` as it is stored now (before a save or delete)."""
    if instance.pk is None:
        return []
    if sender is Course:
        return [instance.pk]
    if sender is CourseChapter:
        return list(CourseChapter.objects.filter(pk=instance.pk).values_list("course", flat=True))
    if sender is CourseSection:
        stored = CourseSection.objects.filter(pk=instance.pk)
        return list(stored.values_list("chapter__course", flat=True))
    field = {Teacher: "teacher", CourseCategory: "course_category"}[sender]
    return list(Course.objects.filter(**{field: instance.pk}).values_list("pk", flat=True))


def _saved_course_ids(sender: type, instance: Any) -> list[int]:
    """Courses whose documents show `instance` as it was just saved."""
    if sender is CourseChapter:
        return [instance.course_id]
    if sender is CourseSection:
        if CourseSection.chapter.is_cached(instance):
            return [instance.chapter.course_id]
        chapter = CourseChapter.objects.filter(pk=instance.chapter_id)
        return list(chapter.values_list("course", flat=True))
    return _stored_course_ids(sender, instance)


def _before_save(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    # A chapter or section may move to another course: the one it leaves changes too.
    instance._document_course_ids = [] if raw else _stored_course_ids(sender, instance)


def _after_save(sender: type, instance: Any, **kwargs: Any) -> None:
    before = getattr(instance, "_document_course_ids", [])
    invalidate_after_commit({*before, *_saved_course_ids(sender, instance)})


def _before_delete(sender: type, instance: Any, **kwargs: Any) -> None:
    # Before: a teacher's or category's courses are unlinked (SET NULL) by the time it is gone.
    invalidate_after_commit(_stored_course_ids(sender, instance))


CATALOG_MODELS = (CourseCategory, Teacher, Course, CourseChapter, CourseSection)


def connect() -> None:
    for model in CATALOG_MODELS:
        name = model.__name__
        if model in (CourseChapter, CourseSection):
            pre_save.connect(_before_save, sender=model, dispatch_uid=f"document-pre-{name}")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"document-{name}")
        pre_delete.connect(_before_delete, sender=model, dispatch_uid=f"document-del-{name}")
