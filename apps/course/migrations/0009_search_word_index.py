"""The search table gets its word index and the `long_run` column (apps/course/search/lexicon.py).

Where the server has Mroonga and the table exists in the earlier layout (one FULLTEXT index, no
`long_run`), it is built again from luffy_course with both indexes and its build token, beside
the live one and swapped in by RENAME (MroongaSearch.rebuild: 45-50 s at 1,000,000 courses on a
busy 2-core machine; searches keep using the old table meanwhile). Elsewhere nothing happens.
Backwards: the word index and the token are dropped, so the earlier code's `--match_columns
body` finds the one index it expects.
"""

from django.db import migrations


def _columns(cursor, table: str) -> set[str]:
    cursor.execute(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = %s",
        [table],
    )
    return {row[0] for row in cursor.fetchall()}


def build_word_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    from apps.course.search import mroonga

    with connection.cursor() as cursor:
        columns = _columns(cursor, mroonga.TABLE)
        stale = mroonga.engine_available(cursor) and columns and "long_run" not in columns
    if stale:
        # Beside the live table, swapped in by RENAME: searches keep working meanwhile.
        mroonga.MroongaSearch().rebuild()


def drop_word_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    from apps.course.search import mroonga
    from apps.course.search.accelerators import lexicon

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s AND INDEX_NAME = %s",
            [mroonga.TABLE, lexicon.INDEX],
        )
        if cursor.fetchone():
            cursor.execute(f"ALTER TABLE {mroonga.TABLE} DROP INDEX {lexicon.INDEX}")
        cursor.execute(f"DROP TABLE IF EXISTS {lexicon.build_table_name(mroonga.TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("course", "0008_search_count"),
    ]

    operations = [
        migrations.RunPython(build_word_index, drop_word_index, elidable=False),
    ]
