"""Keeps the search index in step with course writes (create, edit, hide, delete).

Every path that writes a course's name, brief, orders or visibility (is_show, is_delete,
status) goes through Model.save() (the API, the admin, load_demo's update_or_create); none uses
QuerySet.update() on those columns (settlement and refunds update only `students`, which the
index does not hold). A bulk path that does must call `search_backend().index(ids)` and then
`counts.bump()` itself (cached counts, search/counts.py), or `manage.py rebuild_search_index`
after (it does both).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from ..models import Course
from . import search_backend


def _course_saved(sender: type, instance: Course, **kwargs: Any) -> None:
    backend = search_backend()
    ids = [instance.pk]
    if transaction.get_connection().in_atomic_block:
        # In the save's transaction (an index that cannot roll back keeps the old text too),
        # then again with the committed text.
        backend.index(ids, until_commit=True)
        transaction.on_commit(lambda: backend.index(ids))
    else:
        backend.index(ids)


def _course_deleted(sender: type, instance: Course, **kwargs: Any) -> None:
    backend = search_backend()
    ids = [instance.pk]
    # After the commit: a rolled-back delete must still find the course.
    transaction.on_commit(lambda: backend.remove(ids))


def connect() -> None:
    post_save.connect(_course_saved, sender=Course, dispatch_uid="search-index-course")
    post_delete.connect(_course_deleted, sender=Course, dispatch_uid="search-remove-course")
