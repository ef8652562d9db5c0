"""The Mroonga search table (apps/course/search/mroonga.py) where the server has the engine.

On SQLite, or a MariaDB without mariadb-plugin-mroonga, nothing happens: search stays LIKE, and
`manage.py rebuild_search_index` creates the table once the engine is installed. Price and
discount price get indexes: a numeric search word may match either.
"""

from django.db import migrations, models


def create_search_table(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    from apps.course.search import mroonga

    with connection.cursor() as cursor:
        if mroonga.engine_available(cursor):
            mroonga.build_table(cursor)


def drop_search_table(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute("DROP TABLE IF EXISTS luffy_course_search")
        schema_editor.execute("DROP TABLE IF EXISTS luffy_course_search_pending")


class Migration(migrations.Migration):
    dependencies = [
        ("course", "0005_course_document"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="course",
            index=models.Index(fields=["price"], name="course_price"),
        ),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(fields=["discount_price"], name="course_discount_price"),
        ),
        migrations.RunPython(create_search_table, drop_search_table, elidable=False),
    ]
