"""Our translation catalogues (locale/<lang>/LC_MESSAGES): how they are extracted, and a reader of
.po files that needs no gettext tools.

Our msgids are the Chinese text itself (the source language is zh-hans), so the zh_Hans
catalogue only holds strings written in English (ours and other packages' gaps) and is edited by
hand; the English catalogue (en) is extracted from our sources with `makemessages` and must
translate every msgid we mark. `make messages` re-extracts it and compiles both; the compiled
.mo files are committed, so running the shop needs no gettext tools.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
# The languages whose catalogue is extracted from our sources (zh_Hans is written by hand).
EXTRACTED = ("en",)
# What makemessages must not read: the storefront (its own i18n, and node_modules), tests,
# tools, migrations (their verbose names are frozen copies of the models').
IGNORED = (
    "web",
    "tests",
    "bench",
    "deploy",
    "docs",
    "scripts",
    "staticfiles",
    "media",
    ".tmp",
    "*/migrations/*",
)
MAKEMESSAGES_OPTIONS = {
    "no_wrap": True,
    "add_location": "file",
    "no_obsolete": True,
    "ignore_patterns": list(IGNORED),
}


@dataclass
class Entry:
    """One message of a .po file; `msgstr` has one item, or one per plural form."""

    msgid: str
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr) and "fuzzy" not in self.flags


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header (msgid "") and obsolete (#~) entries left out."""
    entries: list[Entry] = []
    current: Entry | None = None
    flags: set[str] = set()
    target: tuple[str, int] | None = None  # the field continuation lines append to

    def finish() -> None:
        nonlocal current
        if current is not None and current.msgid:
            entries.append(current)
        current = None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            finish()
            flags = {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            text = ast.literal_eval(line)
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += text
            else:
                setattr(current, name, getattr(current, name) + text)
            continue
        text = ast.literal_eval(rest)
        if keyword in ("msgctxt", "msgid") and (
            current is None or current.msgstr or keyword == "msgctxt"
        ):
            finish()
            current, flags = Entry(msgid="", flags=flags), set()
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            current.msgstr.append(text)
            target = ("msgstr", index)
        else:
            setattr(current, keyword, text)
            target = (keyword, 0)
    finish()
    return entries
