"""Build the search index of SEARCH_BACKEND from the whole catalog (creates its table if missing).

Run after installing Mroonga, after switching SEARCH_BACKEND to mroonga, and after any bulk
write that bypassed Model.save(). Searches keep working while it runs (apps/course/search/).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.course.search import counts, search_backend


class Command(BaseCommand):
    help = "Rebuild the course search index of SEARCH_BACKEND."

    def handle(self, *args: Any, **options: Any) -> None:
        backend = search_backend()
        started = time.perf_counter()
        try:
            count = backend.rebuild()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        counts.bump()  # the index was rewritten in bulk: no cached count may outlive it
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{backend.name}: {count} courses indexed in {elapsed:.1f}s")
