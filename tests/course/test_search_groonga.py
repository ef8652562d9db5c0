"""Groonga's own select (apps/course/search/accelerators/groonga.py) answers exactly what Mroonga's
SQL does: the names it is given are the ones Mroonga made, hostile words are escaped, and it
sees every write when MATCH sees it (Mroonga has no transactions). Needs MariaDB with Mroonga."""

from __future__ import annotations

import json
import random

import pytest
from django.core.checks import run_checks
from django.db import connection, transaction
from django.test import Client, TestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.course.search import table
from apps.course.search.accelerators import groonga, lexicon
from apps.course.search.mroonga import TABLE, MroongaSearch, is_exact
from tests.factories import CourseFactory

from .helpers import SEARCH_URL
from .helpers import mroonga_sql_count as sql_count

pytestmark = [pytest.mark.django_db, pytest.mark.mysql_only]


def command(*args: str) -> object:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {groonga.UDF}({', '.join(['%s'] * len(args))})", list(args))
        return json.loads(cursor.fetchone()[0])


def sql_page(words: list[str], *, descending: bool, offset: int, limit: int) -> list[int]:
    query = " ".join(f"+{groonga.phrase(word)}" for word in words)
    direction = "DESC" if descending else "ASC"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {TABLE} WHERE MATCH(body) AGAINST(%s IN BOOLEAN MODE) "  # noqa: S608
            f"ORDER BY orders {direction}, id LIMIT %s OFFSET %s",
            [query, limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]


def selected(words: list[str], **kwargs) -> groonga.Selected:
    found = groonga.select(TABLE, words, **kwargs)
    assert found is not None, "Groonga's select did not answer"
    return found


def test_the_groonga_names_are_the_ones_mroonga_made_for_the_table_and_its_index(mroonga):
    CourseFactory(name="Python")  # the table exists (the fixture emptied it)
    (header, *columns) = command("column_list", "table", TABLE)
    names = [field[0] for field in header]
    by_name = {row[names.index("name")]: row for row in columns}
    assert by_name["_key"][names.index("range")] == "Int64"  # the primary key: our id
    assert by_name["body"][names.index("range")] == "LongText"
    assert by_name["orders"][names.index("range")] == "Int32"
    assert by_name["long_run"][names.index("range")] == "Int8"
    (header, *tables) = command("table_list")
    names = [field[0] for field in header]
    lexicons = {
        row[names.index("name")]: row
        for row in tables
        if row[names.index("name")].startswith(f"{TABLE}#")
    }
    # Two FULLTEXT indexes on body (each named in every select) and long_run's.
    tokenizers = {
        f"{TABLE}#{table.BIGRAM_INDEX}": "TokenBigramSplitSymbolAlphaDigit",
        f"{TABLE}#{lexicon.INDEX}": "TokenBigram",
    }
    assert set(lexicons) == {*tokenizers, f"{TABLE}#long_run"}
    for name, tokenizer in tokenizers.items():
        assert lexicons[name][names.index("default_tokenizer")] == tokenizer
        assert lexicons[name][names.index("normalizer")] == "NormalizerMySQLUnicodeCI"
        (header, *index_columns) = command("column_list", "table", name)
        columns = [field[0] for field in header]
        sources = [row[columns.index("source")] for row in index_columns]
        assert [f"{TABLE}.body"] in sources


def test_mariadbs_match_reads_the_bigram_index_not_the_word_index(mroonga):
    """MATCH(body) takes the first FULLTEXT index on body: a piece of a word finds it (the
    word index alone would need the whole run)."""
    CourseFactory(name="Kamirovel入门")
    assert sql_count(["amirove"]) == 1
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN SELECT id FROM {TABLE} WHERE MATCH(body) AGAINST('+\"ka\"' IN BOOLEAN MODE)"  # noqa: S608
        )
        header = [column[0] for column in cursor.description]
        assert cursor.fetchone()[header.index("key")] == table.BIGRAM_INDEX


def test_a_phrase_quotes_the_word_and_escapes_backslashes_and_quotes():
    assert groonga.phrase("python") == '"python"'
    assert groonga.phrase('a"b') == '"a\\"b"'
    assert groonga.phrase("a\\b") == '"a\\\\b"'
    assert groonga.phrase('\\"') == '"\\\\\\""'
    assert groonga.query(["OR", "-x"]) == '"OR" "-x"'


def test_only_letters_digits_and_ideographs_are_decided_so_reach_groonga():
    for word in ("Python", "k8s", "数据", "Python实战"):
        assert is_exact(word)
    for word in ('py"thon', "a\\b", "(ab)", "ab*", "-ab", "a b", "ＡＢ", "é1", "ab🙂", "199"):
        assert not is_exact(word)


PIECES = [*"\"\\()*+-~<>@^:=!&|'` \t%_", "OR", "AND", "NOT", "ab", "数据", "Ｐｙ", "é", "🙂", "x"]
# No NUL: Mroonga's MATCH (the reference here) cuts its query there; no decided word holds one.
HOSTILE = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join) | st.text(
    st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1, max_size=300
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(word=HOSTILE)
def test_hostile_words_reach_groonga_as_one_phrase_and_count_as_mroonga_counts(mroonga, word):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {TABLE} (id, body, orders) VALUES (1, %s, 0), (2, %s, 1), "  # noqa: S608
            "(3, 'python 数据 OR ab', 2)",
            [word, f"before {word} after"],
        )
    found = selected([word], rows=10)  # never a syntax error, whatever the word holds
    assert found.count == sql_count([word])
    assert [pk for _orders, pk in found.rows] == sql_page(
        [word], descending=False, offset=0, limit=10
    )
    if any(ch.isalnum() for ch in word):
        assert {1, 2} <= {pk for _orders, pk in found.rows}, word  # the word finds itself


def catalog(rng: random.Random, size: int) -> None:
    vocabulary = ("python", "Python实战", "数据", "数据分析", "go", "k8s", "学习", "aa", "abab")
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(size):
            CourseFactory(
                name=" ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 3))),
                brief=rng.choice(vocabulary),
                orders=rng.randrange(4),
            )


# Latin words are answered through the word index (apps/course/search/lexicon.py): whole runs
# and pieces of runs, which only the union of the keys holding them finds.
SEARCHES = (
    ["python"], ["数据"], ["数据", "python"], ["abab"], ["aa"], ["k8s", "学习"], ["zz"],
    ["ytho"], ["bab"], ["ytho", "数据"], ["ab", "thon"],
)  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_count_and_pages_are_mroongas_in_both_orders_at_every_offset(mroonga, seed):
    rng = random.Random(f"groonga-{seed}")
    catalog(rng, 60)
    for words in SEARCHES:
        assert selected(words, rows=0).count == sql_count(words)
        for descending in (False, True):
            for offset, limit in ((0, 10), (0, 50), (3, 5), (20, 10), (100, 10)):
                found = selected(words, rows=limit, offset=offset, descending=descending)
                expected = sql_page(words, descending=descending, offset=offset, limit=limit)
                assert [pk for _orders, pk in found.rows] == expected, (words, descending)
                assert found.count == sql_count(words)


def counts_agree(words: list[str]) -> int:
    found = selected(words, rows=0).count
    assert found == sql_count(words)
    return found


@pytest.mark.django_db(transaction=True)
def test_select_sees_every_write_when_match_sees_it_committed_or_not(mroonga):
    """Mroonga cannot roll back: an uncommitted save writes the index at once (old and new
    text), a rollback leaves it; Groonga's select must count what MATCH counts at every step."""
    course = CourseFactory(name="Elixir入门")
    assert counts_agree(["elixir"]) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        course.name = "Haskell进阶"
        course.save()
        assert counts_agree(["haskell"]) == 1  # pending: both texts, for both paths
        assert counts_agree(["elixir"]) == 1
        raise RuntimeError("the edit fails after the save")
    assert counts_agree(["haskell"]) == 1  # left by the rollback (marked pending)
    course.refresh_from_db()
    course.save()  # a committed save rewrites the entry
    assert counts_agree(["haskell"]) == 0
    course.is_show = False
    course.save()
    assert counts_agree(["elixir"]) == 0
    course.is_show = True
    course.save()
    assert counts_agree(["elixir"]) == 1
    course.delete()
    assert counts_agree(["elixir"]) == 0


def test_without_the_udf_searches_take_the_sql_path_and_answer_the_same(
    mroonga, without_groonga, client
):
    catalog(random.Random("no-udf"), 30)
    assert groonga.select(TABLE, ["python"], rows=10) is None
    assert MroongaSearch().count(["python"]) == sql_count(["python"])
    assert client.get(SEARCH_URL, {"search": "python"}).json()["count"] == sql_count(["python"])


def test_a_udf_dropped_after_it_was_found_sends_the_next_search_to_sql(mroonga):
    catalog(random.Random("dropped"), 30)
    assert groonga.available()
    from .conftest import _as_admin

    _as_admin(f"DROP FUNCTION IF EXISTS {groonga.UDF}")
    try:
        assert groonga.select(TABLE, ["python"], rows=0) is None  # 1305: SQL from now on
        assert not groonga.available()
        assert MroongaSearch().count(["python"]) == sql_count(["python"])
    finally:
        _as_admin(groonga.CREATE_UDF)
        groonga.forget()
    assert groonga.available()


@pytest.mark.django_db(transaction=True)
def test_the_system_check_warns_without_the_udf_and_readiness_stays_ready(mroonga):
    CourseFactory(name="Elixir入门")
    assert not [w for w in run_checks(databases=["default"]) if w.id == "course.W003"]
    from .conftest import _as_admin

    _as_admin(f"DROP FUNCTION IF EXISTS {groonga.UDF}")
    groonga.forget()
    try:
        warnings = [w for w in run_checks(databases=["default"]) if w.id.startswith("course.")]
        assert [w.id for w in warnings] == ["course.W003"]
        assert "CREATE FUNCTION IF NOT EXISTS mroonga_command" in warnings[0].hint
        assert Client().get("/health/ready/").status_code == 200
    finally:
        _as_admin(groonga.CREATE_UDF)
        groonga.forget()


def test_a_failed_look_for_the_udf_takes_sql_for_that_search_and_asks_again(mroonga):
    from django.db import OperationalError

    catalog(random.Random("lost"), 20)
    groonga.forget()

    def lost(execute, sql, params, many, context):
        if f"{groonga.UDF}('status')" in sql:
            raise OperationalError(2013, "Lost connection to server during query")
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(lost):
            assert groonga.select(TABLE, ["python"], rows=0) is None  # SQL for this one
            assert MroongaSearch().count(["python"]) == sql_count(["python"])
        assert groonga.available()  # asked again, and found
        assert selected(["python"], rows=0).count == sql_count(["python"])
    finally:
        groonga.forget()
