"""Says when the configured search index cannot serve: a system check (manage.py check, at
startup of runserver/migrate) and a readiness check (/health/ready/)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from . import search_backend
from .accelerators import groonga


class SearchIndexMissing(Exception):
    pass


def check_search_index() -> None:
    """Readiness: raise when SEARCH_BACKEND names an index this database does not have."""
    problem = search_backend().problem()
    if problem:
        raise SearchIndexMissing(problem)


def _system_check(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list:
    if not databases or "default" not in databases:
        return []  # ask the database only when the caller allows it (migrate, check --database)
    try:
        problem = search_backend().problem()
        accelerated = settings.SEARCH_BACKEND == "mroonga" and settings.SEARCH_ACCELERATORS
        slow = not problem and accelerated and not groonga.available()
    except DatabaseError as exc:
        return [checks.Warning(f"could not check the search index: {exc}", id="course.W002")]
    if problem:
        return [
            checks.Warning(
                problem,
                hint="Install mariadb-plugin-mroonga, load ha_mroonga.so, then run "
                "manage.py rebuild_search_index (docs/deploying.md).",
                id="course.W001",
            )
        ]
    if slow:  # searches stay exact and served (readiness is unaffected), only slower to count
        return [checks.Warning(groonga.UDF_MISSING, hint=groonga.UDF_HINT, id="course.W003")]
    return []


def register() -> None:
    checks.register(_system_check, checks.Tags.database)
