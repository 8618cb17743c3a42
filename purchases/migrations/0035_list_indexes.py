"""The bill lists at a chain's scale (issue 30). docs/performance.md lists each index with the query
it serves.

- A till's bills in the list's order (newest first, then by id): the till's own index takes the
  list's time and id as its next keys, so the admin's list filtered by till reads its page in order
  from it (no sort of the till's bills) and counts them from it. It replaces the till's index, built
  before the old one is dropped.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cashdrawer", "0018_store_of_drawer_movements"),
        ("purchases", "0034_store_of_lines_and_payments"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(fields=["till", "created_at", "id"], name="purchase_till_created_id"),
        ),
        migrations.AlterField(
            model_name="purchase",
            name="till",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cashdrawer.till",
            ),
        ),
    ]
