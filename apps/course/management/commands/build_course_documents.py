"""Build the anonymous detail and chapter-tree document of every visible course (deploy step).

Documents are also built on read, so this is never needed for correctness: it spares the first
visitors of each course the build, and brings them in line after a bulk load that bypassed the
catalog signals (bench/seed.py) or a change of SITE_URL, media or Qiniu settings.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from apps.course import documents


class Command(BaseCommand):
    help = "Build the course documents (anonymous detail and chapter tree) of every visible course."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        count = documents.build_all()
        self.stdout.write(
            f"built documents of {count} courses in {time.monotonic() - started:.1f} s"
        )
