"""Any write to the catalog makes cached catalog pages stale (see cache.py)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .cache import bump_catalog_version
from .models import Course, CourseCategory, CourseChapter, CourseSection, Teacher

CATALOG_MODELS = (CourseCategory, Teacher, Course, CourseChapter, CourseSection)


def _catalog_changed(sender: type, **kwargs: Any) -> None:
    # After commit: a page computed before the commit must not be cached under the new version.
    transaction.on_commit(bump_catalog_version)


def connect() -> None:
    for model in CATALOG_MODELS:
        post_save.connect(_catalog_changed, sender=model, dispatch_uid=f"catalog-{model.__name__}")
        post_delete.connect(
            _catalog_changed, sender=model, dispatch_uid=f"catalog-del-{model.__name__}"
        )
