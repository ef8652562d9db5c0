"""The Mroonga backend: a full-text index of every visible course's name and brief, on MariaDB.

Why Mroonga rather than an n-gram table of our own: Groonga keeps compressed posting lists per
bigram, built in C (72 s for 1,000,000 courses on a busy 2-core machine, bench/search_scale.py)
and answers a rare word in milliseconds; our own table would hold one row per course and
distinct bigram (about 60 per course here: ~60 million InnoDB rows, estimated, not built) and
would need our own tokeniser to agree with the collation, which Mroonga's normaliser does.

The table `luffy_course_search` (id = the course's id, body = name + newline + brief, orders,
long_run; visible courses only) uses
the Mroonga storage engine with a FULLTEXT index tokenised by TokenBigramSplitSymbolAlphaDigit:
Chinese, Latin letters, digits and symbols are all cut into bigrams, so any substring of two or
more characters is a phrase of bigrams, and a one-character query is a prefix search of the
index's lexicon. No normaliser is named: Mroonga then picks the one made for the column's
collation (NormalizerMySQLUnicodeCI for utf8mb4_unicode_ci), which folds case, accents and
full-width forms as `LIKE` on luffy_course does. NormalizerAuto does not: with it the property
test (tests/course/test_search_backends.py) fails, the query 'TÉ' missing 12 courses LIKE finds.
For most words the index only narrows and the LIKE predicate decides; for the words EXACT
describes the index decides alone, and a search of only such words, unfiltered and in `orders`
order, is counted and paged by the index (MroongaSearch.count/page), its rarest word read
first when one is known to be rare; through Groonga's own select when the server has the
mroonga_command UDF (groonga.py), count and first page in one walk. A search of one number
is decided too: its text from this table, its prices by indexed equality on luffy_course (see
"Numbers" below).

Groonga here is 7.0.7 (mariadb-plugin-mroonga of MariaDB 10.11): no TokenNgram options, and its
TokenTrigram keeps a run of Latin letters as one token (a query 'amirove' does not find
'Kamirovel'), so no trigram index for Latin words with LIKE's substring meaning (docs/benchmark.md,
"The index side, round 9"). What the table has instead is a second FULLTEXT index on body,
`body_words` (TokenBigram: a run of letters is one token), through which Groonga's select
answers a word of ASCII letters as the union of the lexicon keys holding it (lexicon.py: a
rare Latin word costs its few keys' postings, not its commonest bigram's); MariaDB's MATCH
keeps reading the bigram index (the first one), so the path without the UDF is unchanged.

Transactions: Mroonga's storage mode has none. A write is visible to every connection at once
and a ROLLBACK does not undo it (MariaDB only warns). So a save inside a transaction adds the
new text to the entry and keeps the old one (a rollback leaves an entry that still finds the
course by its old text: too many candidates, never too few), and after the commit the entry is
rewritten with just the committed text; until then the course is marked in PENDING and the
index decides nothing. A delete removes the entry after its commit. An entry left for a course
that no longer exists (the process died between a delete's commit and its on-commit work)
would count in an index-only count: rebuild_search_index after such a crash.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.signals import request_started
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from utils.logging import get_logger

from . import groonga, lexicon

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
# Courses "written but not yet committed" (see Transactions above): while any is listed, the
# index only narrows and the LIKE predicate decides every word. A non-transactional table like
# the index itself, so a rollback leaves the mark (the next committed save of it clears it).
PENDING = "luffy_course_search_pending"
_PENDING_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {PENDING} (id BIGINT NOT NULL PRIMARY KEY, "
    "marked BIGINT NOT NULL) ENGINE=Mroonga"
)
# A mark older than this (seconds) is taken as left by a rollback: the next search re-indexes the
# course from its committed row, which clears it (a write still open re-marks on its next save,
# and its commit rewrites the entry). No request transaction here lasts a minute.
STALE_MARK_SECONDS = 60
# A page is read by walking the courses in order (see MroongaSearch.page) when that should take
# fewer LIKE tests than this (about 1-5 us each) rather than Mroonga collecting every match.
SCAN_ROWS = 2_000
# ... and it gives up after this many (matches bunched late in the order), Mroonga sorting then.
SCAN_BOUND = 4 * SCAN_ROWS
# Only what a shopper may see is indexed (Course.objects.visible(): shown, not deleted, online),
# so the index alone can count a search and order its page.
VISIBLE = "is_show = 1 AND is_delete = 0 AND status = 0"
# The indexed row of a course: name and brief, a newline between (a word never holds one), and
# `orders`, the search page's default ordering. Combining marks and format characters (Mn, Me,
# Cf: U+0301, a zero-width space) become newlines: the normaliser drops them, so 'e\u0301te'
# would be found by 'ete', which LIKE (comparing character by character) does not find. A query
# run never holds one (they are not letters), so no run loses a match LIKE would find.
# long_run: the text may hold a token too long for the word index's lexicon (lexicon.py).
_ROWS = (
    "SELECT id, REGEXP_REPLACE(CONCAT(name, '\\n', brief), '[\\\\p{Mn}\\\\p{Me}\\\\p{Cf}]', "  # noqa: S608
    f"'\\n'), orders, name REGEXP '{lexicon.LONG_RUN_PATTERN}' OR brief REGEXP "
    f"'{lexicon.LONG_RUN_PATTERN}' FROM {COURSE_TABLE} WHERE {VISIBLE}"
)
# A query word the index decides alone: letters and digits only (ASCII or CJK ideographs), two
# or more, and not a number (a number may match a price instead). The bigram tokenizer cuts such
# a word into overlapping bigrams with no gap, so a phrase match of them is exactly "the text
# holds the word", case folded by the column's collation as LIKE folds it. Anything else (one
# character: a lexicon prefix search; symbols; accents and full-width forms, which the
# normaliser and the collation may fold differently) is only narrowed, and LIKE decides.
EXACT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]{2,}")
_MATCH = "MATCH(body) AGAINST(%s IN BOOLEAN MODE)"
_BY_TEXT = f"SELECT id FROM {TABLE} WHERE {_MATCH}"  # noqa: S608
# A price equal to the word: the price, or the discount price while the discount runs.
_BY_PRICE = (
    f"SELECT id FROM {COURSE_TABLE} WHERE price = %s UNION SELECT id FROM {COURSE_TABLE} "  # noqa: S608
    "WHERE discount_price = %s AND discount_start <= %s AND discount_end > %s"
)
# A word with at most this many matches is read first (ids and orders), and the search's count
# and pages come from that read (one phrase walk instead of two; see "Rare words first").
FEW = 2_000
# Rarity hints: a word's last known number of matches (a hint for which word to read first,
# never part of an answer), kept this long, for this many words per process.
HINT_SECONDS = 600
HINT_WORDS = 10_000
# With Groonga's select (groonga.py), a count not followed by the ordered scan also reads this
# many first matches in order, so the first page (any size up to utils.pagination's maximum)
# needs no second walk of the phrases; the default page size decides which pages scan.
FIRST_ROWS = 50
PAGE_SIZE = 10
# ... unless the ordered scan would reach the first page within this many rows: Groonga's sort
# costs about 0.2 us a match, a LIKE test of the scan 1-5 us a row, so at 1,000,000 courses the
# count sorts below about 14,000 matches and the scan reads the page above (docs/benchmark.md).
SELECT_SCAN_ROWS = 700
# The matches read for a count, reused by the page that follows in the same request (same
# thread, same words) for at most this long; a write in this process forgets them.
REUSE_SECONDS = 2.0


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
    """Create `table` filled from luffy_course, the index built after the rows (faster)."""
    collation = _body_collation(cursor)
    charset = collation.split("_", 1)[0]
    cursor.execute(f"DROP TABLE IF EXISTS {table}, {lexicon.build_table_name(table)}")
    # This build's token (lexicon.py: a process's mirror of another build's lexicon, whose
    # Groonga object id may be a recycled one, is never taken for this one's).
    cursor.execute(
        f"CREATE TABLE {lexicon.build_table_name(table)} (id TINYINT NOT NULL PRIMARY KEY, "
        "token BIGINT NOT NULL) ENGINE=Mroonga"
    )
    cursor.execute(
        f"INSERT INTO {lexicon.build_table_name(table)} (id, token) VALUES (1, %s)",  # noqa: S608
        [secrets.randbits(62)],
    )
    cursor.execute(
        f"CREATE TABLE {table} (id BIGINT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL, "
        "orders INT NOT NULL, long_run TINYINT NOT NULL DEFAULT 0, INDEX (long_run)) "
        f"ENGINE=Mroonga DEFAULT CHARSET={charset} COLLATE {collation}"
    )
    cursor.execute(_PENDING_TABLE)
    cursor.execute(f"INSERT INTO {table} (id, body, orders, long_run) {_ROWS}")
    count = cursor.rowcount
    # The bigram index first: MariaDB's MATCH(body) takes the first FULLTEXT index on body.
    cursor.execute(
        f"ALTER TABLE {table} ADD {_fulltext(groonga.BIGRAM_INDEX, TOKENIZER)}, "
        f"ADD {_fulltext(lexicon.INDEX, lexicon.TOKENIZER)}"
    )
    return count


def is_exact(word: str) -> bool:
    """Whether the index alone decides `word` (EXACT, and not a number a price could match)."""
    from ..selectors import _as_price

    return EXACT.fullmatch(word) is not None and _as_price(word) is None


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


# --- Numbers: a numeric word matches the text holding it, or a price equal to it ---------------
#
# `price = p OR current_price = p` (selectors.search_courses) is `price = p`, or `discount_price
# = p` while the discount runs (Course.objects.with_current_price). Both are read by indexed
# equality: course_price_listing (price, status, is_show, is_delete, orders) and
# course_discount_listing (discount_price, the same, then the window and price), so a price is
# counted and paged in (orders, id) order from the index alone, never by a scan of the catalog;
# the text part comes from the search table. At 1,000,000 courses `199` is the price of 100,000.


def _visible_courses():
    from ..models import Course

    return Course.objects.visible()


def _text_rows(word: str, price: Decimal, now: datetime) -> dict[int, tuple[int, bool]] | None:
    """The visible courses whose name or brief holds the numeric `word` (icontains, exactly):
    id -> (orders, whether a price matches too); None past MAX_CANDIDATES. The index's
    candidates, re-checked with the predicate unless it decides the word; read by primary key
    (MariaDB would otherwise walk course_listing testing `id IN`)."""
    runs = RUN.findall(word)
    ids = _ids(_BY_TEXT, [_boolean_query(runs)]) if runs else None
    if not ids:
        return None if ids is None else {}
    held, params = "", [price, price, *[connection.ops.adapt_datetimefield_value(now)] * 2]
    params.extend(sorted(ids))
    if not EXACT.fullmatch(word):
        held = " AND (name LIKE %s OR brief LIKE %s)"
        params.extend([f"%{connection.ops.prep_for_like_query(word)}%"] * 2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, orders, price = %s OR COALESCE(discount_price = %s AND discount_start "  # noqa: S608
            f"<= %s AND discount_end > %s, FALSE) FROM {COURSE_TABLE} FORCE INDEX (PRIMARY) "
            f"WHERE id IN ({_placeholders(ids)}) AND {VISIBLE}{held}",
            params,
        )
        return {row[0]: (row[1], bool(row[2])) for row in cursor.fetchall()}


def _price_matches(price: Decimal, now: datetime) -> tuple[Q, Q]:
    """The two parts of "a price equals `price`", disjoint: the price itself, and a running
    discount at `price` on a course whose price is another."""
    running = Q(discount_start__lte=now, discount_end__gt=now)
    return Q(price=price), Q(running, discount_price=price) & ~Q(price=price)


def _number_ids(word: str, price: Decimal, now: datetime) -> set[int] | None:
    """Every course matching the numeric `word` by text (visible ones) or price, exactly; None
    past MAX_CANDIDATES."""
    from ..models import Course

    text = _text_rows(word, price, now)
    if text is None:
        return None
    found = set(text)
    for part in _price_matches(price, now):
        rows = Course.objects.filter(part).values_list("id", flat=True)[: MAX_CANDIDATES + 1]
        found.update(rows)
        if len(found) > MAX_CANDIDATES:
            return None
    return found


def _number_word(words: list[str]) -> tuple[str, Decimal] | None:
    """The search's word and its price when the search is one numeric word (decided, counted
    and paged here; a number among other words is left to the predicate)."""
    from ..selectors import _as_price

    if len(words) != 1:
        return None
    price = _as_price(words[0])
    return None if price is None else (words[0], price)


def _number_count(word: str, price: Decimal) -> int:
    """Visible courses matching the numeric `word`: the prices' by index (course_price_listing,
    course_discount_listing), plus those the text alone finds; a scan when the text is common."""
    now = timezone.now()
    text = _text_rows(word, price, now)
    if text is None:
        return _number_scan(word, price, now).count()
    _remember(("number", word), text)
    visible = _visible_courses()
    by_price = sum(visible.filter(part).count() for part in _price_matches(price, now))
    return by_price + sum(1 for _orders, priced in text.values() if not priced)


def _number_scan(word: str, price: Decimal, now: datetime):
    """The predicate itself (search_courses' condition for a numeric word): the slow path."""
    held = Q(name__icontains=word) | Q(brief__icontains=word)
    return (
        _visible_courses()
        .with_current_price(now)
        .filter(held | Q(price=price) | Q(current_price=price))
    )


def _number_page(
    word: str, price: Decimal, *, descending: bool, offset: int, limit: int
) -> list[int]:
    """A page by (orders, id), -orders when descending: the first offset + limit of each price
    part (each read in order from its index) and the text's matches, merged."""
    now = timezone.now()
    order = ("-orders", "id") if descending else ("orders", "id")
    text = _recall(("number", word))  # the count's read (the text's matches ignore the clock)
    if text is None:
        text = _text_rows(word, price, now)
    if text is None:
        scan = _number_scan(word, price, now).order_by(*order)
        return list(scan.values_list("id", flat=True)[offset : offset + limit])
    visible = _visible_courses()
    rows = {(orders, pk) for pk, (orders, _priced) in text.items()}
    for part in _price_matches(price, now):
        first = visible.filter(part).order_by(*order)[: offset + limit]
        rows.update(first.values_list("orders", "id"))
    ordered = sorted(rows, key=lambda row: (-row[0] if descending else row[0], row[1]))
    return [pk for _orders, pk in ordered[offset : offset + limit]]


# --- Rare words first -------------------------------------------------------------------------
#
# Groonga walks a phrase's posting lists whatever LIMIT says, so a search pays for its most common
# word: `Rovelnofi Django` (200 matches) walked Django's 217,000. Reading the rare word's matches
# (at most FEW, with their orders) and testing the others with LIKE on those rows by primary key
# costs the rare word only; and when the matches are that few, the count and every page come from
# that one read. Which word is rare is a hint: the last count seen for it in this process.

_hints: OrderedDict[str, tuple[int, float]] = OrderedDict()
_hints_lock = threading.Lock()
_reuse = threading.local()
_writes = [0]  # bumped by every index write in this process: forgets the reusable matches


def _hint(word: str) -> int | None:
    with _hints_lock:
        known = _hints.get(word)
    if known is None or known[1] < time.monotonic() - HINT_SECONDS:
        return None
    return known[0]


def _learn(word: str, count: int) -> None:
    with _hints_lock:
        _hints[word] = (count, time.monotonic())
        _hints.move_to_end(word)
        while len(_hints) > HINT_WORDS:
            _hints.popitem(last=False)


def _rare_word(words: list[str]) -> str | None:
    """The word to read first: one known to be rare, else (two words or more) the longest not
    known to be common; None when that read would likely be wasted."""
    known = {word: _hint(word) for word in words}
    rare = [word for word in words if (known[word] or 0) <= FEW and known[word] is not None]
    if rare:
        return min(rare, key=lambda word: known[word] or 0)
    unknown = [word for word in words if known[word] is None]
    if len(words) > 1 and unknown:
        return max(unknown, key=len)
    return None


def _known_rare(words: list[str]) -> bool:
    """Whether a word of the search is known to have at most FEW matches (_rare_word's first
    choice), so reading it first is no guess."""
    return any(hint is not None and hint <= FEW for hint in map(_hint, words))


def _few_matches(words: list[str]) -> tuple[list[tuple[int, int]] | None, int | None]:
    """Every match (orders, id), in order, when the rare word has at most FEW (else None); and
    the search's count when that read counted it anyway (Groonga's select of one word)."""
    probe = _rare_word(words)
    if probe is None:
        return None, None
    selected = groonga.select(TABLE, [probe], rows=FEW + 1)
    if selected is not None:
        rows = selected.rows
        _learn(probe, selected.count)
        if selected.count > FEW:
            if words != [probe]:
                return None, None
            _remember(("first", probe), selected)  # the first page, for page()
            return None, selected.count  # Groonga counted them all: no other read
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT orders, id FROM {TABLE} WHERE {_MATCH} "  # noqa: S608 - constants
                "ORDER BY orders ASC, id ASC LIMIT %s",
                [_boolean_query([probe]), FEW + 1],
            )
            rows = [(row[0], row[1]) for row in cursor.fetchall()]
        _learn(probe, len(rows))
        if len(rows) > FEW:
            return None, None
    others = [word for word in words if word != probe]
    if others and rows:
        rows = _holding(rows, others)
    _remember(("few", *words), rows)
    return rows, len(rows)


def _holding(rows: list[tuple[int, int]], words: list[str]) -> list[tuple[int, int]]:
    """The rows (orders, id) of visible courses whose name or brief holds every word (LIKE, by
    primary key)."""
    # Decided words hold only letters and digits: no LIKE wildcard to escape.
    held = " AND ".join(["(name LIKE %s OR brief LIKE %s)"] * len(words))
    ids = [pk for _orders, pk in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {COURSE_TABLE} FORCE INDEX (PRIMARY) "  # noqa: S608
            f"WHERE id IN ({_placeholders(ids)}) AND {VISIBLE} AND {held}",
            [*ids, *(f"%{word}%" for word in words for _ in range(2))],
        )
        kept = {row[0] for row in cursor.fetchall()}
    return [row for row in rows if row[1] in kept]


def _first_rows(words: list[str], *, descending: bool, offset: int, limit: int) -> list[int] | None:
    """The page from the rows Groonga's count just read (the first ones in order), when it
    holds them all; else None."""
    selected: groonga.Selected | None = _recall(("first", *words))
    if selected is None:
        return None
    rows = selected.rows
    if len(rows) == selected.count:  # every match: any page, either direction
        if descending:
            rows = sorted(rows, key=lambda row: (-row[0], row[1]))
    elif descending or offset + limit > len(rows):
        return None
    return [pk for _orders, pk in rows[offset : offset + limit]]


def _remember(key: tuple[str, ...], value: Any) -> None:
    """Keep what a count read for the page that follows (this thread, REUSE_SECONDS)."""
    _reuse.last = (key, time.monotonic(), _writes[0], value)


def _forget_reads(**_kwargs: Any) -> None:
    """A read is reused by the page of the same request only: another request, even a second
    later, must see what other processes wrote meanwhile."""
    _reuse.last = None


request_started.connect(_forget_reads, dispatch_uid="course.search.mroonga.forget_reads")


def _recall(key: tuple[str, ...]) -> Any:
    """What the count remembered under `key` just now in this thread, if no write since."""
    last = getattr(_reuse, "last", None)
    if last is None:
        return None
    known, when, writes, value = last
    if known != key or writes != _writes[0] or when < time.monotonic() - REUSE_SECONDS:
        return None
    return value


def _reusable(words: list[str]) -> list[tuple[int, int]] | None:
    """The matches _few_matches read for these words (the count just before this page)."""
    return _recall(("few", *words))


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
            # A number matches the name or brief, or a price (running discounts only): the
            # union, in one query. Exact for a word of digits (the phrase decides its text);
            # a search of one other number is decided too, so its text is re-checked.
            now = timezone.now()
            if len(words) == 1 and not EXACT.fullmatch(word):
                ids = _number_ids(word, price, now)
            else:
                at = connection.ops.adapt_datetimefield_value(now)
                union = f"SELECT id FROM ({_BY_TEXT} UNION {_BY_PRICE}) AS found"  # noqa: S608
                ids = _ids(union, [_boolean_query(runs), price, price, at, at])
            if ids is not None:
                found = ids if found is None else found & ids
        if text_runs:
            ids = _ids(_BY_TEXT, [_boolean_query(dict.fromkeys(text_runs))])
            if ids is not None:
                found = ids if found is None else found & ids
        return None if found is None else Q(pk__in=sorted(found))

    def _visible(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608 - constants: O(1)
            return int(cursor.fetchone()[0])

    def _page_scans(self, words: list[str]) -> bool:
        """Whether the first page of this search will be read by the ordered scan (page()), as
        its last count in this process says: then the count needs no sort. Unknown: taken as
        not (Groonga sorts what it counts; wasted, once, when the search is common)."""
        known = _hint(" ".join(words))
        return known is not None and PAGE_SIZE * self._visible() <= SELECT_SCAN_ROWS * known

    def _page_by_ordered_scan(self, words: list[str], *, offset: int, limit: int) -> list[int]:
        """The page, or fewer ids once SCAN_BOUND rows were examined (LIMIT ROWS EXAMINED):
        the estimate assumes matches spread evenly over the order, which they may not."""
        # Decided words hold only letters and digits: no LIKE wildcard to escape.
        where = " AND ".join(["(name LIKE %s OR brief LIKE %s)"] * len(words))
        params: list[Any] = [f"%{word}%" for word in words for _ in range(2)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {COURSE_TABLE} FORCE INDEX (course_listing) "  # noqa: S608
                f"WHERE {VISIBLE} AND {where} ORDER BY orders, id LIMIT %s OFFSET %s "
                "ROWS EXAMINED %s",
                [*params, limit, offset, SCAN_BOUND],
            )
            return [row[0] for row in cursor.fetchall()]

    def index(self, course_ids: Iterable[int], *, until_commit: bool = False) -> None:
        ids = list(course_ids)
        if not ids:
            return
        _writes[0] += 1
        marks = _placeholders(ids)
        with connection.cursor() as cursor:
            if until_commit:
                # Marked first: from now until the commit clears it, LIKE decides every search.
                rows = ", ".join(["(%s, %s)"] * len(ids))
                now = int(time.time())
                cursor.execute(
                    f"INSERT INTO {PENDING} (id, marked) VALUES {rows} "  # noqa: S608 - constants
                    "ON DUPLICATE KEY UPDATE marked = VALUES(marked)",
                    [value for pk in ids for value in (pk, now)],
                )
            # Before the commit a course keeps its old text and stays indexed even if hidden
            # (a rollback must leave it findable); after, the entry is the committed course.
            keep = "CONCAT(body, '\\n', VALUES(body))" if until_commit else "VALUES(body)"
            long_run = "long_run OR VALUES(long_run)" if until_commit else "VALUES(long_run)"
            cursor.execute(
                f"INSERT INTO {TABLE} (id, body, orders, long_run) {_ROWS} AND id IN ({marks}) "
                f"ON DUPLICATE KEY UPDATE body = {keep}, orders = VALUES(orders), "
                f"long_run = {long_run}",
                ids,
            )
            if until_commit:
                return
            visible = f"SELECT id FROM {COURSE_TABLE} WHERE id IN ({marks}) AND {VISIBLE}"  # noqa: S608
            cursor.execute(visible, ids)
            shown = {row[0] for row in cursor.fetchall()}
            hidden = [pk for pk in ids if pk not in shown]
            if hidden:
                drop = f"DELETE FROM {TABLE} WHERE id IN ({_placeholders(hidden)})"  # noqa: S608
                cursor.execute(drop, hidden)
            cursor.execute(f"DELETE FROM {PENDING} WHERE id IN ({marks})", ids)  # noqa: S608

    def remove(self, course_ids: Iterable[int]) -> None:
        ids = list(course_ids)
        if not ids:
            return
        _writes[0] += 1
        with connection.cursor() as cursor:
            for table in (TABLE, PENDING):
                drop = f"DELETE FROM {table} WHERE id IN ({_placeholders(ids)})"  # noqa: S608
                cursor.execute(drop, ids)

    def decides(self, words: list[str]) -> frozenset[str]:
        """The words whose index match is exactly the LIKE predicate (see EXACT), none while a
        write is uncommitted (its entry may hold text the course no longer has)."""
        exact = frozenset(word for word in words if is_exact(word))
        if _number_word(words):
            exact = frozenset(words)  # text and prices, counted and paged exactly (above)
        if not exact:
            return exact
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MIN(marked) FROM {PENDING}")  # noqa: S608 - constants
            oldest = cursor.fetchone()[0]
        if oldest is None:
            return exact
        if oldest < time.time() - STALE_MARK_SECONDS:
            self._repair_stale_marks()
        return frozenset()  # this search re-checks; the next one may not need to

    def _repair_stale_marks(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {PENDING} WHERE marked < %s LIMIT 1000",  # noqa: S608 - constants
                [int(time.time()) - STALE_MARK_SECONDS],
            )
            stale = [row[0] for row in cursor.fetchall()]
        logger.info("search index: re-indexing %s courses a rolled-back write marked", len(stale))
        self.index(stale)

    def count(self, words: list[str]) -> int:
        """How many visible courses hold every word (all decided). With the mroonga_command
        UDF, Groonga's own select counts (2-3 times faster than SQL for a common word) and,
        unless the ordered scan will read the first page, sorts the first FIRST_ROWS matches
        for page() in the same walk; without it Mroonga counts from the index's posting lists
        without reading a row (status Mroonga_count_skip). A rare word is read first when there
        is one (_few_matches); a single number counts its text and prices (_number_count)."""
        number = _number_word(words)
        if number:
            return _number_count(*number)
        _forget_reads()  # what the page may reuse is this count's read, none before it
        _rows, counted = _few_matches(words)
        if counted is not None:
            return counted
        rows = 0 if self._page_scans(words) else FIRST_ROWS
        selected = groonga.select(TABLE, words, rows=rows)
        if selected is not None:
            if rows:
                _remember(("first", *words), selected)
            _learn(" ".join(words), selected.count)  # one word: its own hint
            return selected.count
        with connection.cursor() as cursor:
            count = f"SELECT COUNT(*) FROM {TABLE} WHERE {_MATCH}"  # noqa: S608 - constants
            cursor.execute(count, [_boolean_query(words)])
            found = int(cursor.fetchone()[0])
        if len(words) == 1:
            _learn(words[0], found)
        return found

    def page(
        self,
        words: list[str],
        *,
        descending: bool,
        offset: int,
        limit: int,
        count: int | None = None,
    ) -> list[int]:
        """Ids of a page of the visible courses holding every word (all decided), by `orders`
        (descending: -orders) then id.

        Mroonga sorts the matches inside Groonga and reads only `limit` rows (status
        Mroonga_fast_order_limit), but it still collects every match first: 200 ms for a word in
        half the catalog. When `count` (the search's) says the word is that common, walking
        the visible courses in (orders, id) order (index course_listing) and testing each with
        LIKE reaches the page after about (offset + limit) * visible / count rows instead.
        The matches the count just read (a rare word's, _few_matches, or the first ones
        Groonga's select sorted) need no query at all; otherwise, with the UDF, Groonga's
        select sorts the page in place of Mroonga's SQL.
        """
        number = _number_word(words)
        if number:
            word, price = number
            return _number_page(word, price, descending=descending, offset=offset, limit=limit)
        few = _reusable(words)
        if few is None and len(words) > 1 and _known_rare(words):
            # The count came from the cache: read the rare word first here, as the count did,
            # rather than walking every word's phrase (`Rovelnofi Django` walked Django's).
            few, _count = _few_matches(words)
        if few is not None:
            if descending:
                few = sorted(few, key=lambda row: (-row[0], row[1]))
            return [pk for _orders, pk in few[offset : offset + limit]]
        first = _first_rows(words, descending=descending, offset=offset, limit=limit)
        if first is not None:
            return first
        if not descending and count and (offset + limit) * self._visible() <= SCAN_ROWS * count:
            ids = self._page_by_ordered_scan(words, offset=offset, limit=limit)
            if len(ids) == min(limit, count - offset):
                return ids
            # The matches sit late in that order (ordering and text correlate): the scan
            # stopped at its bound; Mroonga sorts instead.
        selected = groonga.select(TABLE, words, rows=limit, offset=offset, descending=descending)
        if selected is not None:
            return [pk for _orders, pk in selected.rows]
        direction = "DESC" if descending else "ASC"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {TABLE} WHERE {_MATCH} "  # noqa: S608 - constants
                f"ORDER BY orders {direction}, id ASC LIMIT %s OFFSET %s",
                [_boolean_query(words), limit, offset],
            )
            return [row[0] for row in cursor.fetchall()]

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
            # The new table holds committed rows only, so earlier marks are moot: a write still
            # open rewrites its entry when it commits (or is caught up below).
            cursor.execute(_PENDING_TABLE)
            cursor.execute(f"DELETE FROM {PENDING}")  # noqa: S608 - constants
            count = build_table(cursor, f"{TABLE}_new")
            new, live = lexicon.build_table_name(f"{TABLE}_new"), lexicon.build_table_name(TABLE)
            old = lexicon.build_table_name(f"{TABLE}_old")
            if table_engine(cursor) is None:
                cursor.execute(f"DROP TABLE IF EXISTS {live}")
                cursor.execute(f"RENAME TABLE {TABLE}_new TO {TABLE}, {new} TO {live}")
            else:
                if table_engine(cursor, live) is None:  # a table built before the word index
                    cursor.execute(f"CREATE TABLE {live} LIKE {new}")
                cursor.execute(
                    f"RENAME TABLE {TABLE} TO {TABLE}_old, {TABLE}_new TO {TABLE}, "
                    f"{live} TO {old}, {new} TO {live}"
                )
                cursor.execute(f"DROP TABLE {TABLE}_old, {old}")
        late = list(Course.objects.filter(updated_time__gte=since).values_list("id", flat=True))
        for first in range(0, len(late), 1000):
            self.index(late[first : first + 1000])
        logger.info("search index rebuilt: %s courses in %.1fs", count, time.time() - started)
        return count

    def problem(self) -> str:
        with connection.cursor() as cursor:
            if not engine_available(cursor):
                return "SEARCH_BACKEND=mroonga but the Mroonga engine is not loaded"
            if table_engine(cursor) != "Mroonga" or table_engine(cursor, PENDING) != "Mroonga":
                return f"SEARCH_BACKEND=mroonga but {TABLE} is missing (rebuild_search_index)"
            cursor.execute(
                "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                "AND TABLE_NAME = %s AND COLUMN_NAME = 'long_run'",
                [TABLE],
            )
            if cursor.fetchone() is None:
                return f"SEARCH_BACKEND=mroonga but {TABLE} is out of date (rebuild_search_index)"
        return ""
