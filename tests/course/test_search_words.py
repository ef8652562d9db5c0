"""Latin words through the word index (apps/course/search/accelerators/lexicon.py): the union of
the lexicon keys holding a word answers exactly what LIKE finds, through hostile texts, writes
and a lexicon that grows; what it cannot decide goes to the bigram phrase. Needs MariaDB with
Mroonga and the mroonga_command UDF (scripts/mariadb.sh creates it)."""

from __future__ import annotations

import json
import random

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test import TestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.course.models import Course
from apps.course.search import table
from apps.course.search.accelerators import groonga, lexicon
from apps.course.search.mroonga import PENDING, TABLE, MroongaSearch
from tests.factories import CourseFactory

from .helpers import mroonga_sql_count as sql_count

pytestmark = [pytest.mark.django_db, pytest.mark.mysql_only]


@pytest.fixture
def words_index(mroonga):
    """The mroonga fixture (empty index, SEARCH_BACKEND=mroonga) with the UDF, which the word
    index is only used through."""
    if not groonga.available():
        pytest.fail("the test server has no mroonga_command UDF (scripts/mariadb.sh creates it)")


def like_ids(word: str) -> list[tuple[int, int]]:
    """(orders, id) of the visible courses whose name or brief holds `word`, by LIKE."""
    held = Q(name__icontains=word) | Q(brief__icontains=word)
    rows = Course.objects.visible().filter(held).values_list("orders", "id")
    return sorted(rows)


def selected(words: list[str], **kwargs) -> groonga.Selected:
    found = groonga.select(TABLE, words, **kwargs)
    assert found is not None, "Groonga's select did not answer"
    return found


def answers_as_like(word: str) -> None:
    """Count and every page, both orders, through the word index's select and the backend."""
    expected = like_ids(word)
    descending = sorted(expected, key=lambda row: (-row[0], row[1]))
    assert selected([word], rows=0).count == len(expected), word
    assert MroongaSearch().count([word]) == len(expected), word
    for offset, limit in ((0, 10), (0, 50), (1, 2), (3, 5), (7, 10)):
        for rows, desc in ((expected, False), (descending, True)):
            page = [pk for _orders, pk in rows[offset : offset + limit]]
            found = selected([word], rows=limit, offset=offset, descending=desc)
            assert [pk for _orders, pk in found.rows] == page, (word, desc, offset)
            assert MroongaSearch().page([word], descending=desc, offset=offset, limit=limit) == page


def fresh_catalog(texts: list[tuple[str, str]]) -> None:
    """Exactly these courses (name, brief), visible, indexed as a commit indexes them."""
    Course.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - constants
        cursor.execute(f"DELETE FROM {PENDING}")  # noqa: S608 - constants
    with TestCase.captureOnCommitCallbacks(execute=True):
        for n, (name, brief) in enumerate(texts):
            CourseFactory(
                name=name, brief=brief, orders=n % 3, is_show=True, is_delete=False, status=0
            )


# Pieces around which the collation and the normaliser could disagree: case, accents (composed
# and combining), full-width letters, ß/ss, ligatures, long s, the Kelvin sign, dotless i,
# Greek and Cyrillic letters inside a run, digits, symbols, blanks and ideographs next to
# letters, zero-width and soft hyphen characters.
PIECES = (
    "ka", "KA", "mi", "rove", "l", "Kamirovel", "amirove", "py", "thon", "Python", "ss", "ß",
    "Straße", "é", "e\u0301", "É", "ＰＹ", "ｔｈｏｎ", "ﬁ", "fi", "ſ", "s", "\u212a", "k", "ı",
    "i", "α", "Ж", "3", "42", "-", ".", "_", "'", " ", "\n", "，", "学", "习", "\u200b", "\u00ad",
    "Æ", "ae", "ø", "o", "Ⅻ", "xii",
)  # fmt: skip
# ... and any letter, mark, number, punctuation, symbol or format character.
ANY = st.text(
    st.characters(
        categories=("L", "M", "N", "Pc", "Pd", "Po", "Zs", "S", "Cf"), exclude_characters="\x00"
    ),
    max_size=3,
)
TEXT = st.lists(st.sampled_from(PIECES) | ANY, min_size=0, max_size=10).map("".join)
LETTERS = "abeiklmoprstvxyKAMIROVELPYTHONS"


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=6),
    word=st.text(alphabet=LETTERS, min_size=2, max_size=6),
    pick=st.integers(min_value=0),
)
def test_a_latin_word_is_counted_and_paged_as_like_finds_it_through_hostile_texts(
    words_index, texts, word, pick
):
    fresh_catalog(texts)
    # Half the time a piece of a text's own letters, so the word is found inside longer runs.
    letters = [run for name, brief in texts for run in lexicon.WORD.findall(f"{name}\n{brief}")]
    if letters and pick % 2:
        text = letters[pick % len(letters)]
        start = (pick // 2) % (len(text) - 1)
        word = text[start : start + 2 + (pick // 7) % 4]
    plan = lexicon.plan(TABLE, [word], refresh=True)
    assert plan is not None and word in plan.keys  # the word index answers, not the phrase
    answers_as_like(word)
    assert selected([word], rows=0).count == sql_count([word])  # and as MATCH does


def test_a_word_inside_longer_runs_is_found_through_every_key_holding_it(words_index):
    fresh_catalog(
        [
            ("Kamirovel入门", ""),
            ("xamirovey", "Camirov3"),
            ("AMIROVE", ""),
            ("ami rove", "amir-ove"),  # split runs: LIKE does not find it either
            ("", "KAMÍROVEL"),
        ]
    )
    plan = lexicon.plan(TABLE, ["amirov"], refresh=True)
    assert plan is not None
    # Every key holding it (keys of earlier tests' texts stay: Groonga never removes one).
    assert {"KAMIROVEL", "XAMIROVEY", "CAMIROV", "AMIROVE"} <= set(plan.keys["amirov"])
    assert all("AMIROV" in key for key in plan.keys["amirov"])
    assert "AMI" not in plan.keys["amirov"]
    assert len(like_ids("amirov")) == 4  # not the split ones
    answers_as_like("amirov")


def test_several_words_latin_and_chinese_count_and_page_as_like(words_index):
    rng = random.Random("words-several")
    vocabulary = ("Kamirovel", "Python", "pythonic", "学习", "数据", "Redis", "redisson", "ka")
    fresh_catalog(
        [
            (
                " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 3))),
                rng.choice(vocabulary),
            )
            for _ in range(40)
        ]
    )
    for words in (
        ["python", "学习"],
        ["redis", "thon"],
        ["amirov", "数据", "ython"],
        ["zzq", "ka"],
    ):
        held = Q()
        for word in words:
            held &= Q(name__icontains=word) | Q(brief__icontains=word)
        expected = sorted(Course.objects.visible().filter(held).values_list("orders", "id"))
        found = selected(words, rows=50)
        assert found.count == len(expected) == sql_count(words), words
        assert [pk for _orders, pk in found.rows] == [pk for _orders, pk in expected], words


def test_a_word_no_key_holds_is_counted_zero_without_a_select(words_index):
    fresh_catalog([("Python", "Django")])
    lexicon.plan(TABLE, ["python"], refresh=True)
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert selected(["zzqx"], rows=10) == groonga.Selected(count=0, rows=[])
    assert len(statements) == 1 and "mroonga_command('select'" not in statements[0], statements


@pytest.mark.django_db(transaction=True)
def test_the_word_index_sees_every_write_when_match_sees_it_and_new_words_at_once(words_index):
    """Mroonga cannot roll back: an uncommitted save adds the new text at once, a rollback
    leaves it; the lexicon only grows, and this process's mirror catches up before it answers."""
    course = CourseFactory(name="Elixirion入门")
    assert lexicon.plan(TABLE, ["lixir"], refresh=False) is not None
    assert selected(["lixir"], rows=0).count == sql_count(["lixir"]) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        course.name = "Haskellion进阶"  # a key this process has never seen
        course.save()
        assert selected(["askel"], rows=0).count == sql_count(["askel"]) == 1
        assert selected(["lixir"], rows=0).count == sql_count(["lixir"]) == 1
        raise RuntimeError("the edit fails after the save")
    assert selected(["askel"], rows=0).count == sql_count(["askel"]) == 1  # left by the rollback
    course.refresh_from_db()
    course.save()  # a committed save rewrites the entry
    assert selected(["askel"], rows=0).count == sql_count(["askel"]) == 0
    other = CourseFactory(name="Zanzibarian", brief="")  # a new key from another writer
    assert selected(["anziba"], rows=10).rows == [(other.orders, other.pk)]
    course.is_show = False
    course.save()
    assert selected(["lixir"], rows=0).count == sql_count(["lixir"]) == 0
    course.is_show = True
    course.save()
    assert selected(["lixir"], rows=0).count == sql_count(["lixir"]) == 1
    course.delete()
    assert selected(["lixir"], rows=0).count == sql_count(["lixir"]) == 0


def lexicon_keys() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {groonga.UDF}('select', 'table', %s, 'output_columns', '_id,_key', "
            "'limit', '-1', 'cache', 'no')",
            [lexicon.lexicon_name(TABLE)],
        )
        ((_count,), _columns, *rows) = json.loads(cursor.fetchone()[0])[0]
    return {key: pk for pk, key in rows}


@pytest.mark.django_db(transaction=True)
def test_groonga_never_removes_a_key_from_the_word_lexicon(words_index):
    """What the mirror relies on: keys only arrive, with ids counting up (lexicon.py)."""
    course = CourseFactory(name="Quokkarian")
    before = lexicon_keys()
    assert "QUOKKARIAN" in before
    assert sorted(before.values()) == list(range(1, len(before) + 1))
    course.name = "Wombatish"
    course.save()
    course.delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - constants
    after = lexicon_keys()
    assert before.items() <= after.items()
    assert sorted(after.values()) == list(range(1, len(after) + 1))


def test_a_text_with_a_run_too_long_for_the_lexicon_turns_the_word_index_off(words_index):
    """Groonga drops a token over 4,096 bytes from the lexicon: LIKE finds 'abab' in such a
    text but no key holds it. The course is marked long_run and the bigram phrase answers."""
    fresh_catalog([("abab", ""), ("x", "ab" * 3000), ("y", "ab" * (table.LONG_RUN // 2 - 1))])
    assert lexicon.plan(TABLE, ["abab"], refresh=True) is None
    answers_as_like("abab")
    assert len(like_ids("abab")) == 3
    Course.objects.filter(name="x").first().delete()
    with TestCase.captureOnCommitCallbacks(execute=True):
        MroongaSearch().remove(Course.objects.filter(name="x").values_list("id", flat=True))
    fresh_catalog([("abab", ""), ("y", "ab" * (table.LONG_RUN // 2 - 1))])
    assert lexicon.plan(TABLE, ["abab"], refresh=True) is not None  # 998 letters: not marked
    answers_as_like("abab")


def test_a_word_too_many_keys_hold_takes_the_bigram_phrase(words_index, monkeypatch):
    fresh_catalog([(f"Qwyzt{c}ub", "") for c in "abcdefgh"] + [("Qwyztub", "")])
    monkeypatch.setattr(lexicon, "MAX_KEYS", 4)
    lexicon.forget()  # expansions computed under the old bound
    plan = lexicon.plan(TABLE, ["qwyzt", "qwyztub"], refresh=True)
    assert plan is not None and set(plan.keys) == {"qwyztub"}  # "qwyzt": 9 keys, over the bound
    answers_as_like("qwyzt")
    answers_as_like("qwyztub")


@pytest.mark.django_db(transaction=True)
def test_a_rebuilt_table_is_read_afresh_even_when_groonga_recycles_its_ids(words_index):
    """Two rebuilds: the second lexicon may get the Groonga object id the first freed, with as
    many keys; the build token tells them apart."""
    CourseFactory(name="Kamirovel")
    answers_as_like("amiro")
    first = lexicon.plan(TABLE, ["amiro"], refresh=True)
    for name in ("Samirovo", "Tamirovo"):
        Course.objects.filter(name__startswith="Kamir").update(name=name)  # no signal: rebuild
        MroongaSearch().rebuild()  # a new table and lexicon, swapped in by RENAME
        answers_as_like("amiro")
        assert [pk for _orders, pk in selected(["amiro"], rows=5).rows] == [
            pk for _orders, pk in like_ids("amiro")
        ]
    second = lexicon.plan(TABLE, ["amiro"], refresh=False)
    assert first is not None and second is not None and second.state[0] != first.state[0]
    assert like_ids("amiro") and not like_ids("kamir")
    answers_as_like("kamir")


@pytest.mark.django_db(transaction=True)
def test_migration_0009_rebuilds_a_table_of_the_earlier_layout_and_reverses(words_index):
    """A table as rounds 9-10 built it (one FULLTEXT index, no long_run, no build token) is
    built again with both; backwards, the word index and the token go (DDL commits: outside
    the test's transaction)."""
    import importlib

    from django.db import connection as conn

    migration = importlib.import_module("apps.course.migrations.0009_search_word_index")
    CourseFactory(name="Kamirovel进阶")
    with conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}, {table.build_table_name(TABLE)}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id BIGINT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL, "
            "orders INT NOT NULL, FULLTEXT INDEX luffy_course_search_body (body) "
            "COMMENT 'tokenizer \"TokenBigramSplitSymbolAlphaDigit\"') ENGINE=Mroonga "
            "DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    assert MroongaSearch().problem()  # out of date: readiness says so until it is rebuilt
    with conn.schema_editor() as editor:
        migration.build_word_index(None, editor)
    assert MroongaSearch().problem() == ""
    assert lexicon.plan(TABLE, ["amirove"], refresh=True) is not None
    answers_as_like("amirove")
    with conn.schema_editor() as editor:
        migration.drop_word_index(None, editor)
    assert lexicon.plan(TABLE, ["amirove"], refresh=True) is None
    assert selected(["amirove"], rows=0).count == sql_count(["amirove"]) == 1
    MroongaSearch().rebuild()  # as the next tests expect it
