"""Course documents: the anonymous detail and chapter tree of each course, ready to serve."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("course", "0004_section_free_trial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CourseDocument",
            fields=[
                (
                    "course_id",
                    models.BigIntegerField(primary_key=True, serialize=False, verbose_name="课程"),
                ),
                ("generation", models.PositiveIntegerField(default=0)),
                ("fingerprint", models.CharField(blank=True, default="", max_length=16)),
                ("detail", models.BinaryField(null=True)),
                ("detail_expires_at", models.BigIntegerField(null=True)),
                ("chapters", models.BinaryField(null=True)),
                ("chapters_expires_at", models.BigIntegerField(null=True)),
            ],
            options={
                "verbose_name": "课程文档",
                "verbose_name_plural": "课程文档",
                "db_table": "luffy_course_document",
            },
        ),
    ]
