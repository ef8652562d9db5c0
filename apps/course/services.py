"""Catalog writes a learner makes: recording how far they got in a lesson."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from .models import CourseSection, LessonProgress
from .mp4 import duration_seconds
from .ownership import owned_course_ids
from .selectors import visible_sections

MAX_SECONDS = 24 * 3600  # no lesson is a day long: a larger figure is a broken or forged report
POSITION_SLACK = 30  # players report a little past the end (rounding, the last frame, seeking)
COMPLETE_SHARE = 0.9  # watched this share of a lesson's length: completed


@dataclass(frozen=True)
class LessonState:
    """One learner's progress in one lesson, as the API answers it."""

    section: int
    position: int
    watched: int
    completed: bool


def owned_lesson(user: Any, section_id: int) -> CourseSection:
    """The visible section `section_id`, with `course_id`, if `user` owns its course.

    NotFound for no such section, PermissionDenied for one of a course the user does not own
    (a free-trial lesson included: progress is an owner's) or no longer owns (refunded).
    """
    section = visible_sections().filter(pk=section_id).only("id", "duration").first()
    if section is None:
        raise exceptions.NotFound(_("课时不存在"))
    if not owned_course_ids(user, [section.course_id]):
        raise exceptions.PermissionDenied(_("购买课程后才能记录学习进度"))
    return section


def record_progress(
    user: Any, section_id: int, *, position: int, watched: int, ended: bool = False
) -> LessonState:
    """Keep a report of the player: the last position, the larger watched figure (capped at
    the lesson's length), completed once watched reaches COMPLETE_SHARE or the video ended.

    One UPDATE a report once the row exists. Two tabs reporting at once race on that row: each
    UPDATE keeps the larger watched value in SQL (GREATEST), so neither loses the other's
    seconds; the first report of a lesson creates the row, and a create that loses the race to
    another tab (the unique constraint) updates instead. Nothing is written on any error.
    """
    section = owned_lesson(user, section_id)
    length = duration_seconds(section.duration)
    if length is not None and position > length + POSITION_SLACK:
        raise exceptions.ValidationError({"position": [_("播放位置超过了视频时长")]})
    watched = min(watched, length) if length is not None else watched
    now = timezone.now()
    completes = ended or (length is not None and watched >= math.ceil(length * COMPLETE_SHARE))
    # The ORM's bulk_create(update_conflicts=True) can only copy the new values over the old,
    # not keep the larger one: an UPDATE with GREATEST, then a create for a lesson's first report.
    larger = Greatest(F("watched"), Value(watched))
    changes: dict[str, Any] = {
        "position": position,
        "watched": larger if length is None else Least(larger, Value(length)),
        "updated_at": now,
    }
    if completes:
        changes["completed_at"] = Coalesce(
            F("completed_at"), Value(now, output_field=DateTimeField())
        )
    rows = LessonProgress.objects.filter(user=user, section_id=section.pk)
    if not rows.update(**changes):
        try:
            with transaction.atomic():
                LessonProgress.objects.create(
                    user=user,
                    section_id=section.pk,
                    course_id=section.course_id,
                    position=position,
                    watched=watched,
                    completed_at=now if completes else None,
                    started_at=now,
                    updated_at=now,
                )
            return LessonState(section.pk, position, watched, completes)
        except IntegrityError:  # another tab created the row first
            rows.update(**changes)
    stored = rows.values_list("position", "watched", "completed_at").get()
    return LessonState(section.pk, stored[0], stored[1], stored[2] is not None)
