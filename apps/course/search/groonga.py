"""Groonga's own `select`, through Mroonga's `mroonga_command` UDF, on the search table.

Why: Mroonga's `SELECT COUNT(*) ... WHERE MATCH(...)` counts a middling word 2-3 times slower
than Groonga's `select --limit 0` on the same index (docs/benchmark.md, "Round 10: search"), and
one `select --sort_keys orders,_key --limit N` returns the exact count *and* the first page
(Groonga counts every match whatever `--limit` says), where SQL needs two walks of the phrase.

What Groonga sees of our table (read with `table_list` / `column_list`, never guessed; pinned by
tests/course/test_search_groonga.py): Mroonga's storage mode keeps the SQL table
`luffy_course_search` as a Groonga table of the same name whose `_key` is the primary key (our
`id`, Int64), with columns `body` (LongText) and `orders` (Int32); the FULLTEXT index is the
column `index` of a lexicon named `<table>#<index name>` (the name moves with a rebuild's RENAME:
`luffy_course_search#luffy_course_search_new_body`), so `--match_columns body` lets Groonga find
the index itself rather than naming the lexicon. Same index, same lexicon, same normaliser
(NormalizerMySQLUnicodeCI) and same query parser as `MATCH ... AGAINST`; Mroonga has no
transactions, so a write is visible to both at once (the test checks counts stay equal through
creates, edits, uncommitted saves, rollbacks and deletes).

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
    """Count the rows of `table` whose body holds every word (phrases of the index), and read
    `rows` of them from `offset` by (orders, id), -orders when descending (no sort when rows is
    0). None when the UDF is missing or Groonga refused: the caller takes the SQL path."""
    global _known
    if not available():
        return None
    args: list[str] = ["table", table, "match_columns", "body", "query", query(words)]
    args += ["output_columns", "_key,orders", "limit", str(rows), "cache", "no"]
    if rows:
        order = "-orders,_key" if descending else "orders,_key"
        args += ["sort_keys", order, "offset", str(offset)]
    placeholders = ", ".join(["%s"] * len(args))
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {UDF}('select', {placeholders})", args)
            answer = cursor.fetchone()[0]
    except DatabaseError as exc:
        if _error_code(exc) == _NO_SUCH_FUNCTION:  # dropped since: SQL from now on
            _known = False
            logger.warning("search: %s. %s", UDF_MISSING, UDF_HINT)
            return None
        logger.error("search: Groonga's select failed (%s); Mroonga's SQL answers", exc)
        return None
    return parse(answer)


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
