"""The Mroonga backend: a full-text index of every course's name and brief, on MariaDB.

Why Mroonga rather than an n-gram table of our own: Groonga keeps compressed posting lists per
bigram, built in C (72 s for 1,000,000 courses on a busy 2-core machine, bench/search_scale.py)
and answers a rare word in milliseconds; our own table would hold one row per course and
distinct bigram (about 60 per course here: ~60 million InnoDB rows, estimated, not built) and
would need our own tokeniser to agree with the collation, which Mroonga's normaliser does.

The table `luffy_course_search` (id = the course's id, body = name + newline + brief) uses
the Mroonga storage engine with a FULLTEXT index tokenised by TokenBigramSplitSymbolAlphaDigit:
Chinese, Latin letters, digits and symbols are all cut into bigrams, so any substring of two or
more characters is a phrase of bigrams, and a one-character query is a prefix search of the
index's lexicon. No normaliser is named: Mroonga then picks the one made for the column's
collation (NormalizerMySQLUnicodeCI for utf8mb4_unicode_ci), which folds case, accents and
full-width forms as `LIKE` on luffy_course does. NormalizerAuto does not: with it the property
test (tests/course/test_search_backends.py) fails, the query 'TÉ' missing 12 courses LIKE finds.
The index only narrows; the LIKE predicate decides.

Transactions: Mroonga's storage mode has none. A write is visible to every connection at once
and a ROLLBACK does not undo it (MariaDB only warns). So a save inside a transaction adds the
new text to the entry and keeps the old one (a rollback leaves an entry that still finds the
course by its old text: too many candidates, never too few), and after the commit the entry is
rewritten with just the committed text. A delete removes the entry after its commit. An entry
for a course that no longer exists costs nothing: candidates are looked up in luffy_course.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from utils.logging import get_logger

logger = get_logger("course.search")

TABLE = "luffy_course_search"
COURSE_TABLE = "luffy_course"
TOKENIZER = "TokenBigramSplitSymbolAlphaDigit"
# More candidates than this: no narrowing (a scan of the catalog is as cheap as checking them).
MAX_CANDIDATES = 20_000
# A query word is cut into runs of letters and digits (any script): only they go to the index,
# whose query syntax gives meaning to symbols. A run is part of the word, so a course holding the
# word holds each run: splitting can only add candidates.
RUN = re.compile(r"[^\W_]+")
# The indexed text of a course: name and brief, a newline between (a word never holds one).
_BODIES = f"SELECT id, CONCAT(name, '\\n', brief) FROM {COURSE_TABLE}"  # noqa: S608 - constants
_BY_TEXT = f"SELECT id FROM {TABLE} WHERE MATCH(body) AGAINST(%s IN BOOLEAN MODE)"  # noqa: S608
_BY_PRICE = (
    f"SELECT id FROM {COURSE_TABLE} WHERE price = %s "  # noqa: S608 - constants
    f"UNION SELECT id FROM {COURSE_TABLE} WHERE discount_price = %s"
)


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


def _fulltext(name: str) -> str:
    return f"FULLTEXT INDEX {name}_body (body) COMMENT 'tokenizer \"{TOKENIZER}\"'"


def build_table(cursor: Any, table: str = TABLE) -> int:
    """Create `table` filled from luffy_course, the index built after the rows (faster)."""
    collation = _body_collation(cursor)
    charset = collation.split("_", 1)[0]
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        f"CREATE TABLE {table} (id BIGINT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL) "
        f"ENGINE=Mroonga DEFAULT CHARSET={charset} COLLATE {collation}"
    )
    cursor.execute(f"INSERT INTO {table} (id, body) {_BODIES}")
    count = cursor.rowcount
    cursor.execute(f"ALTER TABLE {table} ADD {_fulltext(table)}")
    return count


def _boolean_query(runs: Iterable[str]) -> str:
    # '+"run"': the run must occur, as a phrase of bigrams. Runs hold only letters and digits,
    # so nothing needs escaping.
    return " ".join(f'+"{run}"' for run in runs)


def _ids(sql: str, params: list[Any]) -> set[int] | None:
    """The ids `sql` selects, or None when there are more than MAX_CANDIDATES."""
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT %s", [*params, MAX_CANDIDATES + 1])
        ids = {row[0] for row in cursor.fetchall()}
    return None if len(ids) > MAX_CANDIDATES else ids


def _placeholders(ids: list[int]) -> str:
    return ", ".join(["%s"] * len(ids))


class MroongaSearch:
    name = "mroonga"

    def matching(self, words: list[str]) -> Q | None:
        """The ids the index finds for every word (ANDed), or None past MAX_CANDIDATES.

        The ids are read first and handed to the search as a list: the count and the page then
        look up at most MAX_CANDIDATES rows by primary key. Measured at 1,000,000 courses, a
        join to the index (IN (SELECT ... MATCH ...)) cost 15-25 us per candidate, run twice
        (count, page): 5 s for a word in a third of the catalog, five times the LIKE scan. A
        word matching more than MAX_CANDIDATES courses narrows nothing worth an index: the scan
        decides alone.
        """
        from ..selectors import _as_price

        text_runs: list[str] = []
        found: set[int] | None = None  # None: not narrowed (yet)
        for word in words:
            runs = RUN.findall(word)
            price = _as_price(word)
            if price is None:
                text_runs.extend(runs)
                continue
            # A number matches the name or brief, or a price: the candidates are the union.
            # current_price is price or discount_price, both indexed.
            union, params = _BY_PRICE, [price, price]
            if runs:
                union = f"{_BY_TEXT} UNION {union}"
                params.insert(0, _boolean_query(runs))
            ids = _ids(f"SELECT id FROM ({union}) AS candidates", params)  # noqa: S608
            if ids is not None:
                found = ids if found is None else found & ids
        if text_runs:
            ids = _ids(_BY_TEXT, [_boolean_query(dict.fromkeys(text_runs))])
            if ids is not None:
                found = ids if found is None else found & ids
        return None if found is None else Q(pk__in=sorted(found))

    def index(self, course_ids: Iterable[int], *, until_commit: bool = False) -> None:
        ids = list(course_ids)
        if not ids:
            return
        keep = "CONCAT(body, '\\n', VALUES(body))" if until_commit else "VALUES(body)"
        with connection.cursor() as cursor:
            where = f"WHERE id IN ({_placeholders(ids)})"
            upsert = f"ON DUPLICATE KEY UPDATE body = {keep}"
            sql = f"INSERT INTO {TABLE} (id, body) {_BODIES} {where} {upsert}"
            cursor.execute(sql, ids)

    def remove(self, course_ids: Iterable[int]) -> None:
        ids = list(course_ids)
        if not ids:
            return
        with connection.cursor() as cursor:
            sql = f"DELETE FROM {TABLE} WHERE id IN ({_placeholders(ids)})"  # noqa: S608 - constants
            cursor.execute(sql, ids)

    def rebuild(self) -> int:
        """Build a new table beside the live one, swap them in one RENAME, then catch up.

        Searches keep using the old table while the new one is built. Courses saved meanwhile
        went to the old table only; they are indexed again after the swap (by updated_time,
        from a second before the build began).
        """
        from ..models import Course

        started = time.time()
        since = timezone.now() - timedelta(seconds=1)
        with connection.cursor() as cursor:
            if not engine_available(cursor):
                raise RuntimeError("the Mroonga engine is not loaded (mariadb-plugin-mroonga)")
            count = build_table(cursor, f"{TABLE}_new")
            if table_engine(cursor) is None:
                cursor.execute(f"RENAME TABLE {TABLE}_new TO {TABLE}")
            else:
                cursor.execute(f"RENAME TABLE {TABLE} TO {TABLE}_old, {TABLE}_new TO {TABLE}")
                cursor.execute(f"DROP TABLE {TABLE}_old")
        late = list(Course.objects.filter(updated_time__gte=since).values_list("id", flat=True))
        for first in range(0, len(late), 1000):
            self.index(late[first : first + 1000])
        logger.info("search index rebuilt: %s courses in %.1fs", count, time.time() - started)
        return count

    def problem(self) -> str:
        with connection.cursor() as cursor:
            if not engine_available(cursor):
                return "SEARCH_BACKEND=mroonga but the Mroonga engine is not loaded"
            if table_engine(cursor) != "Mroonga":
                return f"SEARCH_BACKEND=mroonga but {TABLE} is missing (rebuild_search_index)"
        return ""
