"""Groonga's own `select`, through Mroonga's `mroonga_command` UDF, on the search table.

Why: Mroonga's `SELECT COUNT(*) ... WHERE MATCH(...)` counts a middling word 2-3 times slower
than Groonga's `select --limit 0` on the same index (docs/benchmark.md, "What was tried"), and
one `select --sort_keys orders,_key --limit N` returns the exact count *and* the first page
(Groonga counts every match whatever `--limit` says), where SQL needs two walks of the phrase.

What Groonga sees of our table (read with `table_list` / `column_list`, never guessed; pinned by
tests/course/test_search_groonga.py): Mroonga's storage mode keeps the SQL table
`luffy_course_search` as a Groonga table of the same name whose `_key` is the primary key (our
`id`, Int64), with columns `body` (LongText), `orders` (Int32) and `long_run` (Int8); each
FULLTEXT index is the column `index` of a lexicon named `<table>#<index name>` (the table part
moves with a rebuild's RENAME). `body` has two: `body_bigrams` (BIGRAM_INDEX, the one Mroonga's
MATCH uses: the first) and `body_words` (lexicon.py), so `--match_columns body` would leave the
choice to Groonga (it took the word index when tried): the index is always named. Same index,
same lexicon, same normaliser (NormalizerMySQLUnicodeCI) and same query parser as `MATCH ...
AGAINST`; a Latin word the word index decides (lexicon.py) is the OR of the keys holding it
there instead, in a `--filter` of `query()` calls (its strings escaped as phrases are). Mroonga
has no transactions, so a write is visible to both at once (the test checks counts stay equal
through creates, edits, uncommitted saves, rollbacks and deletes).

Quoting: the UDF is called with the command's arguments as separate SQL parameters
(`mroonga_command('select', 'table', ..., 'query', %s)`), so no Groonga command line is parsed
and the database driver escapes the SQL. What remains is Groonga's query syntax: each word is one
phrase in double quotes, with `\\` and `"` backslash-escaped (`phrase`), the phrases ANDed
(the query syntax's default operator). Only words the index decides reach it (mroonga.EXACT:
ASCII letters and digits, CJK ideographs), which hold no character the syntax gives a meaning
to; the escaping is there anyway, tested with hostile words.

The UDF is an admin step (`CREATE FUNCTION mroonga_command RETURNS STRING SONAME
'ha_mroonga.so'`, docs/deploying.md section 6); without it every search takes Mroonga's SQL path,
exactly as before, and `manage.py check` warns (course.W003). Whether it exists is asked once per
process (created later: restart the app); a call that finds it gone (DROP FUNCTION) takes the
SQL path from then on.
`--cache no` on every select: Groonga's query cache is process-wide and these answers must be
those of the moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection

from utils.logging import get_logger

from ..table import BIGRAM_INDEX
from . import lexicon

logger = get_logger("course.search")

UDF = "mroonga_command"
CREATE_UDF = f"CREATE FUNCTION IF NOT EXISTS {UDF} RETURNS STRING SONAME 'ha_mroonga.so'"
UDF_MISSING = (
    f"SEARCH_BACKEND=mroonga without the {UDF} function: searches are counted by Mroonga's "
    "slower SQL path"
)
UDF_HINT = f'As a MariaDB administrator, run "{CREATE_UDF}" once (docs/deploying.md, section 6).'
_NO_SUCH_FUNCTION = 1305  # ER_SP_DOES_NOT_EXIST: "FUNCTION db.mroonga_command does not exist"
_known: bool | None = None  # whether the server has the UDF (None: not asked yet)


@dataclass(frozen=True)
class Selected:
    """What one `select` found: every match counted, and the first `rows` of them in order."""

    count: int
    rows: list[tuple[int, int]]  # (orders, id), in the select's order


def phrase(word: str) -> str:
    """`word` as one phrase of Groonga's query syntax: quoted, `\\` and `"` escaped."""
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def query(words: list[str]) -> str:
    """Every word as a phrase, all required (the query syntax ANDs terms by default)."""
    return " ".join(phrase(word) for word in words)


def available() -> bool:
    """Whether the server has the UDF: asked on the first search of this process (a connection
    per request, DB_CONN_MAX_AGE=0, would otherwise ask on every search)."""
    global _known
    if _known is None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {UDF}('status')")
                cursor.fetchall()
            _known = True
        except DatabaseError as exc:
            if _error_code(exc) != _NO_SUCH_FUNCTION:
                # Not an answer about the UDF (a lost connection...): SQL now, ask again later.
                logger.warning("search: could not look for %s (%s)", UDF, exc)
                return False
            logger.warning("search: %s. %s", UDF_MISSING, UDF_HINT)
            _known = False
    return _known


def forget() -> None:
    """Ask again on the next search (tests that create or drop the UDF)."""
    global _known
    _known = None


def _error_code(exc: BaseException) -> int | None:
    cause = exc.__cause__ or exc
    args = getattr(cause, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def select(
    table: str,
    words: list[str],
    *,
    rows: int,
    offset: int = 0,
    descending: bool = False,
) -> Selected | None:
    """Count the rows of `table` whose body holds every word, and read `rows` of them from
    `offset` by (orders, id), -orders when descending (no sort when rows is 0). None when the
    UDF is missing or Groonga refused: the caller takes the SQL path.

    Latin words go through the word index when lexicon.py can expand them: with this process's
    mirror of its lexicon, the lexicon's state read in the same statement. A mirror that was not
    the lexicon's then (a write brought new words) is brought up to date and the select sent
    again; if it changed again meanwhile, the bigram phrases answer."""
    if not available():
        return None
    sort = ["sort_keys", "-orders,_key" if descending else "orders,_key", "offset", str(offset)]
    shown = ["output_columns", "_key,orders", "limit", str(rows), "cache", "no"]
    shown += sort if rows else []
    answered: Selected | object | None = None
    for refresh in (False, True):
        answered = _through_word_index(table, words, shown, refresh=refresh)
        if answered is not _STALE:
            break
    if isinstance(answered, Selected):
        return answered
    if _known is False:  # the UDF was dropped meanwhile
        return None
    answer = _run(None, ["table", table, *_matching(table, words, {}), *shown])
    return None if answer is None else parse(answer[0])


_STALE = object()  # the mirror was not the lexicon's when the select ran: ask again


def _through_word_index(
    table: str, words: list[str], shown: list[str], *, refresh: bool
) -> Selected | object | None:
    """The select with the words the lexicon's mirror expands; _STALE when the lexicon moved
    on meanwhile, None when the bigram phrases must answer."""
    plan = lexicon.plan(table, words, refresh=refresh)
    if plan is None:
        return None
    if any(not keys for keys in plan.keys.values()):
        # No run of letters holds that word, so no text does: if the lexicon is the same.
        checked = _run(table, None)
        if checked is None or checked[1] is None:
            return None  # no state (its table gone? a long run?): the phrases answer
        return Selected(count=0, rows=[]) if checked[1] == plan.state else _STALE
    answer = _run(table, ["table", table, *_matching(table, words, plan.keys), *shown])
    if answer is None or answer[1] is None:
        return None
    return parse(answer[0]) if answer[1] == plan.state else _STALE


def _run(
    checked: str | None, args: list[str] | None
) -> tuple[str | bytes | None, tuple[int, int] | None] | None:
    """One statement: Groonga's select with `args` (if any), and the state of the word
    lexicon of table `checked` (if any). None when it failed (the SQL path answers)."""
    global _known
    items, params = [], []
    if args is not None:
        items.append(f"{UDF}('select', {', '.join(['%s'] * len(args))})")
        params.extend(args)
    if checked is not None:
        state_items, state_params = lexicon.state_sql(checked)
        items.append(state_items)
        params.extend(state_params)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(items)}", params)
            row = cursor.fetchone()
    except DatabaseError as exc:
        if _error_code(exc) == _NO_SUCH_FUNCTION:  # dropped since: SQL from now on
            _known = False
            logger.warning("search: %s. %s", UDF_MISSING, UDF_HINT)
            return None
        logger.error("search: Groonga's select failed (%s); Mroonga's SQL answers", exc)
        return None
    answer = row[0] if args is not None else None
    state = lexicon.state(*row[-lexicon.STATE_ITEMS :]) if checked is not None else None
    return answer, state


def _matching(table: str, words: list[str], expanded: dict[str, tuple[str, ...]]) -> list[str]:
    """The select's arguments that choose the matches. Both indexes are on `body`, so each is
    named (`--match_columns body` would pick one). Without expanded words: every word a phrase
    of the bigram index, as Mroonga's MATCH reads them. With some: a filter of `query()` calls
    ANDed, each expanded word first (the rarer side, usually) as the OR of its keys on the
    word index (a key is one token there: its own postings), then the others' phrases."""
    bigrams = f"{table}#{BIGRAM_INDEX}.index"
    if not expanded:
        return ["match_columns", bigrams, "query", query(words)]
    keys = f"{table}#{lexicon.INDEX}.index"
    parts = [
        (keys, " OR ".join(map(phrase, expanded[word])))
        for word in dict.fromkeys(words)
        if word in expanded
    ]
    rest = [word for word in words if word not in expanded]
    if rest:
        parts.append((bigrams, query(rest)))
    calls = [f"query({_literal(columns)}, {_literal(text)})" for columns, text in parts]
    return ["filter", " && ".join(calls)]


def _literal(text: str) -> str:
    """`text` as a string of Groonga's script syntax (the filter): quoted, `\\` and `"` escaped."""
    return phrase(text)


def parse(answer: str | bytes) -> Selected:
    """`[[[count], [[name, type], ...], [_key, orders], ...]]`: select's body, one result set."""
    if isinstance(answer, bytes):
        answer = answer.decode()
    (result,) = json.loads(answer)
    (count,) = result[0]
    return Selected(count=int(count), rows=[(int(orders), int(key)) for key, orders in result[2:]])


def create_udf(cursor: Any) -> None:
    """Create the UDF (needs INSERT on mysql.func: the bench's and tests' own servers)."""
    cursor.execute(CREATE_UDF)
