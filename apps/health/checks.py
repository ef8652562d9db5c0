"""Readiness checks: can this node serve the shop right now (database, migrations, shared cache,
media storage, search index)? Each check runs the real call with a short budget and reports,
never raises."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.course.search.checks import check_search_index
from utils.logging import get_logger

logger = get_logger("health")


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    milliseconds: float
    # Only the exception's class reaches the (public) answer; the details go to the log.
    error: str = ""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 answered something else")


class MigrationsPending(Exception):
    pass


def check_migrations() -> None:
    """An old node against a newer schema, or a new node before `migrate`, must not take traffic."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        raise MigrationsPending(f"{len(plan)} migration(s) not applied: {names}")


def check_cache() -> None:
    """The shared cache (throttles, catalog version) takes a write and gives it back."""
    key, value = f"health:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the shared cache lost a value it had just stored")
    finally:
        cache.delete(key)


def check_storage() -> None:
    """Media storage answers (Qiniu: a stat call; local: the folder exists and is writable)."""
    default_storage.exists(f"health-probe-{uuid.uuid4().hex}")
    location = getattr(default_storage, "location", None)
    if location is not None:
        # A fresh install has no media folder until the first upload, which would create it.
        os.makedirs(location, exist_ok=True)
        if not os.path.isdir(location):
            raise NotADirectoryError(f"MEDIA_ROOT {location} is not a directory")
        if not os.access(location, os.W_OK | os.X_OK):
            raise PermissionError(f"MEDIA_ROOT {location} is not writable")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "migrations": check_migrations,
    "cache": check_cache,
    "storage": check_storage,
    "search": check_search_index,
}


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # a failing dependency is an answer, not a crash
            logger.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            error = type(exc).__name__
            ok = False
        else:
            error, ok = "", True
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        results.append(CheckResult(name, ok, elapsed, error))
    return results
