"""Price indexes a numeric search counts and pages from alone (apps/course/search/mroonga.py).

A numeric search word matches a course whose price, or running discount price, equals it. With
(price, status, is_show, is_delete, orders) the visible courses at one price are counted and read
in (orders, id) order from the index; the discount's index also holds its window and the price,
so "discounted to p now, priced otherwise" needs no row either. They replace the single-column
indexes of 0006 (their prefixes).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("course", "0006_search_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="course",
            name="course_price",
        ),
        migrations.RemoveIndex(
            model_name="course",
            name="course_discount_price",
        ),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(
                fields=["price", "status", "is_show", "is_delete", "orders"],
                name="course_price_listing",
            ),
        ),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(
                fields=[
                    "discount_price",
                    "status",
                    "is_show",
                    "is_delete",
                    "orders",
                    "discount_start",
                    "discount_end",
                    "price",
                ],
                name="course_discount_listing",
            ),
        ),
    ]
