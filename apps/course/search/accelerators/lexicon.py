"""Latin words through the word index: which whole runs of letters hold a word.

The search table has a second FULLTEXT index, `body_words` (table.build_table), tokenised by
TokenBigram with the column's normaliser (NormalizerMySQLUnicodeCI): a maximal run of letters
(any script Groonga calls alpha: Latin, accented, Greek, Cyrillic...) is one token, folded as the
bigram index folds it (ASCII upper-cased, accents and full-width forms folded, `ß` kept); digits,
symbols, blanks, ideographs and the newlines table.rows_sql puts between name, brief and dropped
marks all end a run. So a query word made only of ASCII letters occurs in a text exactly when
some token of that text contains it, and its matches are the union of the postings of every
lexicon key containing it: `Kamirovel` is 6 keys, one posting list each, where its phrase of 8
bigrams walks `KA`'s 312,487 postings (docs/benchmark.md, "What was tried").

Finding the keys: Groonga 7.0.7 has no substring search of a lexicon faster than a scan of it
(`select <lexicon> --filter '_key @ "W"'`: 130-400 ms for 194,000 keys at 1,000,000 courses), an
index on a lexicon's `_key` is not fed by the full-text index's own inserts (checked), and Mroonga
offers no KEY_WITH_SIS lexicon. So the keys are mirrored here, once per process (one `select` of
the lexicon, ~0.3 s at 1M), as one newline-separated string that `str.find` scans (1-7 ms a
word, and a word's keys are kept until the lexicon grows).

Why the mirror stays exact: Groonga never removes a key from a full-text lexicon (an UPDATE, a
DELETE, DELETE without WHERE and TRUNCATE all keep them: tests/course/test_search_words.py pins
it), so key ids are 1..n_records in the order keys arrived, and a write that brings new words
adds ids above the last. Every select that used the mirror also reads, in the same statement,
the table's build token (a random number build_table writes in `<table>_build`) and the
lexicon's n_records (`object_inspect`); if they are not the mirror's, the answer is not used:
a grown lexicon is caught up with its newest keys, checked to be exactly the ids expected, and
anything else (another build; fewer records; ids that are not 1..n) reloads it or, failing
that, declines. A key with no posting left matches nothing, so
stale keys cost a term, never a wrong answer.

What it declines (the bigram phrase answers, as before): a word that is not 2+ ASCII letters;
one held by more than MAX_KEYS keys (a union that wide costs more than the phrase: `Flask`,
4,738 keys, 66 ms against 49); any search while a course's text holds a run of LONG_RUN or more
characters that could belong to one token (column `long_run`): Groonga drops a token longer
than its key limit (4,096 bytes) from the lexicon, so such a text's long word would be found by
`LIKE` but by no key. The normaliser maps one character to at most one (checked: `ß`, `ﬁ`,
`Ⅻ`, `㎏` stay themselves), so a 4,096-byte token needs 1,025 characters; LONG_RUN counts every
character except the ones that can never be in a run (white space, ASCII digits and punctuation,
CJK ideographs), so it marks a superset. Without the mroonga_command UDF nothing here is used.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection

from utils.logging import get_logger

from ..table import WORD_INDEX, WORD_TOKENIZER, build_table_name

logger = get_logger("course.search")

INDEX = WORD_INDEX
TOKENIZER = WORD_TOKENIZER
# A query word the word index decides: ASCII letters only (each is its own folded form's source:
# the lexicon holds them upper-cased), two or more (one letter: the bigram index's prefix search).
WORD = re.compile(r"[A-Za-z]{2,}")
# More keys than this: the bigram phrase is cheaper (measured at 1,000,000 courses: 767 keys 9.7
# ms against the phrase's 16.9, 1,918 keys 35 against 31, 4,738 keys 66 against 49).
MAX_KEYS = 1_000
# Words whose keys are remembered per lexicon state (cleared when the lexicon grows).
EXPANSIONS = 10_000


def lexicon_name(table: str) -> str:
    """Mroonga names an index's lexicon `<table>#<index>` (RENAME TABLE renames it too)."""
    return f"{table}#{INDEX}"


@dataclass
class _Mirror:
    build: int  # the table's build token
    size: int
    keys: str  # "\n" + every key joined by "\n" + "\n"
    expansions: dict[str, tuple[str, ...] | None] = field(default_factory=dict)


_mirrors: dict[str, _Mirror] = {}
_lock = threading.Lock()


def forget() -> None:
    """Drop every mirror (tests that rebuild tables)."""
    with _lock:
        _mirrors.clear()


def _command(cursor: Any, *args: str) -> Any:
    cursor.execute(f"SELECT mroonga_command({', '.join(['%s'] * len(args))})", list(args))
    answer = cursor.fetchone()[0]
    return json.loads(answer.decode() if isinstance(answer, bytes) else answer)


def state_sql(table: str) -> tuple[str, list[str]]:
    """Select-list items (and their parameters) reading the lexicon's state; `state` reads
    them. Sent in the same statement as a `select` that used a mirror, they tell whether the
    mirror was the lexicon's when the select ran."""
    long_run = f"SELECT 1 FROM {table} WHERE long_run = 1"  # noqa: S608 - constants
    token = f"SELECT token FROM {build_table_name(table)} WHERE id = 1"  # noqa: S608 - constants
    items = f"mroonga_command('object_inspect', 'name', %s), EXISTS({long_run}), ({token})"
    return items, [lexicon_name(table)]


STATE_ITEMS = 3  # how many select-list items state_sql gives


def state(
    inspected: str | bytes | None, long_run: int, build: int | None
) -> tuple[int, int] | None:
    """(build token, n_records) of the word lexicon; None when a course is marked long_run or
    the lexicon is missing (a table built before this index: rebuild_search_index). The token,
    not Groonga's object id: a rebuild's new lexicon may get the id of one dropped earlier."""
    if long_run or not inspected or build is None:
        return None
    found = json.loads(inspected.decode() if isinstance(inspected, bytes) else inspected)
    if not isinstance(found, dict) or "n_records" not in found:
        return None
    return int(build), int(found["n_records"])


def _state(cursor: Any, table: str) -> tuple[int, int] | None:
    items, params = state_sql(table)
    cursor.execute(f"SELECT {items}", params)
    return state(*cursor.fetchone())


def _read(cursor: Any, table: str, *, newest: int | None = None) -> list[list[Any]]:
    """[id, key] of every key of the lexicon, or of its `newest` ones (by id), as Groonga's
    JSON gives them (no conversion: 194,000 of them at 1M courses)."""
    args = ["table", lexicon_name(table), "output_columns", "_id,_key", "cache", "no"]
    if newest is None:
        args += ["limit", "-1"]
    else:
        args += ["sort_keys", "-_id", "limit", str(newest)]
    result = _command(cursor, "select", *args)[0]
    return result[2:]


def _joined(keys: Iterable[str]) -> str:
    return "\n" + "\n".join(keys) + "\n"


def _mirror(cursor: Any, table: str, build: int, size: int) -> _Mirror | None:
    """The mirror of this lexicon state: kept, caught up, or read again; None when the lexicon
    does not look append-only (then nothing here may be trusted)."""
    with _lock:
        known = _mirrors.get(table)
    if known is not None and known.build == build and known.size == size:
        return known
    mirror = _caught_up(cursor, table, known, build, size) or _read_whole(cursor, table, build)
    if mirror is not None:
        with _lock:
            _mirrors[table] = mirror
    return mirror


def _caught_up(
    cursor: Any, table: str, known: _Mirror | None, build: int, size: int
) -> _Mirror | None:
    """`known` with the lexicon's newest keys added, when they are exactly the ids after it."""
    if known is None or known.build != build or known.size >= size:
        return None
    rows = sorted(_read(cursor, table, newest=size - known.size))
    if [pk for pk, _key in rows] != list(range(known.size + 1, size + 1)):
        return None
    return _Mirror(build, size, known.keys + _joined(key for _pk, key in rows)[1:])


def _read_whole(cursor: Any, table: str, build: int) -> _Mirror | None:
    rows = _read(cursor, table)  # in key order; ids are unique, so 1..n when min 1 and max n
    ids = [pk for pk, _key in rows]
    if rows and (min(ids) != 1 or max(ids) != len(ids)):
        # Not ids 1..n: a key was removed (or keys arrived while reading). Decline; the next
        # search reads again.
        logger.warning("search: the word lexicon of %s is not append-only; not used", table)
        return None
    return _Mirror(build, len(rows), _joined(key for _pk, key in rows))


def _containing(keys: str, word: str) -> tuple[str, ...] | None:
    """Every key holding `word` (already folded), or None past MAX_KEYS."""
    found: list[str] = []
    at = keys.find(word)
    while at >= 0:
        start = keys.rfind("\n", 0, at) + 1
        end = keys.find("\n", at)
        found.append(keys[start:end])
        if len(found) > MAX_KEYS:
            return None
        at = keys.find(word, end)
    return tuple(found)


@dataclass(frozen=True)
class Plan:
    """Which words the word index answers, with the keys holding each (possibly none: then no
    course holds it), as the lexicon was in `state`."""

    keys: dict[str, tuple[str, ...]]
    state: tuple[int, int]


def eligible(words: list[str]) -> list[str]:
    return [word for word in dict.fromkeys(words) if WORD.fullmatch(word)]


def plan(table: str, words: list[str], *, refresh: bool) -> Plan | None:
    """The words' keys from this process's mirror: as it is (no query; the caller checks the
    state in its own statement), or brought up to date first (`refresh`, or no mirror yet: one
    statement, more when the lexicon grew). None when nothing here may answer. Called only with the
    mroonga_command UDF present (groonga.select)."""
    words = eligible(words)
    mirror = _current_mirror(table, refresh=refresh) if words else None
    if mirror is None:
        return None
    found = {word: _expanded(mirror, word) for word in words}
    found = {word: keys for word, keys in found.items() if keys is not None}
    return Plan(found, (mirror.build, mirror.size)) if found else None


def _current_mirror(table: str, *, refresh: bool) -> _Mirror | None:
    """This process's mirror as it is, or brought up to date (`refresh`, or none yet)."""
    with _lock:
        mirror = _mirrors.get(table)
    if mirror is not None and not refresh:
        return mirror
    try:
        with connection.cursor() as cursor:
            current = _state(cursor, table)
            return None if current is None else _mirror(cursor, table, *current)
    except DatabaseError as exc:
        logger.warning("search: the word lexicon of %s could not be read (%s)", table, exc)
        return None


def _expanded(mirror: _Mirror, word: str) -> tuple[str, ...] | None:
    """The keys holding `word` (remembered per mirror), None past MAX_KEYS."""
    folded = word.upper()  # the normaliser's folding of ASCII letters
    if folded not in mirror.expansions:
        if len(mirror.expansions) >= EXPANSIONS:
            mirror.expansions.clear()
        mirror.expansions[folded] = _containing(mirror.keys, folded)
    return mirror.expansions[folded]
