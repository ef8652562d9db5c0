"""The Mroonga search table on MariaDB: its layout, how it is built, and the SQL it shares.

`luffy_course_search` (id = the course's id, body = name + newline + brief, orders, long_run;
visible courses only) uses the Mroonga storage engine with two FULLTEXT indexes on `body`:
`body_bigrams` (TokenBigramSplitSymbolAlphaDigit: Chinese, Latin letters, digits and symbols
all cut into bigrams, so any substring of two or more characters is a phrase of bigrams; the
first index, the one MariaDB's MATCH reads) and `body_words` (TokenBigram: a run of letters is
one token; read only by the optional accelerators, accelerators/lexicon.py). No normaliser is
named: Mroonga then picks the one made for the column's collation (NormalizerMySQLUnicodeCI for
utf8mb4_unicode_ci), which folds case, accents and full-width forms as `LIKE` on luffy_course
does. NormalizerAuto does not: with it the property test (tests/course/test_search_backends.py)
fails, the query 'TÉ' missing 12 courses LIKE finds.

Which courses are indexed is Course.objects.visible(), compiled from its Q by the ORM
(`visible_sql`), so the rule is written once (apps/course/models.py).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.sql import Query

from ..models import Course, visible_condition

TABLE = "luffy_course_search"
COURSE_TABLE = Course._meta.db_table
BIGRAM_INDEX = "body_bigrams"
TOKENIZER = "TokenBigramSplitSymbolAlphaDigit"
WORD_INDEX = "body_words"
WORD_TOKENIZER = "TokenBigram"
# A text holding this many characters in a row that could be one token of the word index marks
# its course (column long_run): while any course is marked, the word index decides nothing
# (accelerators/lexicon.py says why).
LONG_RUN = 1_000
# The same as a MariaDB string literal's text (REGEXP, PCRE): white space, ASCII digits and
# punctuation, CJK ideographs excluded.
LONG_RUN_PATTERN = "[^\\\\s!-@\\\\[-`{-~\\\\x{4e00}-\\\\x{9fff}]{" + str(LONG_RUN) + ",}"
# Courses "written but not yet committed" (mroonga.py, Transactions): while any is listed, the
# index only narrows and the LIKE predicate decides every word. A non-transactional table like
# the index itself, so a rollback leaves the mark (the next committed write clears it).
PENDING = "luffy_course_search_pending"
PENDING_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {PENDING} (id BIGINT NOT NULL PRIMARY KEY, "
    "marked BIGINT NOT NULL) ENGINE=Mroonga"
)
MATCH = "MATCH(body) AGAINST(%s IN BOOLEAN MODE)"


def build_table_name(table: str) -> str:
    """The one-row table holding the build token of `table` (accelerators/lexicon.py)."""
    return f"{table}_build"


def condition_sql(condition: Q) -> tuple[str, list[Any]]:
    """`condition` (a rule of apps/course/models.py) as SQL on luffy_course's own columns,
    compiled by the ORM: the search's statements repeat no rule by hand."""
    query = Query(Course, alias_cols=False)
    compiler = query.get_compiler(connection=connection)
    sql, params = query.build_where(condition).as_sql(compiler, connection)
    return sql, list(params)


@cache
def _visible_for(vendor: str) -> str:
    sql, params = condition_sql(visible_condition())
    # The rule's own booleans and status number (never a request's), written in as numbers so
    # that statements can embed it.
    return sql % tuple(str(int(value)) for value in params)


def visible_sql() -> str:
    """Course.objects.visible()'s condition as constant SQL on luffy_course."""
    return _visible_for(connection.vendor)


def rows_sql() -> str:
    """The indexed row of each visible course: name and brief, a newline between (a word
    never holds one), and `orders`, the search page's default ordering. Combining marks and
    format characters (Mn, Me, Cf: U+0301, a zero-width space) become newlines: the normaliser
    drops them, so 'e\\u0301te' would be found by 'ete', which LIKE (comparing character by
    character) does not find. A query run never holds one (they are not letters), so no run
    loses a match LIKE would find. long_run: see LONG_RUN."""
    return (
        "SELECT id, REGEXP_REPLACE(CONCAT(name, '\\n', brief), '[\\\\p{Mn}\\\\p{Me}"  # noqa: S608
        f"\\\\p{{Cf}}]', '\\n'), orders, name REGEXP '{LONG_RUN_PATTERN}' OR brief REGEXP "
        f"'{LONG_RUN_PATTERN}' FROM {COURSE_TABLE} WHERE {visible_sql()}"
    )


def boolean_query(runs: Iterable[str]) -> str:
    # '+"run"': the run must occur, as a phrase of bigrams. Runs hold only letters and digits,
    # so nothing needs escaping.
    return " ".join(f'+"{run}"' for run in runs)


def placeholders(ids: list[int]) -> str:
    return ", ".join(["%s"] * len(ids))


def like_all(words: list[str]) -> tuple[str, list[str]]:
    """Every word in the name or brief (LIKE), for words of letters and digits only (no LIKE
    wildcard to escape): the predicate, on rows read some other way."""
    where = " AND ".join(["(name LIKE %s OR brief LIKE %s)"] * len(words))
    return where, [f"%{word}%" for word in words for _ in range(2)]


def engine_available(cursor: Any) -> bool:
    """Whether this server has the Mroonga engine loaded (mariadb-plugin-mroonga)."""
    cursor.execute("SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'Mroonga'")
    row = cursor.fetchone()
    return bool(row) and row[0] in ("YES", "DEFAULT")


def table_engine(cursor: Any, table: str = TABLE) -> str | None:
    cursor.execute(
        "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = %s",
        [table],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def _body_collation(cursor: Any) -> str:
    """luffy_course.name's collation: the index must fold text as the LIKE predicate does."""
    cursor.execute(
        "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = %s AND COLUMN_NAME = 'name'",
        [COURSE_TABLE],
    )
    row = cursor.fetchone()
    return row[0] if row and row[0] else "utf8mb4_unicode_ci"


def _fulltext(name: str, tokenizer: str) -> str:
    return f"FULLTEXT INDEX {name} (body) COMMENT 'tokenizer \"{tokenizer}\"'"


def build_table(cursor: Any, table: str = TABLE) -> int:
    """Create `table` filled from luffy_course, the indexes built after the rows (faster)."""
    collation = _body_collation(cursor)
    charset = collation.split("_", 1)[0]
    build = build_table_name(table)
    cursor.execute(f"DROP TABLE IF EXISTS {table}, {build}")
    # This build's token (lexicon.py: a process's mirror of another build's lexicon, whose
    # Groonga object id may be a recycled one, is never taken for this one's).
    cursor.execute(
        f"CREATE TABLE {build} (id TINYINT NOT NULL PRIMARY KEY, token BIGINT NOT NULL) "
        "ENGINE=Mroonga"
    )
    cursor.execute(
        f"INSERT INTO {build} (id, token) VALUES (1, %s)",  # noqa: S608 - constants
        [secrets.randbits(62)],
    )
    cursor.execute(
        f"CREATE TABLE {table} (id BIGINT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL, "
        "orders INT NOT NULL, long_run TINYINT NOT NULL DEFAULT 0, INDEX (long_run)) "
        f"ENGINE=Mroonga DEFAULT CHARSET={charset} COLLATE {collation}"
    )
    cursor.execute(PENDING_TABLE)
    cursor.execute(f"INSERT INTO {table} (id, body, orders, long_run) {rows_sql()}")
    count = cursor.rowcount
    # The bigram index first: MariaDB's MATCH(body) takes the first FULLTEXT index on body.
    cursor.execute(
        f"ALTER TABLE {table} ADD {_fulltext(BIGRAM_INDEX, TOKENIZER)}, "
        f"ADD {_fulltext(WORD_INDEX, WORD_TOKENIZER)}"
    )
    return count


# A query word is cut into runs of letters and digits (any script): only they go to the index,
# whose query syntax gives meaning to symbols. A run is part of the word, so a course holding the
# word holds each run: splitting can only add candidates.
RUN = re.compile(r"[^\W_]+")
# A query word the index decides alone: letters and digits only (ASCII or CJK ideographs), two
# or more, and not a number (a number may match a price instead). The bigram tokenizer cuts such
# a word into overlapping bigrams with no gap, so a phrase match of them is exactly "the text
# holds the word", case folded by the column's collation as LIKE folds it. Anything else (one
# character: a lexicon prefix search; symbols; accents and full-width forms, which the
# normaliser and the collation may fold differently) is only narrowed, and LIKE decides.
EXACT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]{2,}")
BY_TEXT = f"SELECT id FROM {TABLE} WHERE {MATCH}"  # noqa: S608 - constants
# More candidates than this: no narrowing (a scan of the catalog is as cheap as checking them).
MAX_CANDIDATES = 20_000


def ids_matching(sql: str, params: list[Any]) -> set[int] | None:
    """The ids `sql` selects, or None when there are more than MAX_CANDIDATES."""
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT %s", [*params, MAX_CANDIDATES + 1])
        ids = {row[0] for row in cursor.fetchall()}
    return None if len(ids) > MAX_CANDIDATES else ids
