"""`manage.py messages` (`make messages`): re-extract the English catalogue from our sources, then
compile every catalogue. Needs GNU gettext (xgettext, msgmerge, msgfmt); running the shop and
the tests does not, the compiled .mo files are committed."""

from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from utils.catalogues import EXTRACTED, IGNORED, MAKEMESSAGES_OPTIONS, ROOT, read_po


class Command(BaseCommand):
    help = "Re-extract locale/en from our sources and compile every catalogue (.po → .mo)."

    def handle(self, *args: Any, **options: Any) -> None:
        os.chdir(ROOT)  # makemessages and compilemessages walk the current directory
        call_command("makemessages", locale=list(EXTRACTED), verbosity=0, **MAKEMESSAGES_OPTIONS)
        # The storefront's node_modules hold other packages' locale folders: not ours to compile.
        call_command("compilemessages", ignore_patterns=list(IGNORED), verbosity=0)
        for language in EXTRACTED:
            entries = read_po(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")
            todo = [e.msgid for e in entries if not e.translated]
            self.stdout.write(f"{language}: {len(entries)} messages, {len(todo)} to translate")
            for msgid in todo:
                self.stdout.write(f"  {msgid}")
