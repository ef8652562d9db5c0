"""CourseSection.free_trail is spelt free_trial in code; the column keeps its old name.

State only: the database is not touched (`sqlmigrate course 0004` prints no SQL).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("course", "0003_discount_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("coursesection", "free_trail", "free_trial"),
                migrations.AlterField(
                    model_name="coursesection",
                    name="free_trial",
                    field=models.BooleanField(
                        db_column="free_trail", default=False, verbose_name="是否可试看"
                    ),
                ),
            ],
        ),
    ]
