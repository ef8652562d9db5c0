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
    reader = _PoReader()
    for raw in path.read_text(encoding="utf-8").splitlines():
        reader.read(raw.strip())
    reader.finish()
    return reader.entries


class _PoReader:
    """read_po's state: the entries so far, the one being read, the flags for the next one."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.current: Entry | None = None
        self.flags: set[str] = set()
        self.target: tuple[str, int] = ("msgid", 0)  # the field continuation lines append to

    def finish(self) -> None:
        if self.current is not None and self.current.msgid:
            self.entries.append(self.current)
        self.current = None

    def read(self, line: str) -> None:
        if line.startswith("#,"):
            self.finish()
            self.flags = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith('"'):
            self._continue(ast.literal_eval(line))
        elif line and not line.startswith("#"):  # blank lines and other comments say nothing
            keyword, _, rest = line.partition(" ")
            self._field(keyword, ast.literal_eval(rest))

    def _continue(self, text: str) -> None:
        name, index = self.target
        if name == "msgstr":
            self.current.msgstr[index] += text
        else:
            setattr(self.current, name, getattr(self.current, name) + text)

    def _field(self, keyword: str, text: str) -> None:
        current = self.current
        if keyword in ("msgctxt", "msgid") and (
            current is None or current.msgstr or keyword == "msgctxt"
        ):
            self.finish()
            self.current, self.flags = Entry(msgid="", flags=self.flags), set()
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            self.current.msgstr.append(text)
            self.target = ("msgstr", index)
        else:
            setattr(self.current, keyword, text)
            self.target = (keyword, 0)
